package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/study"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
	"github.com/spf13/pflag"
)

// runOptions are the flags shared by run and profile.
type runOptions struct {
	rgds      []string
	crds      []string
	instances int
	target    string
	readiness string
	hostProbe float64
	probeFrom []string
	qps       float64
	burst     int
	workers   int
	cpus      int
	seed      uint64
	out       string
	arrival   string
	rate      float64
	delete    bool
	update    float64
	maxTime   time.Duration
	scrape    time.Duration // virtual time between the scrapes of metrics.om
	wallLimit time.Duration
	celCost   uint64
	cpuCost   string
	quiet     bool
	real      *realOptions // run only: real mode
}

func declareRunFlags(fs *pflag.FlagSet) *runOptions {
	o := &runOptions{}
	fs.StringArrayVar(&o.rgds, "rgd", nil, "RGD YAML file (repeatable; instances are spread across the RGDs)")
	fs.StringArrayVar(&o.crds, "crd", nil, crdHelp)
	fs.IntVar(&o.instances, "instances", 100, "number of instances to create")
	fs.StringVar(&o.target, "target", "kro-defaults", "built-in target name or target YAML file")
	fs.StringVar(&o.readiness, "readiness", "", "take the kinds' readiness delays from this target (name or file) instead of --target's: e.g. a harness target with the delays its stand-in controller used")
	fs.Float64Var(&o.hostProbe, "host-probe", 0, "simulate a host whose speed probe reads this many microseconds (a real run's real.phases[].probe_us, or idle_probe_us for a target whose speed.idle is true): the target's CPU costs and latencies move from its speed.probe_us by speed.elasticity")
	fs.StringArrayVar(&o.probeFrom, "host-probe-from", nil, "--host-probe: the median of these real runs' probes of their host in their create phase (a results directory, repeatable), to predict them at the speed their host had")
	fs.Float64Var(&o.qps, "qps", 0, "what-if: a client-side QPS limit that takes effect (kro's own --client-qps does not)")
	fs.IntVar(&o.burst, "burst", 0, "client-side burst with --qps (default: 1.5 x qps)")
	fs.IntVar(&o.workers, "workers", 0, "instance workers (default: the target's)")
	fs.IntVar(&o.cpus, "cpus", 0, "vCPUs of the target (default: the target's)")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed; the same seed gives the same results")
	fs.StringVar(&o.out, "out", "", "directory for results.json, wall.pb.gz, metrics.prom and metrics.om")
	fs.DurationVar(&o.scrape, "scrape-interval", 5*time.Second, "virtual time between the scrapes of kro's metrics written to metrics.om (at least 1s)")
	fs.StringVar(&o.arrival, "arrival", "all", "instance arrival: all, rate or poisson")
	fs.Float64Var(&o.rate, "rate", 0, "instances per second for --arrival rate or poisson")
	fs.Float64Var(&o.update, "update", 0, "churn: change the spec of this fraction of instances once all are ready, and time kro's reconciling it")
	fs.BoolVar(&o.delete, "delete", false, "delete every instance once all are ready, and time the deletion")
	fs.DurationVar(&o.maxTime, "max-time", 4*time.Hour, "virtual time limit; the run stops there, incomplete")
	fs.DurationVar(&o.wallLimit, "wall-limit", 10*time.Minute, "real time limit; a runaway stops with partial results marked incomplete")
	fs.Uint64Var(&o.celCost, "cel-cost-limit", model.DefaultLimits.CELCost, "cost units one CEL evaluation may use before it fails its instance (0: no limit, as in kro v0.9.4)")
	fs.StringVar(&o.cpuCost, "cpu-cost", "model", "CPU time of in-process work: model (cost units, deterministic) or measured (this host's elapsed time, not deterministic)")
	fs.BoolVar(&o.quiet, "quiet", false, "print nothing but errors")
	return o
}

