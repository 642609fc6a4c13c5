package cli

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
	"github.com/spf13/pflag"
)

type benchOptions struct {
	suites     []string
	target     string
	cluster    *clusterFlags
	kroMetrics string
	rgd        string
	count      int
	instances  int
	usage      []int
	warmup     int
	hostSec    float64
	out        string
	quiet      bool
}

// defaultKroMetrics is kro's /metrics URL: $KROSIM_KRO_METRICS_URL (the
// harness's .ci/realapi/up.sh exports it), else the harness's default port.
func defaultKroMetrics() string {
	if u := os.Getenv("KROSIM_KRO_METRICS_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:8078/metrics"
}

var benchCmd = &command{
	name: "bench",
	examples: `# the performance report's suites, simulated, three repetitions
krosim bench --out out/bench
# the crud and workers suites only, on an RGD of yours
krosim bench --suite crud,workers --rgd testdata/rgd/chain.yaml --count 5`,
	args:    "",
	summary: "measure the kro performance report's suites (crud, workers, cel, graph, usage): simulated, or crud and usage on a real cluster with --kubeconfig",
	flags: func(fs *pflag.FlagSet) any {
		o := &benchOptions{}
		fs.StringSliceVar(&o.suites, "suite", nil, "suites to run: crud, workers, cel, graph, usage (default: all; with --kubeconfig crud,usage)")
		fs.StringVar(&o.target, "target", "kro-defaults", "built-in target name or target YAML file (simulation)")
		o.cluster = declareClusterFlags(fs, "real mode: run the crud and usage suites on this kubeconfig's cluster, where kro runs (make realapi-up starts one)")
		fs.StringVar(&o.kroMetrics, "kro-metrics", "", "real mode: URL of kro's /metrics (default $KROSIM_KRO_METRICS_URL, else http://127.0.0.1:8078/metrics)")
		fs.StringVar(&o.rgd, "rgd", "", "RGD YAML file of the crud, workers and usage suites (default: the embedded testdata/rgd/webapp.yaml)")
		fs.IntVar(&o.count, "count", 3, "repetitions: seeds 1..N in simulation, runs on a real cluster; median and 95% CI over them")
		fs.IntVar(&o.instances, "instances", 200, "instances of the crud and workers suites")
		fs.IntSliceVar(&o.usage, "usage-instances", nil, "sizes of the usage suite (default 100,300,1000,3000,10000 simulated; 100,200,500,1000 real)")
		fs.IntVar(&o.warmup, "warmup", 10, "real mode: instances of a discarded warm-up run before the measured ones (0: none)")
		fs.Float64Var(&o.hostSec, "host-seconds", 0.2, "real time of each measurement on this host (cel, graph), after its warm-up")
		fs.StringVar(&o.out, "out", "out/bench", "directory for results.json, bench.txt and tables.md")
		fs.BoolVar(&o.quiet, "quiet", false, "print nothing but errors")
		return o
	},
	interrupt: "no new step (seed, grid point, expression, size or real run) starts and a simulation in\n" +
		"progress stops (a real run stops where it is: its instances may stay on the cluster);\n" +
		"results.json, bench.txt and tables.md keep what finished, marked incomplete, and krosim exits 1",
	run: runBench,
}

// realUsageSizes are the real usage suite's default sizes: a real cluster
// takes minutes per thousand instances.
var realUsageSizes = []int{100, 200, 500, 1000}

func runBench(e *env, o any, args []string) error {
	opts := o.(*benchOptions)
	if len(args) > 0 {
		return usagef("unexpected arguments %v", args)
	}
	if err := intFlag("--count", opts.count, 1, 100); err != nil {
		return err
	}
	if err := intFlag("--instances", opts.instances, 1, workload.MaxInstances); err != nil {
		return err
	}
	if err := intFlag("--warmup", opts.warmup, 0, workload.MaxInstances); err != nil {
		return err
	}
	if err := floatFlag("--host-seconds", opts.hostSec, 0.001, 60); err != nil {
		return err
	}
	for _, n := range opts.usage {
		if err := intFlag("--usage-instances", n, 1, workload.MaxInstances); err != nil {
			return err
		}
	}
	cfg, err := opts.config()
	if err != nil {
		return err
	}
	rgd, name, err := benchRGD(e, opts.rgd)
	if err != nil {
		return err
	}
	cfg.RGD = name
	prog := newBenchProgress(e.stderr, opts.quiet)
	defer prog.finish()
	stop := func() error {
		if e.ctx.Err() != nil {
			return context.Cause(e.ctx)
		}
		return nil
	}
	hooks := bench.Options{Stop: stop, Sim: sim.Options{Abort: stop, Context: e.ctx}, Progress: prog.step}
	var rep *bench.Report
	if cfg.Mode == "real" {
		rl := bench.Real{Cluster: cluster.Config{Kubeconfig: opts.cluster.access(), KroMetrics: opts.kroMetrics, Workers: 1,
			Quiet: 5 * time.Second, Timeout: 30 * time.Minute, Parallel: 8, Log: prog.log()}}
		rep, err = bench.RunReal(e.ctx, cfg, rgd, rl, hooks)
	} else {
		rep, err = bench.Run(cfg, rgd, hooks)
	}
	if rep == nil {
		return err
	}
	if !rep.Complete {
		prog.interrupted(rep.Incomplete)
	}
	if werr := writeBench(e, opts, rep); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	if !rep.Complete {
		return fmt.Errorf("bench incomplete: %s; what finished, marked incomplete, is in %s", rep.Incomplete, opts.out)
	}
	return nil
}

// config is the bench config the flags ask for, simulated or real.
func (o *benchOptions) config() (bench.Config, error) {
	if o.cluster.requested() {
		if o.kroMetrics == "" {
			o.kroMetrics = defaultKroMetrics()
		}
		suites := o.suites
		if len(suites) == 0 {
			suites = bench.RealSuites()
		}
		for _, s := range suites {
			if !slices.Contains(bench.RealSuites(), s) {
				return bench.Config{}, usagef("--suite %s runs in simulation only; with --kubeconfig: %s", s, strings.Join(bench.RealSuites(), ","))
			}
		}
		if o.rgd == "" {
			return bench.Config{}, usagef("--kubeconfig needs --rgd (the cluster must serve its kinds)")
		}
		cfg := bench.Config{Mode: "real", Suites: suites, Instances: o.instances, Count: o.count, Server: o.cluster.access().String(),
			KroMetrics: o.kroMetrics, Warmup: o.warmup, UsageInstances: realUsageSizes}
		if len(o.usage) > 0 {
			cfg.UsageInstances = o.usage
		}
		if err := cfg.Validate(); err != nil {
			return cfg, usagef("%v", err)
		}
		return cfg, nil
	}
	t, err := target.Lookup(o.target)
	if err != nil {
		return bench.Config{}, usagef("%v", err)
	}
	cfg := bench.Default(t)
	if len(o.suites) > 0 {
		cfg.Suites = o.suites
	}
	cfg.Count, cfg.Instances, cfg.HostBudget = o.count, o.instances, o.hostSec
	if len(o.usage) > 0 {
		cfg.UsageInstances = o.usage
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usagef("%v", err)
	}
	return cfg, nil
}

// benchRGD loads --rgd, or the embedded example.
func benchRGD(e *env, file string) (*model.RGD, string, error) {
	if file == "" {
		gs, err := model.Load(bench.ExampleRGDName, bench.ExampleRGD)
		if err != nil {
			return nil, "", err
		}
		return gs[0], bench.ExampleRGDName, nil
	}
	gs, err := loadRGDs(e, model.DefaultLimits, []string{file}, nil)
	if err != nil {
		return nil, "", err
	}
	if len(gs) != 1 {
		return nil, "", usagef("--rgd %s holds %d RGDs; bench takes one", file, len(gs))
	}
	return gs[0], file, nil
}

func writeBench(e *env, o *benchOptions, rep *bench.Report) error {
	js, err := bench.Encode(rep)
	if err != nil {
		return err
	}
	files := outputs{"results.json": js, "bench.txt": bench.BenchTxt(rep), "tables.md": bench.Tables(rep)}
	if err := writeDir(o.out, files); err != nil {
		return err
	}
	if !o.quiet {
		fmt.Fprintf(e.stdout, "krosim bench: %s\nwrote %s: %s\n", strings.Join(rep.Config.Suites, ","), o.out, "bench.txt, results.json, tables.md")
	}
	return nil
}
