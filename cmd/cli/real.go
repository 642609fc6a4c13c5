package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/krosim/krosim/model"

	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
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
	pids       string
	fs         *pflag.FlagSet // to tell a --target given from the default
}

func declareRealFlags(fs *pflag.FlagSet) *realOptions {
	o := &realOptions{fs: fs}
	metrics := os.Getenv("KROSIM_KRO_METRICS_URL")
	if metrics == "" {
		metrics = "http://127.0.0.1:8078/metrics"
	}
	o.clusterFlags = declareClusterFlags(fs, "real mode: run the workload on the API server of this kubeconfig, where kro runs, and measure kro (--qps, --cpus, --cpu-cost do not apply; --workers records kro's worker count; a --target given, not the default, runs a stand-in kind controller with its readiness, as krosim standins does, if it covers a stand-in kind the RGDs use)")
	fs.StringVar(&o.kroMetrics, "kro-metrics", metrics, "real mode: URL of kro's /metrics (default $KROSIM_KRO_METRICS_URL)")
	fs.DurationVar(&o.quiet, "kro-idle", 5*time.Second, "real mode: a phase ends once kro has not reconciled for this long (must exceed kro's 3s requeue interval)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "real mode: time limit of each phase")
	fs.IntVar(&o.parallel, "parallel", workload.DefaultParallel, "creates, changes or deletes of instances the workload keeps in flight (real mode: krosim's own; a simulation sends them through the server as the user)")
	fs.StringVar(&o.pids, "pid-dir", harnessPIDs(), "real mode: PID files of the cluster's processes on this host, whose CPU is the run's own in real.host (default $KROSIM_REALAPI_DIR/pids, the harness's)")
	return o
}

// harnessPIDs is the real-API harness's directory of PID files, when
// $KROSIM_REALAPI_DIR (set by sourcing its env file) names it.
func harnessPIDs() string {
	if dir := os.Getenv("KROSIM_REALAPI_DIR"); dir != "" {
		return filepath.Join(dir, "pids")
	}
	return ""
}

// runReal is `krosim run --real` (or --kubeconfig, --context): the workload against a real server.
func runReal(e *env, o *runOptions, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %v (RGDs go in --rgd)", args)
	}
	ro := o.real
	if err := errors.Join(o.checkNumbers(), intFlag("--parallel", ro.parallel, 1, workload.MaxParallel),
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
	wl := o.workload()
	if err := wl.Validate(); err != nil {
		return usagef("%v", err)
	}
	workers := o.workers
	if workers == 0 {
		workers = 1 // kro's default
	}

	// Only a target given runs the stand-in controller: the default's
	// readiness is a guess about a real cluster's controllers, and a real
	// run without --target measures kro with stand-ins ready on existence,
	// as the harness's calibrations (readiness empty) assume.
	var standins *target.Target
	if ro.fs.Changed("target") {
		if standins, err = target.Lookup(o.target); err != nil {
			return usagef("%v", err)
		}
	}

	var log io.Writer = e.stderr
	if o.quiet {
		log = io.Discard
	}
	res, scrapes, err := cluster.Run(e.ctx, cluster.Config{Kubeconfig: ro.access(), KroMetrics: ro.kroMetrics, RGDFiles: o.rgds,
		Workload: wl, Seed: o.seed, Workers: workers, Quiet: ro.quiet, Timeout: ro.timeout,
		Parallel: ro.parallel, Log: log, PIDDir: ro.pids, Standins: standins}, rgds)
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
	fmt.Fprintf(w, "krosim: %d instances on %s with the real kro (%s), measured\n", s.InstancesTotal, r.Config.Cluster.Server, result.Workers(r.Config.Cluster.Workers))
	fmt.Fprintf(w, "  converged:      %s (%d ready)\n", conv, s.InstancesReady)
	if s.DeleteSeconds != nil {
		fmt.Fprintf(w, "  deleted in:     %.3fs\n", *s.DeleteSeconds)
	}
	printCounts(w, s)
	if st := r.Real.Standins; st != nil {
		fmt.Fprintf(w, "  stand-ins:      %d statuses written with target %s's readiness (%d conflicts redone, %d failed)\n",
			st.StatusWrites, st.Target, st.Conflicts, st.Errors)
	}
	for _, n := range r.Real.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if h := r.Real.Host; h != nil {
		verdict := "quiet"
		if !h.Quiet {
			verdict = h.Verdict + ": these timings should not calibrate a target or judge a simulation"
		}
		fmt.Fprintf(w, "  host:           %.0f%% of %d CPUs busy: %.0f%% the measured processes, %.0f%% background (niced), %.0f%% other; %.0f%% stolen; %s\n",
			h.Busy*100, h.CPUs, h.Measured*100, h.Background*100, h.Other*100, h.Steal*100, verdict)
	}
	if dir != "" {
		fmt.Fprintf(w, "  wrote %s: results.json, metrics/\n", dir)
	}
}
