package cli

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/krosim/krosim/sim/calibration"
	"github.com/krosim/krosim/sim/target"
	"github.com/spf13/pflag"
)

type calibrateOptions struct {
	base       string
	out        string
	name       string
	serverCPUs int
	allowBusy  bool
	api        *apiCalibrateOptions // --kubeconfig: a real API server's latency instead
}

var calibrateCmd = &command{
	name: "calibrate",
	examples: `# this host's CPU cost per unit of work, as a target file
krosim calibrate --out host.yaml
# the request latency of a real API server ($KUBECONFIG, else ~/.kube/config)
krosim calibrate --real --out api.yaml
# fitted to a real run (krosim run --real --out out/real)
krosim calibrate --from out/real --out fitted.yaml`,
	args:    "",
	summary: "measure this host's CPU cost per unit of work (CEL, graph walks, encoding), or a real API server's latency (--kubeconfig) or a real run's (--from), and write a target file",
	interrupt: "with --kubeconfig it stops measuring and writes nothing; the other modes finish first;\n" +
		"krosim exits 1",
	flags: func(fs *pflag.FlagSet) any {
		o := &calibrateOptions{}
		fs.StringVar(&o.base, "target", "kro-defaults", "target to start from; only its cost section is replaced")
		fs.StringVar(&o.out, "out", "", "write the target file here (default: stdout)")
		deprecatedOut(fs, &o.out)
		fs.StringVar(&o.name, "name", "calibrated", "name of the new target")
		fs.IntVar(&o.serverCPUs, "server-cpus", -1, "set the processors that serve API requests (server.cpus): the host's, when the API server, etcd and kro share it as on the real-API harness; with --from the run's latency is then split into work and the wait for a processor (default: with --kubeconfig and several --concurrency values, what the server's throughput shows; else the base target's)")
		fs.BoolVar(&o.allowBusy, "allow-busy", false, "with --from: calibrate from real runs taken on a busy host too (real.host in their results.json), flagged")
		o.api = declareAPICalibrateFlags(fs)
		return o
	},
	run: func(e *env, o any, args []string) error {
		opts := o.(*calibrateOptions)
		if len(args) > 0 {
			return usagef("unexpected arguments %v", args)
		}
		if err := intFlag("--server-cpus", opts.serverCPUs, -1, target.MaxCPUs); err != nil {
			return err
		}
		if err := outFileDir("--out", opts.out); err != nil {
			return err
		}
		t, err := target.Lookup(opts.base)
		if err != nil {
			return err
		}
		t = t.Clone()
		if opts.serverCPUs >= 0 {
			t.Server.CPUs = opts.serverCPUs
		}
		switch {
		case len(opts.api.from) > 0 && opts.api.cluster.requested():
			return usagef("--from and a real cluster (--real, --kubeconfig, --context) exclude each other")
		case len(opts.api.cpuFrom) > 0 && (opts.api.cluster.requested() || len(opts.api.from) > 0):
			return usagef("--cpu-from excludes --from and a real cluster (--real, --kubeconfig, --context)")
		case len(opts.api.cpuFrom) > 0:
			return calibrateCPU(e, opts, t)
		case len(opts.api.from) > 0:
			return calibrateFromRun(e, opts, t)
		case opts.api.cluster.requested():
			return calibrateAPI(e, opts, t)
		}
		cost, report, err := calibration.HostCost()
		if err != nil {
			return err
		}
		t.Name = opts.name
		t.Cost = cost
		t.Description = fmt.Sprintf("%s with CPU costs measured by krosim calibrate on this host (%s/%s, GOMAXPROCS %d, %s). %s",
			opts.base, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.Version(), strings.Join(report, "; "))
		fmt.Fprintln(e.stderr, "krosim calibrate: "+strings.Join(report, "\n  "))
		return writeTarget(e, opts.out, t)
	},
}

// writeTarget writes t as a target file to out, or to stdout when out is empty.
func writeTarget(e *env, out string, t *target.Target) error {
	y, err := t.YAML()
	if err != nil {
		return err
	}
	if out == "" {
		_, err = e.stdout.Write(y)
		return err
	}
	return writeFileAtomic(out, y)
}
