package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/krosim/krosim/sim/study"
	"github.com/krosim/krosim/sim/study/job"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// shardSweep is 8 small points: qps 20 and none, 1 and 2 workers, 2 seeds.
func shardSweep(extra ...string) []string {
	return append([]string{"sweep", "--rgd", chainRGD, "--instances", "5",
		"--vary", "qps=20,none", "--vary", "workers=1,2", "--seeds", "2"}, extra...)
}

// mustRun runs krosim and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) (stdout string) {
	t.Helper()
	code, stdout, stderr := run(args...)
	if code != exitOK {
		t.Fatalf("krosim %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// sameDirs fails unless dirs a and b hold the same files with the same bytes.
func sameDirs(t *testing.T, a, b string) {
	t.Helper()
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	na, nb := names(a), names(b)
	if strings.Join(na, " ") != strings.Join(nb, " ") {
		t.Fatalf("%s holds %v, %s holds %v", a, na, b, nb)
	}
	for _, n := range na {
		x, _ := os.ReadFile(filepath.Join(a, n))
		y, _ := os.ReadFile(filepath.Join(b, n))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between %s and %s", n, a, b)
		}
	}
}

func TestShardedSweepMergesToSequential(t *testing.T) {
	dir := t.TempDir()
	seq := filepath.Join(dir, "seq")
	want := mustRun(t, shardSweep("--out", seq)...)
	for _, n := range []int{1, 3, 11} { // 11 shards of 8 points: three are empty
		shards := filepath.Join(dir, fmt.Sprint("shards-", n))
		for i := range n {
			mustRun(t, shardSweep("--shard", fmt.Sprintf("%d/%d", i, n), "--out", shards, "--quiet")...)
		}
		merged := filepath.Join(dir, fmt.Sprint("merged-", n))
		got := mustRun(t, "sweep", "merge", shards, "--out", merged)
		sameDirs(t, seq, merged)
		if strings.ReplaceAll(got, merged, seq) != want {
			t.Errorf("%d shards: the merge printed\n%s\nthe sequential sweep\n%s", n, got, want)
		}
	}
}

func TestShardRunSaysWhatItWrote(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(study.JobIndexEnv, "2")
	out := mustRun(t, shardSweep("--shard", "auto/3", "--out", dir)...)
	path := filepath.Join(dir, "shard-2-of-3.json")
	if want := "krosim sweep: shard 2/3: 2 of the grid's 8 points (2, 5)\nwrote " + path; !strings.HasPrefix(out, want) {
		t.Errorf("stdout %q, want it to start with %q", out, want)
	}
	if _, err := study.ReadShard(path); err != nil {
		t.Error(err)
	}
}

func TestSweepMergeRefuses(t *testing.T) {
	dir := t.TempDir()
	shards := func(name string, n int, idx []int, extra ...string) string {
		d := filepath.Join(dir, name)
		for _, i := range idx {
			mustRun(t, shardSweep(append([]string{"--shard", fmt.Sprintf("%d/%d", i, n), "--out", d, "--quiet"}, extra...)...)...)
		}
		return d
	}
	partial := shards("partial", 3, []int{0, 2})
	mixed := shards("mixed", 2, []int{0})
	shards("mixed", 2, []int{1}, "--max-time", "1h")
	corrupt := shards("corrupt", 2, []int{0, 1})
	bad := filepath.Join(corrupt, "shard-1-of-2.json")
	if err := os.WriteFile(bad, []byte(`{"format": "krosim/sweep-shard/v1", "shard": 1`), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dirs []string
		want []string
	}{
		{"a missing shard", []string{partial}, []string{"3 of 8 points missing, so nothing was merged",
			"shard 1/3 (no shard-1-of-3.json): points 1, 4, 7", "run the same sweep with --shard 1/3, then merge again"}},
		{"different studies", []string{mixed}, []string{"are not shards of one sweep", "their study differ"}},
		{"a corrupt file", []string{corrupt}, []string{bad + ": not a readable shard file: unexpected EOF"}},
		{"no shard files", []string{empty}, []string{empty + " holds no shard files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "merged")
			code, stdout, stderr := run(append(append([]string{"sweep", "merge"}, tt.dirs...), "--out", out)...)
			if code != exitRun || stdout != "" {
				t.Errorf("exit %d, stdout %q; want exit %d and nothing", code, stdout, exitRun)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the merge wrote %s (stat: %v)", out, err)
			}
		})
	}
}

func TestShardUsageErrors(t *testing.T) {
	tests := []struct {
		name  string
		index string // $JOB_COMPLETION_INDEX, "" for unset
		args  []string
		want  string
	}{
		{"index out of range", "", shardSweep("--shard", "3/3", "--out", "x"), "I must be an integer from 0 to 2"},
		{"no N", "", shardSweep("--shard", "3", "--out", "x"), "want I/N"},
		{"auto without the variable", "", shardSweep("--shard", "auto/3", "--out", "x"), "$JOB_COMPLETION_INDEX is not set"},
		{"auto out of range", "3", shardSweep("--shard", "auto/3", "--out", "x"), `$JOB_COMPLETION_INDEX="3"`},
		{"no out", "", shardSweep("--shard", "0/3"), "--shard needs --out"},
		{"job flag without --job", "", shardSweep("--image", "x"), "--image needs --job"},
		{"job without shards", "", shardSweep("--job", "--image", "x"), "--job needs --shards"},
		{"job with out", "", shardSweep("--job", "--shards", "2", "--image", "x", "--out", "x"), "drop --out"},
		{"job with shard", "", shardSweep("--job", "--shards", "2", "--image", "x", "--shard", "0/2"), "drop --shard"},
		{"job without image", "", shardSweep("--job", "--shards", "2"), "an image is required"},
		{"bad job name", "", shardSweep("--job", "--shards", "2", "--image", "x", "--job-name", "Sweep_1"), `job name "Sweep_1"`},
		{"merge without dirs", "", []string{"sweep", "merge"}, "give the directories"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.index != "" {
				t.Setenv(study.JobIndexEnv, tt.index)
			} else {
				t.Setenv(study.JobIndexEnv, "")
				os.Unsetenv(study.JobIndexEnv)
			}
			code, _, stderr := run(tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, tt.want)
			}
		})
	}
}

