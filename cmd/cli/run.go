package cli

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
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
	wallLimit time.Duration
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
	fs.Float64Var(&o.qps, "qps", 0, "what-if: a client-side QPS limit that takes effect (kro's own --client-qps does not)")
	fs.IntVar(&o.burst, "burst", 0, "client-side burst with --qps (default: 1.5 x qps)")
	fs.IntVar(&o.workers, "workers", 0, "instance workers (default: the target's)")
	fs.IntVar(&o.cpus, "cpus", 0, "vCPUs of the target (default: the target's)")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed; the same seed gives the same results")
	fs.StringVar(&o.out, "out", "", "directory for results.json, wall.pb.gz and metrics.prom")
	fs.StringVar(&o.arrival, "arrival", "all", "instance arrival: all, rate or poisson")
	fs.Float64Var(&o.rate, "rate", 0, "instances per second for --arrival rate or poisson")
	fs.Float64Var(&o.update, "update", 0, "churn: change the spec of this fraction of instances once all are ready, and time kro's reconciling it")
	fs.BoolVar(&o.delete, "delete", false, "delete every instance once all are ready, and time the deletion")
	fs.DurationVar(&o.maxTime, "max-time", 4*time.Hour, "virtual time limit; the run stops there, incomplete")
	fs.DurationVar(&o.wallLimit, "wall-limit", 10*time.Minute, "real time limit; a runaway stops with partial results marked incomplete")
	fs.StringVar(&o.cpuCost, "cpu-cost", "model", "CPU time of in-process work: model (cost units, deterministic) or measured (this host's elapsed time, not deterministic)")
	fs.BoolVar(&o.quiet, "quiet", false, "print nothing but errors")
	return o
}

var runCmd = &command{
	name:    "run",
	args:    "",
	summary: "simulate kro reconciling N instances of an RGD on a target, in virtual time",
	flags: func(fs *pflag.FlagSet) any {
		o := declareRunFlags(fs)
		o.real = declareRealFlags(fs)
		return o
	},
	run: func(e *env, o any, args []string) error {
		opts := o.(*runOptions)
		if opts.real.kubeconfig != "" {
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
	t, err := target.Lookup(o.target)
	if err != nil {
		return result.Config{}, err
	}
	t = t.Clone()
	if o.qps < 0 || o.burst < 0 || o.workers < 0 || o.cpus < 0 {
		return result.Config{}, usagef("--qps, --burst, --workers and --cpus must not be negative")
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
	wl := workload.Default(o.instances)
	wl.Arrival, wl.Rate, wl.Delete, wl.Update = o.arrival, o.rate, o.delete, o.update
	cfg := result.Config{RGDFiles: o.rgds, Target: t, Workload: wl, Seed: o.seed, MaxTime: target.Duration(o.maxTime)}
	if err := sim.Validate(cfg); err != nil {
		return result.Config{}, usagef("%v", err)
	}
	return cfg, nil
}

// loadRGDs loads every --rgd file, printing every problem before failing.
// crdHelp is the --crd flag's help, shared by the commands that load RGDs.
const crdHelp = "CustomResourceDefinition YAML file typing the custom kinds the RGDs use (repeatable); CRDs in an RGD file count too"

func loadRGDs(e *env, files, crds []string) ([]*model.RGD, error) {
	if len(files) == 0 {
		return nil, usagef("--rgd is required")
	}
	rgds, failed := loadAll(e, files, crds)
	if failed {
		return nil, reportedError
	}
	return rgds, nil
}

// loadAll loads every file with host compile timing, printing each file's
// problems (with source lines and carets) or read error to stderr.
func loadAll(e *env, files, crds []string) (rgds []*model.RGD, failed bool) {
	lim := model.DefaultLimits
	lim.Clock = time.Now
	for _, f := range crds {
		set, err := model.LoadCRDFile(f)
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
		gs, err := lim.LoadFile(f)
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
	rgds, err := loadRGDs(e, o.rgds, o.crds)
	if err != nil {
		return nil, err
	}
	return sim.Run(cfg, rgds, o.simOptions(cfg))
}

// simOptions are a run's host-side hooks: the wall-time guard, and host
// timing when the CPU cost is measured.
func (o *runOptions) simOptions(cfg result.Config) sim.Options {
	deadline := time.Now().Add(o.wallLimit)
	opts := sim.Options{Abort: func() error {
		if time.Now().After(deadline) {
			return fmt.Errorf("wall-time limit %s reached", o.wallLimit)
		}
		return nil
	}}
	if cfg.Target.Cost.Measured {
		opts.Meter = func() func() time.Duration {
			start := time.Now()
			return func() time.Duration { return time.Since(start) }
		}
	}
	return opts
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
	files := outputs{}
	js, err := result.Encode(&res.Result)
	if err != nil {
		return err
	}
	files[result.File] = js
	prom, err := res.Metrics()
	if err != nil {
		return err
	}
	files["metrics.prom"] = prom
	wall, err := wallProfile(res)
	if err != nil {
		return err
	}
	files["wall.pb.gz"] = wall
	for k, v := range extra {
		files[k] = v
	}
	if o.out != "" {
		if err := writeDir(o.out, files); err != nil {
			return err
		}
	}
	if !o.quiet {
		printSummary(e.stdout, res, o.out, files)
	}
	if !res.Complete {
		return fmt.Errorf("run incomplete: %s", res.Incomplete)
	}
	return nil
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
	conv := "not converged"
	if s.ConvergeSeconds != nil {
		conv = fmt.Sprintf("%.3fs", *s.ConvergeSeconds)
	}
	fmt.Fprintf(w, "krosim: %d instances of %s on %s (%d workers, %d vCPUs, client limiter: %s)\n",
		s.InstancesTotal, rgdNames(r), r.Config.Target.Name, r.Config.Target.Controller.Workers,
		r.Config.Target.VCPUs, limiterText(r))
	fmt.Fprintf(w, "  converged:      %s virtual (%d ready, %d failed)\n", conv, s.InstancesReady, s.InstancesFailed)
	if s.FailedExample != "" {
		fmt.Fprintf(w, "  failed, e.g.:   %s\n", s.FailedExample)
	}
	if s.UpdateSeconds != nil {
		fmt.Fprintf(w, "  updated:        %d instances reconciled in %.3fs virtual\n", s.InstancesUpdated, *s.UpdateSeconds)
	}
	if s.DeleteSeconds != nil {
		fmt.Fprintf(w, "  deleted in:     %.3fs virtual\n", *s.DeleteSeconds)
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
	if r.CPUCost == "measured" {
		fmt.Fprintln(w, "  note: --cpu-cost=measured uses this host's elapsed time: results are not deterministic")
	}
	if dir != "" {
		fmt.Fprintf(w, "  wrote %s: %s\n", dir, strings.Join(slices.Sorted(maps.Keys(files)), ", "))
	}
}

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
