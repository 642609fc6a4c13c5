package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
	"github.com/krosim/krosim/sim/world"
)

// Options are the host-side hooks of a run; they never change its results
// unless Meter is set.
type Options struct {
	// Abort is polled during the run; an error stops it, marked incomplete.
	Abort func() error
	// Meter measures real host time for --cpu-cost=measured (not deterministic).
	Meter func() func() time.Duration
	// HostLabel wraps real host work by phase (eval, api, traversal) for host CPU profiles.
	HostLabel func(phase string, f func())
}

// Run simulates cfg's workload of rgds's instances and returns what happened.
func Run(cfg Config, rgds []*model.RGD, opts Options) (*Result, error) {
	return run(cfg, rgds, opts, nil)
}

func run(cfg Config, rgds []*model.RGD, opts Options, inspect func(*driver)) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(rgds) == 0 {
		return nil, fmt.Errorf("no RGDs to run")
	}
	t := cfg.Target
	// Independent streams, so adding a draw in one place never shifts another.
	src := func(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(cfg.Seed, stream)) }
	k := kernel.New()
	k.Abort = opts.Abort
	srv := api.NewServer(k, t, src(1))
	cpu := kernel.NewCPU(t.VCPUs)
	ctrl := kro.New(k, t, srv, cpu, rgds, kro.Options{Meter: opts.Meter, HostLabel: opts.HostLabel})
	w := world.New(k, srv.Store, t, src(2), ctrl.IsInstance)

	d := &driver{k: k, cfg: cfg, rgds: rgds, srv: srv, ctrl: ctrl, world: w, rng: src(3)}
	ctrl.Start(d.start)
	err := k.Run(cfg.MaxTime.D(), d.done)
	ctrl.Finish()
	res := collect(cfg, rgds, k, srv, cpu, ctrl, w, d)
	if inspect != nil {
		inspect(d)
	}
	k.Shutdown()
	if err != nil {
		res.Complete = false
		res.Incomplete = err.Error()
	}
	return res, nil
}

// driver is the workload: it creates the instances once kro's graphs are
// registered, deletes them once all are ready (if asked), and decides when the run is over.
type driver struct {
	k     *kernel.Kernel
	cfg   Config
	rgds  []*model.RGD
	srv   *api.Server
	ctrl  *kro.Controller
	world *world.World
	rng   *rand.Rand

	instances []*kro.Instance
	started   bool
	createdAt time.Duration
	deleting  bool
	deleteAt  time.Duration
	updateAt  time.Duration // when the workload changed specs
	updatedAt time.Duration // when kro had reconciled every change
	updated   int
	// updateTried is set once the update phase started (or had nothing to change).
	updateTried bool
	readyAt     time.Duration
	goneAt      time.Duration
	createErr   error
}

func (d *driver) start() {
	d.started = true
	d.createdAt = d.k.Now()
	wl := d.cfg.Workload
	arrivals := wl.Arrivals(d.rng)
	for i := 0; i < wl.Instances; i++ {
		g := d.rgds[i%len(d.rgds)]
		inst := workload.Instance(g, wl.Namespace, i, d.rng)
		ext, err := workload.External(g, inst)
		if err != nil {
			d.createErr = err
			return
		}
		key := api.Key{GVR: kro.InstanceGVR(g), Namespace: inst.GetNamespace(), Name: inst.GetName()}
		d.k.After(arrivals[i], func() {
			for _, e := range ext {
				ek := api.Key{GVR: d.srv.Store.GVR(e.GetAPIVersion(), e.GetKind()), Namespace: e.GetNamespace(), Name: e.GetName()}
				if _, err := d.srv.Store.Get(ek); err != nil {
					d.world.Calls[verb.Create]++
					_, _ = d.srv.Store.Create(ek, e)
				}
			}
			d.world.Calls[verb.Create]++
			d.instances = append(d.instances, d.ctrl.Track(key, g))
			if _, err := d.srv.Store.Create(key, inst); err != nil {
				d.createErr = err
			}
		})
	}
}

// done reports whether the run is over: every instance ready (and, when
// deleting, gone), or failed for good.
func (d *driver) done() bool {
	if d.createErr != nil {
		return true
	}
	n := d.cfg.Workload.Instances
	if !d.started || len(d.instances) < n {
		return false
	}
	c := d.ctrl
	if !d.deleting {
		if c.Progress().CreateSettled < n {
			return false
		}
		if d.readyAt == 0 {
			d.readyAt = d.k.Now()
			c.EndCreatePhase()
		}
		// The update phase starts once kro is idle after creating (its
		// scheduled requeues and their reconciles done), as a real run
		// starts it.
		if !d.updateTried {
			if d.k.Pending() > 0 {
				return false
			}
			d.updateTried = true
			if d.update() {
				return false
			}
		}
		if c.Progress().UpdatePending > 0 {
			return false
		}
		if d.updateAt > 0 && d.updatedAt == 0 {
			d.updatedAt = d.k.Now()
		}
		// Let kro finish what the phase set in motion (requeues already
		// scheduled, their reconciles) before the next phase, as a real run
		// waits for kro to be idle, so both count the same reconciles.
		if d.k.Pending() > 0 {
			return false
		}
		if !d.cfg.Workload.Delete {
			return true
		}
		d.deleting = true
		d.deleteAt = d.k.Now()
		for _, in := range d.instances {
			d.world.Calls[verb.Delete]++
			_ = d.srv.Store.Delete(in.Key())
		}
		return false
	}
	if c.Progress().DeleteSettled < n {
		return false
	}
	if d.goneAt == 0 {
		d.goneAt = d.k.Now()
	}
	return d.k.Pending() == 0
}

// update changes the spec of the workload's share of ready instances and
// reports whether it changed any.
func (d *driver) update() bool {
	m := int(d.cfg.Workload.Update*float64(len(d.instances)) + 0.5)
	if m == 0 {
		return false
	}
	d.updateAt = d.k.Now()
	changed := 0
	for _, in := range d.instances {
		if changed == m {
			break
		}
		obj, err := d.srv.Store.Get(in.Key())
		if err != nil || !in.IsReady() {
			continue
		}
		d.world.Calls[verb.Update]++
		if _, err := d.srv.Store.Update(in.Key(), workload.Change(in.RGD(), obj), false); err == nil {
			d.ctrl.Updated(in)
			changed++
		}
	}
	d.updated = changed
	return changed > 0
}