// TestJobRunsTheShardedSweep decodes --job's manifest strictly into the
// Kubernetes types, then does what the cluster would: lays out the
// ConfigMap's files as the pod mounts them, runs each pod's command line
// in-process with its $JOB_COMPLETION_INDEX, and merges the shard files.
// The merge must equal the sweep run directly, byte for byte.
func TestJobRunsTheShardedSweep(t *testing.T) {
	rgd, err := os.ReadFile(chainRGD)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	write := func(name, data string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rgd/chain.yaml", string(rgd))
	write("studies/small.yaml", "name: small\nrgds: [../rgd/chain.yaml]\nworkload: {instances: 4}\ndimensions: {qps: [30, 0], workers: [1, 3]}\nseeds: [7]\n")
	t.Chdir(src)
	manifest := mustRun(t, "sweep", "--study", "studies/small.yaml", "--max-time", "2h", "--job", "--shards", "3",
		"--image", "registry.example/krosim:v1", "--pvc", "sweeps", "--job-name", "small", "--backoff-limit-per-index", "2", "--pod-memory", "1Gi")

	docs := strings.Split(manifest, "\n---\n")
	if len(docs) != 3 || !strings.HasPrefix(docs[0], "# krosim sweep as a Kubernetes Indexed Job") {
		t.Fatalf("want a comment and two documents, got %d parts:\n%s", len(docs), manifest)
	}
	var cm corev1.ConfigMap
	var j batchv1.Job
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &cm); err != nil {
		t.Fatalf("the ConfigMap: %v", err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[2]), &j); err != nil {
		t.Fatalf("the Job: %v", err)
	}
	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Name != "small-inputs" || len(cm.Data) != 2 {
		t.Errorf("ConfigMap %s %s %q with %d files", cm.APIVersion, cm.Kind, cm.Name, len(cm.Data))
	}
	spec := j.Spec
	switch {
	case j.APIVersion != "batch/v1" || j.Kind != "Job" || j.Name != "small":
		t.Errorf("Job %s %s %q", j.APIVersion, j.Kind, j.Name)
	case spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion:
		t.Errorf("completionMode %v, want Indexed", spec.CompletionMode)
	case *spec.Completions != 3 || *spec.Parallelism != 3 || *spec.BackoffLimitPerIndex != 2:
		t.Errorf("completions %d, parallelism %d, backoffLimitPerIndex %d; want 3, 3, 2", *spec.Completions, *spec.Parallelism, *spec.BackoffLimitPerIndex)
	case spec.PodFailurePolicy == nil || len(spec.PodFailurePolicy.Rules) != 1 ||
		spec.PodFailurePolicy.Rules[0].Action != batchv1.PodFailurePolicyActionFailIndex ||
		fmt.Sprint(spec.PodFailurePolicy.Rules[0].OnExitCodes.Values) != "[2]":
		t.Errorf("podFailurePolicy %+v, want usage errors (exit 2) to fail their index at once", spec.PodFailurePolicy)
	case spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever:
		t.Errorf("restartPolicy %q, want Never (backoffLimitPerIndex needs it)", spec.Template.Spec.RestartPolicy)
	case len(spec.Template.Spec.Containers) != 1:
		t.Fatalf("%d containers", len(spec.Template.Spec.Containers))
	}
	c := spec.Template.Spec.Containers[0]
	if c.Image != "registry.example/krosim:v1" || len(c.Command) != 1 || c.Command[0] != "krosim" || c.WorkingDir != job.WorkDir {
		t.Errorf("container image %q, command %v, workingDir %q", c.Image, c.Command, c.WorkingDir)
	}
	if got := c.Resources.Limits.Memory().String(); got != "1Gi" {
		t.Errorf("memory limit %s, want 1Gi", got)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}

	// Lay out the pod's filesystem: WorkDir and ResultsDir become local directories.
	pod, results := t.TempDir(), t.TempDir()
	sawResults := false
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		switch {
		case v.ConfigMap != nil:
			if v.ConfigMap.Name != cm.Name || !m.ReadOnly {
				t.Errorf("mount %s: ConfigMap %q, read-only %v", m.MountPath, v.ConfigMap.Name, m.ReadOnly)
			}
			data, ok := cm.Data[m.SubPath]
			rel, err := filepath.Rel(job.WorkDir, m.MountPath)
			if !ok || err != nil || strings.HasPrefix(rel, "..") {
				t.Fatalf("mount %s of key %q: not a ConfigMap file under %s", m.MountPath, m.SubPath, job.WorkDir)
			}
			at := filepath.Join(pod, rel)
			if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(at, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		case v.PersistentVolumeClaim != nil:
			sawResults = m.MountPath == job.ResultsDir && v.PersistentVolumeClaim.ClaimName == "sweeps" && m.SubPath == "small"
		default:
			t.Errorf("mount %s of an unexpected volume %+v", m.MountPath, v)
		}
	}
	if !sawResults {
		t.Errorf("no mount of claim sweeps at %s (subPath small): %+v", job.ResultsDir, c.VolumeMounts)
	}
	args := append([]string{}, c.Args...)
	for i, a := range args {
		if a == job.ResultsDir {
			args[i] = results
		}
	}
	if want := "sweep --study studies/small.yaml --max-time 2h0m0s --shard auto/3 --out " + results; strings.Join(args, " ") != want {
		t.Errorf("the pod runs %q, want %q", strings.Join(args, " "), want)
	}
	t.Chdir(pod)
	for i := range int(*spec.Completions) {
		t.Setenv(study.JobIndexEnv, fmt.Sprint(i))
		mustRun(t, args...)
	}
	os.Unsetenv(study.JobIndexEnv)
	mustRun(t, "sweep", "merge", results, "--out", "merged", "--quiet")
	mustRun(t, "sweep", "--study", "studies/small.yaml", "--max-time", "2h", "--out", "direct", "--quiet")
	sameDirs(t, "direct", "merged")
	// And the same bytes as run from the directory the manifest was made in.
	t.Chdir(src)
	mustRun(t, "sweep", "--study", "studies/small.yaml", "--max-time", "2h", "--out", "here", "--quiet")
	sameDirs(t, "here", filepath.Join(pod, "merged"))
}

