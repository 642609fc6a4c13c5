package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/krosim/krosim/model"

	"github.com/krosim/krosim/profile/chart"
	"github.com/krosim/krosim/sim/study"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
	"github.com/spf13/pflag"
)

// sweepOptions are the flags of sweep.
type sweepOptions struct {
	fs        *pflag.FlagSet
	rgds      []string
	crds      []string
	instances int
	vary      []string
	target    string
	seed      uint64
	seeds     int
	out       string
	study     string
	parallel  int
	maxTime   time.Duration
	quiet     bool
	shard     string
	job       jobOptions
}

// studyFlags describe the study itself; --study replaces them all.
var studyFlags = []string{"rgd", "instances", "vary", "target", "seed", "seeds"}

var sweepCmd = &command{
	name: "sweep",
	examples: `# converge time over QPS limits and worker counts, with knees and charts
krosim sweep --rgd testdata/rgd/chain.yaml --instances 200 --vary qps=20,100,500,none --vary workers=1,4 --out out/sweep
# a study file instead of flags
krosim sweep --study testdata/study/qps.yaml --out out/study
# the same study as 4 shards (each may run on another machine), then merged: the same bytes
for i in 0 1 2 3; do krosim sweep --study testdata/study/qps.yaml --shard $i/4 --out out/shards; done
krosim sweep merge out/shards --out out/qps
# the same on a Kubernetes cluster: an Indexed Job of 4 pods writing to a ReadWriteMany claim
krosim sweep --study testdata/study/qps.yaml --job --shards 4 --image registry.example/krosim:v1 --pvc sweeps | kubectl apply -f -`,
	args:    "",
	summary: "what-if study over a grid of QPS limits, workers, CPUs, instances and API latency: table, knees, diagnosis, charts",
	flags: func(fs *pflag.FlagSet) any {
		o := &sweepOptions{fs: fs}
		fs.StringArrayVar(&o.rgds, "rgd", nil, "RGD YAML file (repeatable; instances are spread across the RGDs)")
		fs.StringArrayVar(&o.crds, "crd", nil, crdHelp)
		fs.IntVar(&o.instances, "instances", study.DefaultInstances, "number of instances to create at every point")
		fs.StringArrayVar(&o.vary, "vary", nil, "dimension=v1,v2,... to vary (repeatable): "+strings.Join(study.Dimensions, ", ")+"; qps=none (or 0) is no limit, as kro runs")
		fs.StringVar(&o.target, "target", study.DefaultTarget, "built-in target name or target YAML file the what-ifs start from")
		fs.Uint64Var(&o.seed, "seed", 1, "first random seed")
		fs.IntVar(&o.seeds, "seeds", 1, "seeds per point (seed, seed+1, ...); several give spread bars")
		fs.StringVar(&o.out, "out", "", "directory for sweep.json, sweep.csv and the charts (PNG and SVG)")
		fs.StringVar(&o.study, "study", "", "study file (YAML: rgds, target, workload, dimensions, seeds) instead of --rgd, --vary, ...")
		fs.IntVar(&o.parallel, "parallel", runtime.NumCPU(), "points to run at once; results do not depend on it")
		fs.DurationVar(&o.maxTime, "max-time", study.DefaultMaxTime.D(), "virtual time limit of each point; a point stops there, not converged")
		fs.BoolVar(&o.quiet, "quiet", false, "print nothing but errors: no summary, no progress")
		fs.StringVar(&o.shard, "shard", "", "I/N: run only shard I of N (0 <= I < N), the points whose index mod N is I, writing --out/shard-I-of-N.json for 'krosim sweep merge'; auto/N takes I from $"+study.JobIndexEnv+", as Kubernetes sets it in an Indexed Job's pods")
		o.job.flags(fs)
		return o
	},
	subs: []*command{sweepMergeCmd},
	run:  func(e *env, o any, args []string) error { return sweep(e, o.(*sweepOptions), args) },
	interrupt: "no new point starts; the running ones finish, sweep.json, sweep.csv and the charts\n" +
		"(with --shard, its shard file) cover the finished points, marked incomplete, and krosim exits 1",
}

