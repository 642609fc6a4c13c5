package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/workload"
	"github.com/krosim/krosim/sim/world"
)

// GCPercent is the garbage collector's percent krosim runs with (cmd/krosim
// sets it unless GOGC is set): a simulation keeps a large, long-lived heap
// (every object of the modeled cluster), and collecting less often trades
// memory for a third less CPU.
const GCPercent = 400

// Options are the host-side hooks of a run; they never change its results
// unless Meter is set.
type Options struct {
	// Abort is polled after every event, so keep it cheap (an atomic load);
	// an error stops the run, marked incomplete with the error and the
	// virtual time reached.
	Abort func() error
	// Meter measures real host time for --cpu-cost=measured (not deterministic).
	Meter func() func() time.Duration
	// HostLabels labels real host work by phase (eval, api, traversal) for host CPU profiles.
	HostLabels kro.HostLabels
	// Context, when set, interrupts a CEL evaluation in progress once
	// cancelled; Abort then stops the run.
	Context context.Context
	// Created, when set, is called once when kro has settled every
	// instance's creation, with the objects stored then: the peak of a run
	// without deletions, where a host measures memory per object. It must
	// not change the simulation.
	Created func(objects int)
	// Progress, when set, is called at checkpoints of the run: every
	// ProgressVirtual of virtual time and every ProgressEvents events, so a
	// host can show how far a long run is. It must not touch the simulation.
	Progress func(Progress)
	// Reconciled, when set, is told of every reconcile of an instance as
	// it ends (see kro.Options.Reconciled). It must not touch the simulation.
	Reconciled func(key api.Key, start, end time.Duration)
}

// Checkpoints of Options.Progress: deterministic, in virtual time and
// events, never wall time; a host throttles what it prints.
const (
	ProgressVirtual = time.Second
	ProgressEvents  = 1 << 12
)

// Progress is where a run stands at a checkpoint.
type Progress struct {
	Virtual   time.Duration // virtual time reached
	Events    uint64        // events the kernel has run
	Instances int           // instances in the workload
	Ready     int           // instances kro reports ready
	Settled   int           // instances ready or failed for good
	Deleted   int           // instances whose deletion settled
}

// Run simulates cfg's workload of rgds's instances and returns what happened.
func Run(cfg result.Config, rgds []*model.RGD, opts Options) (*Result, error) {
	return run(cfg, rgds, opts, nil)
}

func run(cfg result.Config, rgds []*model.RGD, opts Options, inspect func(*cluster)) (*Result, error) {
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	if len(rgds) == 0 {
		return nil, fmt.Errorf("no RGDs to run")
	}
	plan, err := workload.NewPlan(cfg.Workload, rgds, cfg.Seed)
	if err != nil {
		return nil, err
	}
	t := cfg.Target
	// The server's latencies draw from a stream of their own, the plan from
	// another and the world's readiness delays per object (world.Draws), so
	// adding a draw in one place never shifts another.
	k := kernel.New()
	k.Abort = opts.Abort
	srv := api.NewServer(k, t, rand.New(rand.NewPCG(cfg.Seed, 1)))
	srv.CacheStats.Bounds = result.WaitBounds
	cpu := kernel.NewCPU(t.VCPUs)
	if t.Server.SharedCPUs { // kro runs on the server's host
		cpu = srv.CPU()
	}
	ctrl := kro.New(k, t, srv, cpu, rgds, kro.Options{Meter: opts.Meter, HostLabels: opts.HostLabels, Context: opts.Context, Reconciled: opts.Reconciled})
	if t.Server.InstanceBytes > 0 || t.Server.ObjectBytes > 0 {
		srv.Store.Hold(func(k api.Key) int {
			if ctrl.IsInstance(k) {
				return t.Server.InstanceBytes
			}
			return t.Server.ObjectBytes
		})
	}
	w := world.New(k, srv.Store, t, cfg.Seed, ctrl.IsInstance)
	w.Expect(world.ReadsOf(rgds))

	c := &cluster{k: k, rgds: rgds, srv: srv, ctrl: ctrl, world: w, user: newUser(k, srv, plan.Workload.InFlight()), created: opts.Created}
	drv := workload.NewDriver(plan, c)
	// The workload starts once kro has registered its graphs; from then on
	// the driver steps after every event.
	started := false
	var werr error
	tick := checkpoints(opts.Progress, k, ctrl, len(plan.Items))
	step := func() bool {
		tick()
		if !started {
			return false
		}
		over, err := drv.Step()
		if err != nil {
			werr = err
		}
		return over
	}
	ctrl.Start(func() { started = true; step() })
	kerr := k.Run(cfg.MaxTime.D(), step)
	ctrl.Finish()
	res := (&finished{cfg: cfg, rgds: rgds, k: k, srv: srv, cpu: cpu, w: w, rep: ctrl.Report(), tl: drv.Timeline(), werr: werr, ends: c.phaseEnds}).collect()
	if inspect != nil {
		inspect(c)
	}
	k.Shutdown()
	if kerr != nil {
		res.Complete = false
		res.Incomplete = kerr.Error()
	}
	return res, nil
}

// checkpoints returns what to call after every event: it calls report at
// each checkpoint (see ProgressVirtual), or does nothing without one.
func checkpoints(report func(Progress), k *kernel.Kernel, ctrl *kro.Controller, instances int) func() {
	if report == nil {
		return func() {}
	}
	var nextTime time.Duration
	var nextEvents uint64
	return func() {
		now, events := k.Now(), k.Steps()
		if now < nextTime && events < nextEvents {
			return
		}
		nextTime = now - now%ProgressVirtual + ProgressVirtual
		nextEvents = events - events%ProgressEvents + ProgressEvents
		p := ctrl.Progress()
		report(Progress{Virtual: now, Events: events, Instances: instances, Ready: p.Ready, Settled: p.CreateSettled, Deleted: p.DeleteSettled})
	}
}