func TestJobRefusesFilesOutsideTheDirectory(t *testing.T) {
	code, _, stderr := run(shardSweep("--job", "--shards", "2", "--image", "x")...)
	if code != exitRun || !strings.Contains(stderr, chainRGD+" is outside the current directory") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming %s", code, stderr, chainRGD)
	}
}

func TestInterruptedShardIsReportedByMerge(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	dir := t.TempDir()
	stderr := &cancelOnWrite{cancel: func() { cancel(&interrupted{syscall.SIGTERM}) }}
	var stdout bytes.Buffer
	if code := dispatch(smallSweep("--shard", "0/1", "--out", dir, "--parallel", "1"), &stdout, stderr, injected(ctx)); code != exitRun {
		t.Errorf("exit %d, want %d", code, exitRun)
	}
	path := filepath.Join(dir, "shard-0-of-1.json")
	if got := stderr.b.String(); !strings.Contains(got, "interrupted by SIGTERM: 1 of 4 points finished; the finished points were written to "+path) {
		t.Errorf("stderr does not report the interruption:\n%s", got)
	}
	code, _, merr := run("sweep", "merge", dir, "--out", filepath.Join(dir, "merged"))
	if want := "shard 0/1 (" + path + ": interrupted by SIGTERM: 1 of 4 points finished): points 1, 2, 3"; code != exitRun || !strings.Contains(merr, want) {
		t.Errorf("merge: exit %d, stderr %q; want exit 1 and %q", code, merr, want)
	}
}