var runCmd = &command{
	name: "run",
	examples: `# 100 instances on kro's defaults; results.json, wall.pb.gz and metrics into out/run
krosim run --rgd testdata/rgd/webapp.yaml --instances 100 --out out/run
# what if kro's client were limited to 20 QPS, with 4 workers?
krosim run --rgd testdata/rgd/webapp.yaml --instances 500 --qps 20 --workers 4
# instances arriving at 20/s, then half of them changed, then all deleted
krosim run --rgd testdata/rgd/chain.yaml --instances 200 --arrival rate --rate 20 --update 0.5 --delete
# the same workload on a real cluster running kro: $KUBECONFIG (else ~/.kube/config), context kind-kro
krosim run --real --context kind-kro --rgd testdata/rgd/webapp.yaml --instances 100 --out out/real`,
	args:    "",
	summary: "simulate kro reconciling N instances of an RGD on a target, in virtual time",
	interrupt: "the simulation stops at the next event; results.json (complete: false), wall.pb.gz and\n" +
		"metrics.prom cover the virtual time reached, and krosim exits 1 (on a real cluster it stops\n" +
		"and writes nothing)",
	flags: func(fs *pflag.FlagSet) any {
		o := declareRunFlags(fs)
		o.real = declareRealFlags(fs)
		return o
	},
	run: func(e *env, o any, args []string) error {
		opts := o.(*runOptions)
		if opts.real.requested() {
			return runReal(e, opts, args)
		}
		res, err := simulate(e, opts, args)
		if err != nil {
			return err
		}
		return writeRun(e, opts, res, nil)
	},
}

// config turns flags into a run config: load the target, then apply the what-ifs.
func (o *runOptions) config() (result.Config, error) {
	if err := o.checkNumbers(); err != nil {
		return result.Config{}, usagef("%v", err)
	}
	t, err := target.Lookup(o.target)
	if err != nil {
		return result.Config{}, usagef("%v", err)
	}
	t = t.Clone()
	if o.readiness != "" {
		rt, err := target.Lookup(o.readiness)
		if err != nil {
			return result.Config{}, usagef("--readiness: %v", err)
		}
		t.Readiness = maps.Clone(rt.Readiness)
	}
	if len(o.probeFrom) > 0 {
		if o.hostProbe != 0 {
			return result.Config{}, usagef("--host-probe and --host-probe-from: give one")
		}
		p, err := probeOf(o.probeFrom, t.Speed != nil && t.Speed.Idle)
		if err != nil {
			return result.Config{}, usagef("--host-probe-from: %v", err)
		}
		o.hostProbe = p
	}
	if o.hostProbe != 0 {
		if err := t.AtSpeed(o.hostProbe); err != nil {
			return result.Config{}, usagef("--host-probe: %v", err)
		}
	}
	if o.qps > 0 {
		t.Client.QPS = o.qps
		t.Client.Burst = o.burst
		if t.Client.Burst == 0 {
			t.Client.Burst = max(1, int(o.qps*1.5))
		}
	} else if o.burst > 0 {
		return result.Config{}, usagef("--burst needs --qps")
	}
	if o.workers > 0 {
		t.Controller.Workers = o.workers
	}
	if o.cpus > 0 {
		t.VCPUs = o.cpus
	}
	switch o.cpuCost {
	case "model":
	case "measured":
		t.Cost.Measured = true
	default:
		return result.Config{}, usagef("--cpu-cost must be model or measured, not %q", o.cpuCost)
	}
	if o.real != nil { // run's flags, not profile's
		if err := intFlag("--parallel", o.real.parallel, 1, workload.MaxParallel); err != nil {
			return result.Config{}, usagef("%v", err)
		}
	}
	cfg := result.Config{RGDFiles: o.rgds, Target: t, Workload: o.workload(), Seed: o.seed, MaxTime: target.Duration(o.maxTime)}
	if o.celCost != model.DefaultLimits.CELCost {
		cfg.CELCostLimit = &o.celCost
	}
	if err := sim.Validate(cfg); err != nil {
		return result.Config{}, usagef("%v", err)
	}
	return cfg, nil
}

// workload is the workload the flags say, simulated or real.
func (o *runOptions) workload() workload.Workload {
	wl := workload.Default(o.instances)
	wl.Arrival, wl.Rate, wl.Delete, wl.Update = o.arrival, o.rate, o.delete, o.update
	if o.real != nil && o.real.parallel != workload.DefaultParallel {
		wl.Parallel = o.real.parallel // recorded only when not the default
	}
	return wl
}

