package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/study"
	"github.com/krosim/krosim/sim/study/job"
	"github.com/spf13/pflag"
)

// runShard runs shard sh of study s and writes its shard file into --out.
func (o *sweepOptions) runShard(e *env, s *study.Study, rgds []*model.RGD, sh study.Shard) error {
	inputs, err := study.Digest(append(s.Files(), o.crds...))
	if err != nil {
		return err
	}
	total := len(s.Grid().Points)
	owned := sh.Points(total)
	var f *study.ShardFile
	err = o.watch(e, s, len(owned), func(opts study.Options) (err error) {
		f, err = study.RunShard(e.ctx, s, rgds, sh, study.Provenance{Inputs: inputs, Krosim: version()}, opts)
		return err
	})
	if err != nil {
		return err
	}
	js, err := f.JSON()
	if err != nil {
		return err
	}
	if err := writeDir(o.out, outputs{sh.File(): js}); err != nil {
		return err
	}
	path := filepath.Join(o.out, sh.File())
	if !o.quiet {
		fmt.Fprintf(e.stdout, "krosim sweep: shard %s: %d of the grid's %d points (%s)\nwrote %s; once every shard is written: krosim sweep merge DIR... --out DIR\n",
			sh, len(f.Points), total, study.FormatIndices(owned, 10), path)
	}
	if !f.Complete {
		return fmt.Errorf("%s; the finished points were written to %s", f.Incomplete, path)
	}
	return nil
}

// jobOptions are sweep's flags for --job.
type jobOptions struct {
	on                    bool
	shards                int
	image, name, ns, pvc  string
	krosim, cpu, memory   string
	parallelism, backoffs int
}

// jobFlags are the flags that only --job uses.
var jobFlags = []string{"shards", "image", "job-name", "namespace", "pvc", "krosim", "pod-cpu", "pod-memory", "parallelism", "backoff-limit-per-index"}

func (j *jobOptions) flags(fs *pflag.FlagSet) {
	fs.BoolVar(&j.on, "job", false, "print, instead of running the sweep, a Kubernetes Indexed Job running it as --shards pods (pod I: --shard auto/N) and a ConfigMap of its input files, for kubectl apply -f")
	fs.IntVar(&j.shards, "shards", 0, "with --job: shards, one pod each (the Job's completions)")
	fs.StringVar(&j.image, "image", "", "with --job: container image with krosim in it")
	fs.StringVar(&j.krosim, "krosim", "krosim", "with --job: krosim's path in the image, or its name on the image's PATH")
	fs.StringVar(&j.name, "job-name", "krosim-sweep", "with --job: the Job's name (the ConfigMap is NAME-inputs)")
	fs.StringVar(&j.ns, "namespace", "", "with --job: namespace of the Job and the ConfigMap (default: kubectl's)")
	fs.StringVar(&j.pvc, "pvc", "", "with --job: PersistentVolumeClaim the pods write their shard files to, under a directory named after the Job (ReadWriteMany when pods share it across nodes); without it an emptyDir, whose shard files are lost with each pod")
	fs.IntVar(&j.parallelism, "parallelism", 0, "with --job: pods running at once (default: every shard)")
	fs.IntVar(&j.backoffs, "backoff-limit-per-index", 1, "with --job: retries of a shard's failed pod before the shard fails (the Job's backoffLimitPerIndex)")
	fs.StringVar(&j.cpu, "pod-cpu", "", "with --job: CPU each pod requests, e.g. 2 or 500m")
	fs.StringVar(&j.memory, "pod-memory", "", "with --job: memory each pod requests and is limited to, e.g. 4Gi")
}

// check reports flags that do not go together.
func (j *jobOptions) check(fs *pflag.FlagSet) error {
	if !j.on {
		for _, f := range jobFlags {
			if fs.Changed(f) {
				return usagef("--%s needs --job", f)
			}
		}
		return nil
	}
	switch {
	case fs.Changed("shard"):
		return usagef("--job gives each pod its own --shard auto/N; drop --shard")
	case fs.Changed("out"):
		return usagef("--job prints the manifest, and its pods write into their results volume; drop --out")
	case !fs.Changed("shards"):
		return usagef("--job needs --shards N, the number of pods")
	}
	if err := j.spec(nil, nil).Validate(); err != nil {
		return usagef("--job: %v", err)
	}
	return nil
}

