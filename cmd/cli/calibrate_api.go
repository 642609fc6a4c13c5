package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/profile/analysis"
	"github.com/krosim/krosim/sim/calibration"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/spf13/pflag"
)

// apiCalibrateOptions are calibrate's flags for measuring a real API server.
type apiCalibrateOptions struct {
	from        []string
	cpuFrom     []string
	rgdRoot     string
	rgds        []string
	cluster     *clusterFlags
	objects     int
	concurrency []int
	pidDir      string
	elasticity  float64
}

func declareAPICalibrateFlags(fs *pflag.FlagSet) *apiCalibrateOptions {
	o := &apiCalibrateOptions{}
	o.cluster = declareClusterFlags(fs, "measure the request latency of this kubeconfig's API server (it must serve testdata/realapi/standins.yaml) and replace the target's latency and readiness instead of its CPU costs")
	fs.StringSliceVar(&o.from, "from", nil, "derive the target from a real run's directory (krosim run --kubeconfig --out DIR): the latency kro saw in it by verb, and the per-reconcile time the requests do not explain (cost.reconcile_ns), fitted by simulating the same workload; given a second, larger run of the same RGD (--from A --from B), also how requests slow down with the objects stored (server.object_slowdown)")
	fs.StringSliceVar(&o.cpuFrom, "cpu-from", nil, "derive a target for a host the API server, etcd and kro share (server.shared_cpus) from real runs of at least two calibration RGDs recorded with --pid-dir: kro's CPU per request and per reconcile, the server's CPU per request and per KiB of its object (shared among verbs as the base target's latency.VERB.cpu and cpu_per_kib, from calibrate --kubeconfig --pid-dir), and the latency kro saw; physical costs that carry over to other RGDs and worker counts")
	fs.Float64Var(&o.elasticity, "speed-elasticity", 0, "with --cpu-from: how the CPU per request grows with the runs' probes of their host (the power; on the project's harness 0.44 for probes read in the phases' quiet ends, 0.85 over whole phases) instead of fitting it from runs that repeat one another: runs of one each still get a speed")
	fs.StringVar(&o.rgdRoot, "rgd-root", "", "with --cpu-from: the directory the runs' RGD files (named in their results.json) are relative to (default: where krosim runs)")
	fs.StringSliceVar(&o.rgds, "rgd", nil, "with --from: the real run's RGD files (default: the files its results.json names, relative to where it ran)")
	fs.IntVar(&o.objects, "objects", 200, "with --kubeconfig: requests timed per verb")
	fs.IntSliceVar(&o.concurrency, "concurrency", []int{1}, "with --kubeconfig: requests in flight to measure at (the target takes the first; e.g. 1,4,8)")
	fs.StringVar(&o.pidDir, "pid-dir", harnessPIDs(), "with --kubeconfig: PID files of the server's processes on this host (etcd, apiserver, kro), to measure each verb's CPU time on the server, on the usual objects and again on larger ones (latency.VERB.cpu and cpu_per_kib), and the CPU of a write's watch event, the server's and a watcher's (server.event_cpu, cost.event_ns) (default $KROSIM_REALAPI_DIR/pids, the harness's)")
	return o
}

// readQuiet reads the real runs a calibration is to come from, refusing
// those taken on a busy host unless --allow-busy.
func readQuiet(e *env, opts *calibrateOptions, dirs []string) ([]*result.Result, error) {
	var read []*result.Result
	for _, dir := range dirs {
		r, err := result.Read(dir)
		if err != nil {
			return nil, err
		}
		read = append(read, r)
	}
	return read, analysis.CheckQuiet(e.stderr, "calibrate", opts.allowBusy, dirs, read)
}

// calibrateCPU is `krosim calibrate --cpu-from DIR...`.
func calibrateCPU(e *env, opts *calibrateOptions, t *target.Target) error {
	read, err := readQuiet(e, opts, opts.api.cpuFrom)
	if err != nil {
		return err
	}
	rgdsOf := func(dir string) ([]*model.RGD, error) {
		for i, r := range read {
			if opts.api.cpuFrom[i] == dir {
				var files []string
				for _, f := range r.Config.RGDFiles {
					if opts.api.rgdRoot != "" && !filepath.IsAbs(f) {
						f = filepath.Join(opts.api.rgdRoot, f)
					}
					files = append(files, f)
				}
				return loadRGDs(e, limits(r.Config), files, nil)
			}
		}
		return nil, fmt.Errorf("%s: not read", dir)
	}
	if e := opts.api.elasticity; !(e >= 0 && e <= target.MaxElasticity) {
		return usagef("--speed-elasticity must be in [0, %g], got %g", float64(target.MaxElasticity), e)
	}
	t, report, err := calibration.Physical(opts.api.cpuFrom, t, rgdsOf, opts.api.elasticity)
	if err != nil {
		return err
	}
	t.Name = opts.name
	t.Description = fmt.Sprintf("%s calibrated for a shared host from the real runs in %s by krosim calibrate --cpu-from: %s.", opts.base,
		strings.Join(opts.api.cpuFrom, ", "), strings.Join(report, "; "))
	fmt.Fprintln(e.stderr, "krosim calibrate: "+strings.Join(report, "\n  "))
	return writeTarget(e, opts.out, t)
}

// calibrateFromRun is `krosim calibrate --from DIR`.
func calibrateFromRun(e *env, opts *calibrateOptions, t *target.Target) error {
	read, err := readQuiet(e, opts, opts.api.from)
	if err != nil {
		return err
	}
	first := read[0]
	files := first.Config.RGDFiles
	if len(opts.api.rgds) > 0 {
		files = opts.api.rgds
	}
	rgds, err := loadRGDs(e, limits(first.Config), files, nil)
	if err != nil {
		return err
	}
	t, report, err := calibration.FromRuns(opts.api.from, t, rgds)
	if err != nil {
		return err
	}
	t.Name = opts.name
	runs := "the real run in"
	if len(opts.api.from) > 1 {
		runs = "the real runs in"
	}
	t.Description = fmt.Sprintf("%s calibrated from %s %s by krosim calibrate --from: %s.", opts.base, runs,
		strings.Join(opts.api.from, " and "), strings.Join(report, "; "))
	fmt.Fprintln(e.stderr, "krosim calibrate: "+strings.Join(report, "\n  "))
	return writeTarget(e, opts.out, t)
}

// calibrateAPI is `krosim calibrate --kubeconfig`: t with the latency of a
// real API server as a client like kro's sees it.
func calibrateAPI(e *env, opts *calibrateOptions, t *target.Target) error {
	o := opts.api
	if err := intFlag("--objects", o.objects, 1, maxObjects); err != nil {
		return err
	}
	for _, c := range o.concurrency {
		if c < 1 || c > maxInFlight {
			return usagef("--concurrency values must be at least 1 and at most %d, got %d", maxInFlight, c)
		}
	}

	cal, err := calibration.Calibrate(e.ctx, calibration.CalibrateConfig{Kubeconfig: o.cluster.access(), Objects: o.objects,
		Concurrency: o.concurrency, Log: e.stderr, PIDDir: o.pidDir})
	if err != nil {
		return err
	}
	t, processors := cal.Apply(t, calibration.ApplyOptions{Name: opts.name, Base: opts.base, KeepCPUs: opts.serverCPUs >= 0})
	if processors != "" {
		fmt.Fprintln(e.stderr, "krosim calibrate: "+processors)
	}
	return writeTarget(e, opts.out, t)
}