// limits are the loader's limits for a run of cfg.
func limits(cfg result.Config) model.Limits {
	lim := model.DefaultLimits
	if cfg.CELCostLimit != nil {
		lim.CELCost = *cfg.CELCostLimit
	}
	return lim
}

// loadRGDs loads every --rgd file, printing every problem before failing.
// crdHelp is the --crd flag's help, shared by the commands that load RGDs.
const crdHelp = "CustomResourceDefinition YAML file typing the custom kinds the RGDs use (repeatable); CRDs in an RGD file count too"

func loadRGDs(e *env, lim model.Limits, files, crds []string) ([]*model.RGD, error) {
	if len(files) == 0 {
		return nil, usagef("--rgd is required")
	}
	if err := stdinOnce(files, crds); err != nil {
		return nil, err
	}
	rgds, failed, err := loadWatched(e, lim, files, crds)
	if err != nil {
		return nil, err
	}
	if failed {
		return nil, reportedError
	}
	return rgds, nil
}

// loadWatched is loadAll, given up at a signal. Loading does not look at the
// signal's context (a CEL compile or a type-cycle search runs to its end),
// and nothing has been written yet, so a signal while it runs ends the
// command at once rather than after the load: a hostile file that makes
// loading hang cannot outlast a single SIGTERM. The abandoned load's
// messages are dropped with it; a load that ends prints its own. A signal
// already in when the load begins is left to the command's own stop, as
// before a load there is nothing to abandon.
func loadWatched(e *env, lim model.Limits, files, crds []string) ([]*model.RGD, bool, error) {
	if e.ctx.Err() != nil {
		rgds, failed := loadAll(e, lim, files, crds)
		return rgds, failed, nil
	}
	type load struct {
		rgds   []*model.RGD
		failed bool
		msgs   bytes.Buffer
	}
	done := make(chan *load, 1)
	go func() {
		l := &load{}
		quiet := *e
		quiet.stderr = &l.msgs
		l.rgds, l.failed = loadAll(&quiet, lim, files, crds)
		done <- l
	}()
	select {
	case l := <-done:
		_, _ = e.stderr.Write(l.msgs.Bytes())
		return l.rgds, l.failed, nil
	case <-e.ctx.Done():
		return nil, false, fmt.Errorf("%w while loading the RGDs; nothing written", context.Cause(e.ctx))
	}
}

// loadAll loads every file with host compile timing, printing each file's
// problems (with source lines and carets) or read error to stderr.
func loadAll(e *env, lim model.Limits, files, crds []string) (rgds []*model.RGD, failed bool) {
	lim.Clock = time.Now
	for _, f := range crds {
		set, err := loadCRDs(e, f)
		if err != nil {
			fmt.Fprintf(e.stderr, "krosim: %s: --crd: %v\n", e.cmd, err)
			return nil, true
		}
		if lim.CRDs == nil {
			lim.CRDs = set
		} else {
			lim.CRDs.Add(set)
		}
	}
	for _, f := range files {
		gs, err := loadRGDFile(e, lim, f)
		var ps model.Problems
		switch {
		case errors.As(err, &ps):
			fmt.Fprintln(e.stderr, ps.Detail())
			failed = true
		case err != nil:
			fmt.Fprintf(e.stderr, "krosim: %s: %v\n", e.cmd, err)
			failed = true
		}
		rgds = append(rgds, gs...)
	}
	return rgds, failed
}

func simulate(e *env, o *runOptions, args []string) (*sim.Result, error) {
	if len(args) > 0 {
		return nil, usagef("unexpected arguments %v (RGDs go in --rgd)", args)
	}
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	rgds, err := loadRGDs(e, limits(cfg), o.rgds, o.crds)
	if err != nil {
		return nil, err
	}
	opts, release := o.simOptions(e, cfg)
	defer release()
	return sim.Run(cfg, rgds, opts)
}