func (j *jobOptions) spec(args, files []string) job.Spec {
	return job.Spec{Name: j.name, Namespace: j.ns, Image: j.image, Krosim: j.krosim, Shards: j.shards,
		Parallelism: j.parallelism, BackoffLimitPerIndex: j.backoffs, PVC: j.pvc, CPU: j.cpu, Memory: j.memory,
		Args: args, Files: files}
}

// writeJob prints the Job running the sweep of s, shard by shard.
func (o *sweepOptions) writeJob(e *env, s *study.Study) error {
	var files []string
	if o.study != "" {
		files = append(files, o.study)
	}
	files = append(append(files, s.Files()...), o.crds...)
	m, err := job.Manifest(o.job.spec(o.podArgs(), files))
	if err != nil {
		return err
	}
	if _, err := e.stdout.Write(m); err != nil {
		return err
	}
	if n := len(s.Grid().Points); o.job.shards > n && !o.quiet {
		fmt.Fprintf(e.stderr, "krosim sweep: note: %d shards for %d points, so %d pods have nothing to run\n", o.job.shards, n, o.job.shards-n)
	}
	return nil
}

// podArgs is the command line each pod runs: the sweep's flags as given,
// without those of --job and the local output; the Job adds --shard and --out.
func (o *sweepOptions) podArgs() []string {
	skip := append([]string{"job", "shard", "out", "quiet"}, jobFlags...)
	args := []string{"sweep"}
	o.fs.Visit(func(f *pflag.Flag) {
		switch sv, slice := f.Value.(pflag.SliceValue); {
		case slices.Contains(skip, f.Name):
		case slice:
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+f.Name, v)
			}
		case f.Value.Type() == "bool":
			args = append(args, "--"+f.Name+"="+f.Value.String())
		default:
			args = append(args, "--"+f.Name, f.Value.String())
		}
	})
	return args
}

// mergeOptions are the flags of sweep merge.
type mergeOptions struct {
	out   string
	quiet bool
}

var sweepMergeCmd = &command{
	name: "sweep merge",
	args: "DIR|FILE...",
	summary: "join the shard files of 'krosim sweep --shard I/N' into the sweep.json, sweep.csv, charts and summary one unsharded run writes, " +
		"byte for byte; when points are missing, list them by shard, write nothing and exit 1",
	flags: func(fs *pflag.FlagSet) any {
		o := &mergeOptions{}
		fs.StringVar(&o.out, "out", "", "directory for sweep.json, sweep.csv and the charts (PNG and SVG), as krosim sweep --out writes them")
		fs.BoolVar(&o.quiet, "quiet", false, "print nothing but errors: no summary")
		return o
	},
	run: func(e *env, o any, args []string) error { return sweepMerge(e, o.(*mergeOptions), args) },
	examples: `  # Shards written into one directory (or several: give them all).
  krosim sweep merge out/shards --out out/qps
  # Check a Job's shards for missing points without writing anything.
  krosim sweep merge results/krosim-sweep --quiet
`,
}

// sweepMerge reads the shard files in args (directories or files), merges
// them and writes the sweep's outputs.
func sweepMerge(e *env, o *mergeOptions, args []string) error {
	if len(args) == 0 {
		return usagef("give the directories or files holding the shard files (shard-I-of-N.json)")
	}
	var paths []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		found, err := filepath.Glob(filepath.Join(a, "shard-*-of-*.json"))
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return fmt.Errorf("%s holds no shard files (shard-I-of-N.json)", a)
		}
		paths = append(paths, found...)
	}
	var (
		files  []*study.ShardFile
		failed bool
	)
	for _, p := range paths {
		f, err := study.ReadShard(p)
		if err != nil {
			fmt.Fprintf(e.stderr, "krosim: %s: %v\n", e.cmd, err)
			failed = true
			continue
		}
		files = append(files, f)
	}
	if failed {
		return reportedError
	}
	sw, err := study.Merge(files)
	if err != nil {
		return err
	}
	if v := files[0].Identity.Krosim; v != version() && !o.quiet {
		fmt.Fprintf(e.stderr, "krosim: %s: note: the shards were run by %s, this is %s; its summary of them may differ from theirs\n", e.cmd, v, version())
	}
	return writeSweep(e, o.out, o.quiet, sw)
}
