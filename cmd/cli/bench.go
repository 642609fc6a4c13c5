package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

type benchOptions struct {
	suites     []string
	target     string
	cluster    *clusterFlags
	kroMetrics string
	rgd        string
	count      int
	instances  int
	out        string
	quiet      bool
}

var benchCmd = &command{
	name: "bench",
	examples: `# the performance report's suites, simulated, three repetitions
krosim bench --out out/bench
# the crud and workers suites only, on an RGD of yours
krosim bench --suite crud,workers --rgd testdata/rgd/chain.yaml --count 5`,
	args:    "",
	summary: "measure the kro performance report's suites (crud, workers, cel, graph, usage): simulated, or on a real cluster with --kubeconfig",
	flags: func(fs *pflag.FlagSet) any {
		o := &benchOptions{}
		fs.StringSliceVar(&o.suites, "suite", bench.Suites(), "suites to run: crud, workers, cel, graph, usage")
		fs.StringVar(&o.target, "target", "kro-defaults", "built-in target name or target YAML file (simulation)")
		o.cluster = declareClusterFlags(fs, "real mode: run the crud scenario on this kubeconfig's cluster, where kro runs (other suites do not apply)")
		fs.StringVar(&o.kroMetrics, "kro-metrics", "http://127.0.0.1:8078/metrics", "real mode: URL of kro's /metrics")
		fs.StringVar(&o.rgd, "rgd", "", "RGD YAML file of the crud, workers and usage suites (default: the embedded testdata/rgd/webapp.yaml)")
		fs.IntVar(&o.count, "count", 3, "repetitions: seeds 1..N in simulation; median and 95% CI over them")
		fs.IntVar(&o.instances, "instances", 200, "instances of the crud and workers suites")
		fs.StringVar(&o.out, "out", "out/bench", "directory for results.json, bench.txt and tables.md")
		fs.BoolVar(&o.quiet, "quiet", false, "print nothing but errors")
		return o
	},
	run: runBench,
}

func runBench(e *env, o any, args []string) error {
	opts := o.(*benchOptions)
	if len(args) > 0 {
		return usagef("unexpected arguments %v", args)
	}
	if err := intFlag("--count", opts.count, 1, 100); err != nil {
		return usagef("%v", err)
	}
	if err := intFlag("--instances", opts.instances, 1, workload.MaxInstances); err != nil {
		return usagef("%v", err)
	}
	rgd, name, err := benchRGD(e, opts.rgd)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	hooks := bench.Options{Stop: ctx.Err, Sim: sim.Options{Abort: ctx.Err}}
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !opts.quiet {
		hooks.Progress = func(s string) { fmt.Fprintf(e.stderr, "krosim bench: %s\n", s) }
	}
	var rep *bench.Report
	if opts.cluster.requested() {
		rep, err = benchReal(ctx, e, opts, rgd, name)
	} else {
		t, terr := target.Lookup(opts.target)
		if terr != nil {
			return usagef("%v", terr)
		}
		cfg := bench.Default(t)
		cfg.Suites, cfg.RGD, cfg.Count, cfg.Instances = opts.suites, name, opts.count, opts.instances
		if verr := cfg.Validate(); verr != nil {
			return usagef("%v", verr)
		}
		rep, err = bench.Run(cfg, rgd, hooks)
	}
	if rep == nil {
		return err
	}
	if werr := writeBench(e, opts, rep); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	if !rep.Complete {
		return fmt.Errorf("bench incomplete: %s (what finished is in %s)", rep.Incomplete, opts.out)
	}
	return nil
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

// benchReal runs the crud scenario on a real cluster: create, update every
// instance, delete, timed by sim/cluster.
func benchReal(ctx context.Context, e *env, o *benchOptions, rgd *model.RGD, name string) (*bench.Report, error) {
	if o.rgd == "" {
		return nil, usagef("a real cluster needs --rgd (the cluster must serve its kinds)")
	}
	rc, err := o.cluster.access().RESTConfig()
	if err != nil {
		return nil, err
	}
	wl := workload.Default(o.instances)
	wl.Update, wl.Delete = bench.RealWorkloadUpdate, true
	cfg := bench.Config{Mode: "real", Suites: []string{bench.CRUD}, RGD: name, Instances: o.instances, Count: 1, Server: rc.Host}
	rep := &bench.Report{Format: bench.Format, Complete: true, Config: cfg}
	res, _, err := cluster.Run(ctx, cluster.Config{Kubeconfig: o.cluster.access(), KroMetrics: o.kroMetrics, RGDFiles: []string{name},
		Workload: wl, Seed: 1, Workers: 1, Quiet: 5 * time.Second, Timeout: 30 * time.Minute, Parallel: 8, Log: e.stderr}, []*model.RGD{rgd})
	if err != nil {
		return nil, err
	}
	if !res.Complete {
		rep.Complete, rep.Incomplete = false, res.Incomplete
	}
	rep.Benchmarks, err = bench.FromCluster(res)
	return rep, err
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
		fmt.Fprintf(e.stdout, "krosim bench: %s\nwrote %s: %s\n", strings.Join(o.suites, ","), o.out, "bench.txt, results.json, tables.md")
	}
	return nil
}