// simOptions are a run's host-side hooks: the stop (a signal, or the
// wall-time limit), the progress line on a terminal, and host timing when
// the CPU cost is measured. The kernel polls Abort after every event, so it
// only loads what a timer or the signal's context stored. release stops
// them all.
func (o *runOptions) simOptions(e *env, cfg result.Config) (opts sim.Options, release func()) {
	var stop atomic.Pointer[error]
	// ctx interrupts a CEL evaluation in progress, so even one long
	// evaluation cannot outlast the stop.
	ctx, cancel := context.WithCancelCause(context.Background())
	set := func(err error) {
		if stop.CompareAndSwap(nil, &err) {
			cancel(err)
		}
	}
	timer := time.AfterFunc(o.wallLimit, func() { set(fmt.Errorf("wall-time limit %s reached", o.wallLimit)) })
	unwatch := context.AfterFunc(e.ctx, func() { set(context.Cause(e.ctx)) })
	opts.Context = ctx
	prog := newRunProgress(e.stderr, e.cmd, o.quiet)
	if prog != nil {
		opts.Progress = prog.update
	}
	opts.Abort = func() error {
		p := stop.Load()
		if p == nil {
			return nil
		}
		prog.clear()
		var sig *interrupted
		if errors.As(*p, &sig) && !o.quiet {
			// The kernel stops at the first error: this prints once.
			fmt.Fprintf(e.stderr, "krosim: %s: %v; writing the results so far, marked incomplete (%s)\n", e.cmd, *p, interruptNote)
		}
		return *p
	}
	if cfg.Target.Cost.Measured {
		opts.Meter = func() func() time.Duration {
			start := time.Now()
			return func() time.Duration { return time.Since(start) }
		}
	}
	return opts, func() {
		timer.Stop()
		unwatch()
		cancel(nil)
		prog.clear()
	}
}

// printCounts prints the time-to-ready, reconcile and API-call lines every summary shares.
func printCounts(w io.Writer, s result.Summary) {
	fmt.Fprintf(w, "  time to ready:  p50 %.3fs  p95 %.3fs  p99 %.3fs  max %.3fs\n",
		s.TimeToReady.P50, s.TimeToReady.P95, s.TimeToReady.P99, s.TimeToReady.Max)
	total := 0
	var verbs []string
	for _, v := range verb.All {
		if n := s.APICalls[v]; n > 0 {
			total += n
			verbs = append(verbs, fmt.Sprintf("%s %d", v, n))
		}
	}
	fmt.Fprintf(w, "  reconciles:     %d (%.2f per instance)\n", s.Reconciles, float64(s.Reconciles)/float64(max(1, s.InstancesTotal)))
	fmt.Fprintf(w, "  API calls:      %d (%s)\n", total, strings.Join(verbs, ", "))
}

// outputs are the files of a run directory, written only once all are ready.
type outputs map[string][]byte

func writeRun(e *env, o *runOptions, res *sim.Result, extra outputs) error {
	files, err := writeOutputs(o, res, extra)
	if err != nil {
		return err
	}
	if !o.quiet {
		printSummary(e.stdout, res, o.out, files)
	}
	return finished(o.out, res)
}

// writeOutputs renders a run's files, adds extra and writes them all into
// o.out, if it is given.
func writeOutputs(o *runOptions, res *sim.Result, extra outputs) (outputs, error) {
	dir := o.out
	files := outputs{}
	js, err := result.Encode(&res.Result)
	if err != nil {
		return nil, err
	}
	files[result.File] = js
	prom, err := res.Metrics()
	if err != nil {
		return nil, err
	}
	files["metrics.prom"] = prom
	om, err := res.OpenMetrics(o.scrape)
	if err != nil {
		return nil, err
	}
	files["metrics.om"] = om
	wall, err := wallProfile(res)
	if err != nil {
		return nil, err
	}
	files["wall.pb.gz"] = wall
	for k, v := range extra {
		files[k] = v
	}
	if dir != "" {
		if err := writeDir(dir, files); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// finished is the error of a run whose outputs are written: why it stopped
// early, and where its outputs are.
func finished(dir string, res *sim.Result) error {
	if res.Complete {
		return nil
	}
	if dir == "" {
		return fmt.Errorf("run incomplete: %s", res.Incomplete)
	}
	return fmt.Errorf("run incomplete: %s; its outputs, marked incomplete, are in %s", res.Incomplete, dir)
}

// writeDir writes every file atomically into dir, creating it.
func writeDir(dir string, files outputs) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := writeFileAtomic(filepath.Join(dir, name), files[name]); err != nil {
			return err
		}
	}
	return nil
}

