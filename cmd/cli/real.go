package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/krosim/krosim/model"

	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/workload"
	"github.com/spf13/pflag"
)

// realOptions are run's flags for real mode: the workload goes to a real
// API server running the real kro controller instead of the simulator.
type realOptions struct {
	*clusterFlags
	kroMetrics string
	quiet      time.Duration
	timeout    time.Duration
	parallel   int
}

func declareRealFlags(fs *pflag.FlagSet) *realOptions {
	o := &realOptions{}
	metrics := os.Getenv("KROSIM_KRO_METRICS_URL")
	if metrics == "" {
		metrics = "http://127.0.0.1:8078/metrics"
	}
	o.clusterFlags = declareClusterFlags(fs, "real mode: run the workload on the API server of this kubeconfig, where kro runs, and measure kro (--target, --qps, --cpus, --cpu-cost do not apply; --workers records kro's worker count)")
	fs.StringVar(&o.kroMetrics, "kro-metrics", metrics, "real mode: URL of kro's /metrics (default $KROSIM_KRO_METRICS_URL)")
	fs.DurationVar(&o.quiet, "kro-idle", 5*time.Second, "real mode: a phase ends once kro has not reconciled for this long (must exceed kro's 3s requeue interval)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "real mode: time limit of each phase")
	fs.IntVar(&o.parallel, "parallel", 8, "real mode: creates or deletes krosim keeps in flight")
	return o
}

// runReal is `krosim run --real` (or --kubeconfig, --context): the workload against a real server.
func runReal(e *env, o *runOptions, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %v (RGDs go in --rgd)", args)
	}
	ro := o.real
	if err := errors.Join(o.checkNumbers(), intFlag("--parallel", ro.parallel, 1, maxInFlight),
		positiveFlag("--timeout", ro.timeout)); err != nil {
		return usagef("%v", err)
	}
	if ro.quiet <= 3*time.Second {
		return usagef("--kro-idle must exceed kro's 3s requeue interval, got %s", ro.quiet)
	}
	rgds, err := loadRGDs(e, model.DefaultLimits, o.rgds, o.crds)
	if err != nil {
		return err
	}
	wl := workload.Default(o.instances)
	wl.Arrival, wl.Rate, wl.Delete, wl.Update = o.arrival, o.rate, o.delete, o.update
	if err := wl.Validate(); err != nil {
		return usagef("%v", err)
	}
	workers := o.workers
	if workers == 0 {
		workers = 1 // kro's default
	}

	var log io.Writer = e.stderr
	if o.quiet {
		log = io.Discard
	}
	res, scrapes, err := cluster.Run(e.ctx, cluster.Config{Kubeconfig: ro.access(), KroMetrics: ro.kroMetrics, RGDFiles: o.rgds,
		Workload: wl, Seed: o.seed, Workers: workers, Quiet: ro.quiet, Timeout: ro.timeout,
		Parallel: ro.parallel, Log: log}, rgds)
	if err != nil {
		if e.ctx.Err() != nil {
			return fmt.Errorf("%w; nothing written", context.Cause(e.ctx))
		}
		return err
	}
	js, err := result.Encode(res)
	if err != nil {
		return err
	}
	files := outputs{result.File: js}
	for name, raw := range scrapes {
		files["metrics/"+name] = raw
	}
	if o.out != "" {
		if err := os.MkdirAll(o.out+"/metrics", 0o755); err != nil {
			return err
		}
		if err := writeDir(o.out, files); err != nil {
			return err
		}
	}
	if !o.quiet {
		printRealSummary(e.stdout, res, o.out)
	}
	if !res.Complete {
		return fmt.Errorf("run incomplete: %s", res.Incomplete)
	}
	return nil
}

func printRealSummary(w io.Writer, r *result.Result, dir string) {
	s := r.Summary
	conv := "not converged"
	if s.ConvergeSeconds != nil {
		conv = fmt.Sprintf("%.3fs", *s.ConvergeSeconds)
	}
	fmt.Fprintf(w, "krosim: %d instances on %s with the real kro (%d workers), measured\n", s.InstancesTotal, r.Config.Cluster.Server, r.Config.Cluster.Workers)
	fmt.Fprintf(w, "  converged:      %s (%d ready)\n", conv, s.InstancesReady)
	if s.DeleteSeconds != nil {
		fmt.Fprintf(w, "  deleted in:     %.3fs\n", *s.DeleteSeconds)
	}
	printCounts(w, s)
	for _, n := range r.Real.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if dir != "" {
		fmt.Fprintf(w, "  wrote %s: results.json, metrics/\n", dir)
	}
}
