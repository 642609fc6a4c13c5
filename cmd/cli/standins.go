package cli

import (
	"fmt"
	"strings"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/study"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/world"
	"github.com/spf13/pflag"
)

type standinsOptions struct {
	cluster *clusterFlags
	target  string
	seed    uint64
	quiet   bool
	rgds    []string
	crds    []string
}

var standinsCmd = &command{
	name:             "standins",
	args:             "",
	summary:          "play the kind controllers of the real-API harness's stand-in kinds until interrupted: write their status, as the simulated world does, after the target's readiness delays",
	interrupt:        "it drops the status writes still waiting for their delay, ends those in flight, prints what it did and exits 0",
	untilInterrupted: true,
	flags: func(fs *pflag.FlagSet) any {
		o := &standinsOptions{}
		o.cluster = declareClusterFlags(fs, "the API server's kubeconfig (required: --kubeconfig, --real or --context)")
		fs.StringVar(&o.target, "target", "kro-defaults", "built-in target name or target YAML file whose readiness gives the delays, by the kind a stand-in stands in for")
		fs.Uint64Var(&o.seed, "seed", 1, "random seed of the delays: a simulation with the same seed makes each object ready after the same delay")
		fs.StringArrayVar(&o.rgds, "rgd", nil, "RGD YAML file (repeatable) whose expressions read the stand-ins' status: the writes fill the fields they read, as a simulation's world does")
		fs.StringArrayVar(&o.crds, "crd", nil, crdHelp)
		fs.BoolVar(&o.quiet, "quiet", false, "print nothing but errors and the final counts (not a line per status written)")
		return o
	},
	run: func(e *env, o any, args []string) error { return runStandins(e, o.(*standinsOptions), args) },
	examples: `# make the harness's stand-ins ready after ready-target.yaml's delays, until Ctrl-C
krosim standins --kubeconfig $KUBECONFIG --target testdata/realapi/ready-target.yaml`,
}

func runStandins(e *env, o *standinsOptions, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %v", args)
	}
	if !o.cluster.requested() {
		return usagef("a cluster is required: --kubeconfig FILE, --real or --context NAME")
	}
	t, err := target.Lookup(o.target)
	if err != nil {
		return usagef("%v", err)
	}
	dyn, err := cluster.Dynamic(o.cluster.access())
	if err != nil {
		return err
	}
	kinds, err := cluster.StandinKinds(e.ctx, dyn, t)
	if err != nil {
		return err
	}
	if len(kinds) == 0 {
		return fmt.Errorf("target %s's readiness covers none of the server's stand-in kinds (CRDs of group standin.krosim.dev that are not ConfigMap, Secret, Service, ... stand-ins): nothing to do", t.Name)
	}
	opts := cluster.StandinOptions{Seed: o.seed}
	if len(o.rgds) > 0 {
		rgds, err := loadRGDs(e, model.DefaultLimits, o.rgds, o.crds)
		if err != nil {
			return err
		}
		opts.Reads = world.ReadsOf(rgds)
	}
	if !o.quiet {
		opts.Log = e.stderr
	}
	s, err := cluster.StartStandins(e.ctx, dyn, kinds, opts)
	if err != nil {
		return err
	}
	rules := make([]string, len(kinds))
	for i, k := range kinds {
		r := k.Readiness
		rules[i] = fmt.Sprintf("%s (p50 %s, p95 %s, p99 %s)", k.Kind, r.P50.D(), r.P95.D(), r.P99.D())
	}
	fmt.Fprintf(e.stderr, "krosim standins: writing the status of %s with target %s's readiness, until interrupted\n", strings.Join(rules, ", "), t.Name)
	<-e.ctx.Done()
	s.Stop()
	rep := s.Report(t.Name, o.seed)
	fmt.Fprintf(e.stdout, "krosim standins: %s (%s, %s; %s redone, %d failed)\n",
		study.Plural(rep.StatusWrites, "status write"), study.Plural(s.Calls(verb.Get), "GET"), study.Plural(s.Calls(verb.UpdateStatus), "status PUT"),
		study.Plural(rep.Conflicts, "conflict"), rep.Errors)
	if rep.Errors > 0 {
		return fmt.Errorf("%d status writes failed; the first: %s", rep.Errors, rep.FirstError)
	}
	return nil
}
