package cli

import (
	"fmt"
	"strings"

	"github.com/krosim/krosim/sim/calibration"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/spf13/pflag"
)

// apiCalibrateOptions are calibrate's flags for measuring a real API server.
type apiCalibrateOptions struct {
	from        []string
	rgds        []string
	cluster     *clusterFlags
	objects     int
	concurrency []int
}

func declareAPICalibrateFlags(fs *pflag.FlagSet) *apiCalibrateOptions {
	o := &apiCalibrateOptions{}
	o.cluster = declareClusterFlags(fs, "measure the request latency of this kubeconfig's API server (it must serve testdata/realapi/standins.yaml) and replace the target's latency and readiness instead of its CPU costs")
	fs.StringSliceVar(&o.from, "from", nil, "derive the target from a real run's directory (krosim run --kubeconfig --out DIR): the latency kro saw in it by verb, and the per-reconcile time the requests do not explain (cost.reconcile_ns), fitted by simulating the same workload; given a second, larger run of the same RGD (--from A --from B), also how requests slow down with the objects stored (server.object_slowdown)")
	fs.StringSliceVar(&o.rgds, "rgd", nil, "with --from: the real run's RGD files (default: the files its results.json names, relative to where it ran)")
	fs.IntVar(&o.objects, "objects", 200, "with --kubeconfig: requests timed per verb")
	fs.IntSliceVar(&o.concurrency, "concurrency", []int{1}, "with --kubeconfig: requests in flight to measure at (the target takes the first; e.g. 1,4,8)")
	return o
}

// calibrateFromRun is `krosim calibrate --from DIR`.
func calibrateFromRun(e *env, opts *calibrateOptions, t *target.Target) error {
	first, err := result.Read(opts.api.from[0])
	if err != nil {
		return err
	}
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
		Concurrency: o.concurrency, Log: e.stderr})
	if err != nil {
		return err
	}
	t, processors := cal.Apply(t, calibration.ApplyOptions{Name: opts.name, Base: opts.base, KeepCPUs: opts.serverCPUs >= 0})
	if processors != "" {
		fmt.Fprintln(e.stderr, "krosim calibrate: "+processors)
	}
	return writeTarget(e, opts.out, t)
}