func printSummary(w io.Writer, r *sim.Result, dir string, files outputs) {
	s := r.Summary
	fmt.Fprintf(w, "krosim: %s of %s on %s (%s, %s, client limiter: %s)\n",
		study.Plural(s.InstancesTotal, "instance"), rgdNames(r), r.Config.Target.Name, study.Plural(r.Config.Target.Controller.Workers, "worker"),
		study.Plural(r.Config.Target.VCPUs, "vCPU"), limiterText(r))
	if s.ConvergeSeconds != nil {
		fmt.Fprintf(w, "  converged:      %.3fs virtual (%d ready, %d failed)\n", *s.ConvergeSeconds, s.InstancesReady, s.InstancesFailed)
	} else {
		fmt.Fprintf(w, "  converged:      no (%s)\n", whyNotConverged(r))
	}
	if d := s.DurationSeconds; s.ConvergeSeconds != nil && d > *s.ConvergeSeconds {
		fmt.Fprintf(w, "  run lasted:     %.3fs virtual: %s\n", d, afterReady(r))
	}
	if s.FailedExample != "" {
		fmt.Fprintf(w, "  failed, e.g.:   %s\n", s.FailedExample)
	}
	if s.UpdateSeconds != nil {
		fmt.Fprintf(w, "  updated:        %d instances reconciled in %.3fs virtual\n", s.InstancesUpdated, *s.UpdateSeconds)
	}
	if s.DeleteSeconds != nil && s.InstancesEnd.Deleted == s.InstancesTotal {
		fmt.Fprintf(w, "  deleted in:     %.3fs virtual\n", *s.DeleteSeconds)
	} else if s.DeleteSeconds != nil {
		fmt.Fprintf(w, "  delete settled: %.3fs virtual, %d of %d instances deleted\n", *s.DeleteSeconds, s.InstancesEnd.Deleted, s.InstancesTotal)
	}
	printCounts(w, s)
	workerTime := r.WorkerSeconds()
	if workerTime > 0 {
		fmt.Fprintf(w, "  throttled:      %.1f%% of worker time, %d calls; 429s: %d\n",
			100*r.Attribution["throttle_wait"]/workerTime, r.API.ThrottledCalls, r.API.Rejected429)
		type kv struct {
			k string
			v float64
		}
		var top []kv
		for k, v := range r.Attribution {
			top = append(top, kv{k, v})
		}
		sort.Slice(top, func(i, j int) bool {
			if top[i].v != top[j].v {
				return top[i].v > top[j].v
			}
			return top[i].k < top[j].k
		})
		var parts []string
		for _, t := range top[:3] {
			parts = append(parts, fmt.Sprintf("%s %.1f%%", t.k, 100*t.v/workerTime))
		}
		fmt.Fprintf(w, "  worker time:    %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "  utilization:    workers %.1f%%, vCPUs %.1f%%; peak memory %.1f MiB (modeled)\n",
		100*r.Utilization.Workers, 100*r.Utilization.VCPUs, float64(r.Memory.PeakBytes)/(1<<20))
	printAccount(w, r)
	if r.CPUCost == "measured" {
		fmt.Fprintln(w, "  note: --cpu-cost=measured uses this host's elapsed time: results are not deterministic")
	}
	if dir != "" {
		fmt.Fprintf(w, "  wrote %s: %s\n", dir, strings.Join(slices.Sorted(maps.Keys(files)), ", "))
	}
}

// printAccount prints where every instance and object stood at the end,
// and why the run is incomplete, if it is.
func printAccount(w io.Writer, r *sim.Result) {
	s := r.Summary
	e, l := s.InstancesEnd, s.Left
	remain := "remain"
	if e.Remaining == 1 {
		remain = "remains"
	}
	fmt.Fprintf(w, "  at the end:     %d ready, %d failed, %d deleted, %d unsettled; %s %s\n",
		e.Ready, e.Failed, e.Deleted, e.Unsettled, study.Plural(e.Remaining, "instance"), remain)
	reasons := slices.Collect(maps.Keys(e.FailedReasons))
	sort.Slice(reasons, func(i, j int) bool {
		a, b := reasons[i], reasons[j]
		if e.FailedReasons[a] != e.FailedReasons[b] {
			return e.FailedReasons[a] > e.FailedReasons[b]
		}
		return a < b
	})
	for i, why := range reasons {
		if i == maxReasons {
			fmt.Fprintf(w, "                  ... %d more reasons\n", len(reasons)-i)
			break
		}
		fmt.Fprintf(w, "  failed:         %d x %s\n", e.FailedReasons[why], why)
	}
	children := fmt.Sprintf("%d children", l.Children)
	if l.Children == 1 {
		children = "1 child"
	}
	fmt.Fprintf(w, "  left in store:  %s (%s, %s, %d other)\n", study.Plural(l.Objects, "object"), study.Plural(l.Instances, "instance"), children, l.Other)
	for _, k := range l.ByKind {
		more := ""
		if k.Count > len(k.Names) {
			more = ", ..."
		}
		fmt.Fprintf(w, "                  %d %s (%s): %s%s\n", k.Count, k.Kind, k.Role, strings.Join(k.Names, ", "), more)
	}
	if !r.Complete {
		fmt.Fprintf(w, "  INCOMPLETE:     %s\n", r.Incomplete)
	}
}

// afterReady says why a run lasts past the moment every instance was ready:
// what the profile's worker time covers beyond the converge time.
func afterReady(r *sim.Result) string {
	why := "kro confirms and requeues after the last instance is ready, and the run waits for it to go idle"
	if r.Summary.UpdateSeconds != nil || r.Summary.DeleteSeconds != nil {
		why += ", then for the later phases"
	}
	return why
}

// whyNotConverged says why not every instance became ready.
func whyNotConverged(r *sim.Result) string {
	s := r.Summary
	why := fmt.Sprintf("%d of %d instances ready, %d failed", s.InstancesReady, s.InstancesTotal, s.InstancesFailed)
	if n := s.InstancesTotal - s.InstancesReady - s.InstancesFailed; n > 0 {
		why += fmt.Sprintf(", %d still in progress", n)
	}
	if !r.Complete {
		why += "; INCOMPLETE below says why the run stopped"
	}
	return why
}

// maxReasons is how many failure reasons the summary prints.
const maxReasons = 5

func rgdNames(r *sim.Result) string {
	var names []string
	for _, g := range r.RGDs {
		names = append(names, g.Name)
	}
	return strings.Join(names, ", ")
}

func limiterText(r *sim.Result) string {
	if r.API.ClientQPS > 0 {
		return fmt.Sprintf("qps %g burst %d (what-if)", r.API.ClientQPS, r.API.ClientBurst)
	}
	return "none, as in kro"
}

// probeOf is the median of real runs' probes of their host in their create
// phase, where the CPU that a converge time follows is spent: read in its
// quiet end (real.phases[0].idle_probe_us) for a target whose speed was
// (speed.idle), over the whole phase (probe_us) otherwise.
func probeOf(dirs []string, idle bool) (float64, error) {
	field := "probe_us"
	if idle {
		field = "idle_probe_us"
	}
	var probes []float64
	for _, d := range dirs {
		res, err := result.Read(d)
		if err != nil {
			return 0, err
		}
		var p float64
		if res.Real != nil && len(res.Real.Phases) > 0 {
			p = res.Real.Phases[0].SpeedProbe(idle)
		}
		if p <= 0 {
			return 0, fmt.Errorf("%s: no probe of its host (real.phases[0].%s): a simulation, or a real run from before the probe", d, field)
		}
		probes = append(probes, p)
	}
	return result.Median(probes), nil
}