// sweep runs the pipeline: build the study -> load RGDs -> run the points -> write.
func sweep(e *env, o *sweepOptions, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %v (RGDs go in --rgd)", args)
	}
	if err := o.job.check(o.fs); err != nil {
		return err
	}
	var shard study.Shard
	if o.shard != "" {
		var err error
		if shard, err = study.ParseShard(o.shard, os.LookupEnv); err != nil {
			return usagef("%v", err)
		}
		if o.out == "" {
			return usagef("--shard needs --out, the directory for its shard file")
		}
	}
	s, err := o.buildStudy()
	if err != nil {
		return err
	}
	rgds, err := loadRGDs(e, model.DefaultLimits, s.RGDs, o.crds)
	if err != nil {
		return err
	}
	if o.parallel < 1 {
		return usagef("--parallel must be at least 1")
	}
	if o.job.on {
		return o.writeJob(e, s)
	}
	if o.shard != "" {
		return o.runShard(e, s, rgds, shard)
	}
	var sw *study.Sweep
	err = o.watch(e, s, len(s.Grid().Points), func(opts study.Options) (err error) {
		sw, err = study.Run(e.ctx, s, rgds, opts)
		return err
	})
	if err != nil {
		return err
	}
	if err := writeSweep(e, o.out, o.quiet, sw); err != nil {
		return err
	}
	if !sw.Complete {
		return fmt.Errorf("%s; results for the finished points were written", sw.Incomplete)
	}
	return nil
}

// watch runs points through run with progress on stderr, and says so
// there when a signal stops them.
func (o *sweepOptions) watch(e *env, s *study.Study, points int, run func(study.Options) error) error {
	prog := newProgress(e.stderr, o.quiet, points, s)
	finished, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-e.ctx.Done():
			prog.interrupted(context.Cause(e.ctx))
		case <-finished:
		}
	}()
	err := run(study.Options{Parallel: o.parallel, Progress: prog.point})
	close(finished)
	<-watched // nothing is printed once sweep returns
	prog.finish()
	return err
}

// writeSweep writes sweep.json, sweep.csv and the charts into dir (when
// given) and prints the summary (unless quiet).
func writeSweep(e *env, dir string, quiet bool, sw *study.Sweep) error {
	files := outputs{}
	var err error
	if files["sweep.json"], err = sw.JSON(); err != nil {
		return err
	}
	if files["sweep.csv"], err = sw.CSV(); err != nil {
		return err
	}
	if dir != "" {
		charts, err := chart.Files(sw)
		if err != nil {
			return err
		}
		maps.Copy(files, charts)
		if err := writeDir(dir, files); err != nil {
			return err
		}
	}
	if quiet {
		return nil
	}
	if err := sw.WriteText(e.stdout); err != nil {
		return err
	}
	if dir != "" {
		fmt.Fprintf(e.stdout, "\nwrote %s: %s\n", dir, strings.Join(slices.Sorted(maps.Keys(files)), ", "))
	}
	return nil
}

// buildStudy reads --study, or builds a study from the flags.
func (o *sweepOptions) buildStudy() (*study.Study, error) {
	if o.study != "" {
		var set []string
		for _, f := range studyFlags {
			if o.fs.Changed(f) {
				set = append(set, "--"+f)
			}
		}
		if len(set) > 0 {
			return nil, usagef("--study replaces %s; edit the study file instead", strings.Join(set, ", "))
		}
		s, err := study.Load(o.study)
		if err != nil {
			return nil, err
		}
		if o.fs.Changed("max-time") {
			s.MaxTime = target.Duration(o.maxTime)
		}
		return s, nil
	}
	if len(o.rgds) == 0 {
		return nil, usagef("--rgd or --study is required")
	}
	if o.seeds < 1 || o.seeds > study.MaxPoints {
		return nil, usagef("--seeds must be at least 1 and at most %d, got %d", study.MaxPoints, o.seeds)
	}
	s := &study.Study{RGDs: o.rgds, Target: o.target, Workload: workload.Default(o.instances),
		Dimensions: map[string][]float64{}, MaxTime: target.Duration(o.maxTime)}
	for i := range o.seeds {
		s.Seeds = append(s.Seeds, o.seed+uint64(i))
	}
	for _, v := range o.vary {
		name, list, ok := strings.Cut(v, "=")
		if !ok || list == "" {
			return nil, usagef("--vary %q: want dimension=v1,v2,... (dimensions: %s)", v, strings.Join(study.Dimensions, ", "))
		}
		if _, dup := s.Dimensions[name]; dup {
			return nil, usagef("--vary %s given twice", name)
		}
		vals, err := study.ParseValues(name, list)
		if err != nil {
			return nil, usagef("--vary %s", err)
		}
		s.Dimensions[name] = vals
	}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		return nil, usagef("%v", err)
	}
	if _, _, _, err := s.Configs(); err != nil { // e.g. a burst with no qps limit anywhere
		return nil, usagef("%v", err)
	}
	return s, nil
}
