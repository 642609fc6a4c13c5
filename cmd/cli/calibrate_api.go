package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"runtime"
	"slices"
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
	kubeconfig  string
	objects     int
	concurrency []int
}

func declareAPICalibrateFlags(fs *pflag.FlagSet) *apiCalibrateOptions {
	o := &apiCalibrateOptions{}
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "measure the request latency of this kubeconfig's API server (it must serve testdata/realapi/standins.yaml) and replace the target's latency and readiness instead of its CPU costs")
	fs.StringSliceVar(&o.from, "from", nil, "derive the target from a real run's directory (krosim run --kubeconfig --out DIR): the latency kro saw in it by verb, and the per-reconcile time the requests do not explain (cost.reconcile_ns), fitted by simulating the same workload; given a second, larger run of the same RGD (--from A --from B), also how requests slow down with the objects stored (server.object_slowdown)")
	fs.StringSliceVar(&o.rgds, "rgd", nil, "with --from: the real run's RGD files (default: the files its results.json names, relative to where it ran)")
	fs.IntVar(&o.objects, "objects", 200, "with --kubeconfig: requests timed per verb")
	fs.IntSliceVar(&o.concurrency, "concurrency", []int{1}, "with --kubeconfig: requests in flight to measure at (the target takes the first; e.g. 1,4,8)")
	// --out is what run and profile call their output flag.
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "out" {
			name = "output"
		}
		return pflag.NormalizedName(name)
	})
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
	rgds, err := loadRGDs(e, files, nil)
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
	for _, c := range o.concurrency {
		if c < 1 {
			return usagef("--concurrency values must be at least 1, got %d", c)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cal, err := calibration.Calibrate(ctx, calibration.CalibrateConfig{Kubeconfig: o.kubeconfig, Objects: o.objects,
		Concurrency: o.concurrency, Log: e.stderr})
	if err != nil {
		return err
	}
	t.Name = opts.name
	t.Latency = cal.Latency
	processors := ""
	if cal.Processors > 0 {
		processors = fmt.Sprintf(" Throughput at %d in flight over that at %d: %.2f processors serving requests", slices.Max(o.concurrency),
			o.concurrency[0], cal.Processors)
		if opts.serverCPUs < 0 {
			t.Server.CPUs = max(1, int(math.Round(cal.Processors)))
			processors += fmt.Sprintf(" (server.cpus %d).", t.Server.CPUs)
		} else {
			processors += fmt.Sprintf(" (server.cpus %d as given).", t.Server.CPUs)
		}
		fmt.Fprintln(e.stderr, "krosim calibrate:"+processors)
	}
	// A server with no kind controllers (the real-API harness): stand-ins
	// are ready as soon as they exist, and nothing writes their status.
	t.Readiness = map[string]target.Readiness{}
	var other []string
	for _, r := range cal.Rows {
		if r.Concurrency != o.concurrency[0] || r.Verb == calibration.PatchWrites {
			other = append(other, fmt.Sprintf("%s x%d p50 %.2fms p99 %.2fms", r.Verb, r.Concurrency,
				float64(r.P50)/1e6, float64(r.P99)/1e6))
		}
	}
	t.Description = fmt.Sprintf("%s with the request latency of a real API server measured by krosim calibrate --kubeconfig "+
		"(%d requests per verb, %d in flight, client-go dynamic client on %s/%s with %d CPUs); patch is a server-side apply "+
		"that changes nothing, as most of kro's are; no kind controllers (readiness empty). Also measured: %s.%s",
		opts.base, o.objects, o.concurrency[0], runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), strings.Join(other, "; "), processors)
	return writeTarget(e, opts.out, t)
}
