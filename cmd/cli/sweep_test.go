package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var chainRGD = filepath.Join("..", "..", "testdata", "rgd", "chain.yaml")

// smallSweep is 4 points: qps 5 and 50, 1 and 2 workers, the API ten times slower.
func smallSweep(extra ...string) []string {
	return append([]string{"sweep", "--rgd", chainRGD, "--instances", "20",
		"--vary", "qps=5,50", "--vary", "workers=1,2", "--vary", "latency-scale=10"}, extra...)
}

func TestSweepWritesResultsAndCharts(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := run(smallSweep("--out", dir)...)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	for _, f := range []string{"sweep.json", "sweep.csv", "converge.png", "converge.svg", "ttr-p99.svg", "throttle.svg", "utilization.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	var sw struct {
		Complete bool `json:"complete"`
		Points   []struct {
			Diagnosis struct{ Constraint string } `json:"diagnosis"`
		} `json:"points"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sw); err != nil || !sw.Complete || len(sw.Points) != 4 {
		t.Errorf("sweep.json: complete %v, %d points, err %v", sw.Complete, len(sw.Points), err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "sweep.csv"))
	if n := strings.Count(string(csv), "\n"); n != 5 {
		t.Errorf("sweep.csv has %d lines, want a header and 4 rows", n)
	}
	for _, want := range []string{"krosim sweep: 4 points (qps 5,50 x workers 1,2 x latency-scale 10; 1 seed)",
		"client-qps", "Knees", "Recommendation:", "A QPS limit is a what-if", "wrote " + dir} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// stderr is not a terminal here: one line per point.
	if n := strings.Count(stderr, "krosim sweep: "); n != 4 || !strings.Contains(stderr, "4/4 qps=") {
		t.Errorf("stderr has %d progress lines, want 4:\n%s", n, stderr)
	}
}

func TestSweepQuietIsSilent(t *testing.T) {
	code, stdout, stderr := run(smallSweep("--quiet", "--parallel", "1")...)
	if code != exitOK || stdout != "" || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and silence", code, stdout, stderr)
	}
}

func TestSweepFromStudyFile(t *testing.T) {
	dir := t.TempDir()
	rgd, err := filepath.Abs(chainRGD)
	if err != nil {
		t.Fatal(err)
	}
	study := "rgds: [" + rgd + "]\nworkload: {instances: 10}\ndimensions: {qps: [5, 0]}\nseeds: [1, 2]\n"
	file := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(file, []byte(study), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run("sweep", "--study", file, "--out", dir, "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("--quiet printed %q", stdout)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if !strings.Contains(string(data), `"points_total": 4`) {
		t.Error("sweep.json does not have 4 points (2 qps x 2 seeds)")
	}
}

func TestSweepUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no rgd", []string{"sweep", "--vary", "qps=5"}, "--rgd or --study is required"},
		{"vary without values", []string{"sweep", "--rgd", chainRGD, "--vary", "qps"}, "want dimension=v1,v2"},
		{"unknown dimension", []string{"sweep", "--rgd", chainRGD, "--vary", "qsp=5"}, `unknown dimension "qsp"`},
		{"bad value", []string{"sweep", "--rgd", chainRGD, "--vary", "workers=1,two"}, `"two" is not a number`},
		{"vary twice", []string{"sweep", "--rgd", chainRGD, "--vary", "qps=5", "--vary", "qps=6"}, "--vary qps given twice"},
		{"study with flags", []string{"sweep", "--study", "s.yaml", "--rgd", chainRGD, "--seeds", "2"}, "--study replaces --rgd, --seeds"},
		{"no seeds", []string{"sweep", "--rgd", chainRGD, "--seeds", "0"}, "--seeds must be at least 1"},
		{"no parallelism", []string{"sweep", "--rgd", chainRGD, "--parallel", "0"}, "--parallel must be at least 1"},
		{"burst without a qps limit", []string{"sweep", "--rgd", chainRGD, "--vary", "burst=10"}, "needs a qps limit"},
		{"unknown target", []string{"sweep", "--rgd", chainRGD, "--vary", "qps=5", "--target", "no-such-target"}, "no-such-target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, tt.want)
			}
		})
	}
}

// cancelOnWrite is a stderr that cancels the sweep when the first point is reported.
type cancelOnWrite struct {
	mu     sync.Mutex
	b      bytes.Buffer
	cancel func()
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(string(p), "1/4") {
		w.cancel()
	}
	return w.b.Write(p)
}

func TestInterruptedSweepWritesFinishedPoints(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	dir := t.TempDir()
	stderr := &cancelOnWrite{cancel: func() { cancel(&interrupted{syscall.SIGTERM}) }}
	var stdout bytes.Buffer
	code := dispatch(smallSweep("--out", dir, "--parallel", "1"), &stdout, stderr, injected(ctx))
	if code != exitRun {
		t.Errorf("exit %d, want %d", code, exitRun)
	}
	if got := stderr.b.String(); !strings.Contains(got, "interrupted by SIGTERM after 1 of 4 points") ||
		!strings.Contains(got, "interrupted by SIGTERM: 1 of 4 points finished; results for the finished points were written") {
		t.Errorf("stderr does not report the interruption:\n%s", got)
	}
	if !strings.Contains(stdout.String(), "INCOMPLETE") {
		t.Errorf("stdout does not mark the sweep incomplete:\n%s", stdout.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sw struct {
		Complete bool              `json:"complete"`
		Points   []json.RawMessage `json:"points"`
	}
	if err := json.Unmarshal(data, &sw); err != nil || sw.Complete || len(sw.Points) != 1 {
		t.Errorf("sweep.json: complete %v with %d points (err %v); want incomplete with 1", sw.Complete, len(sw.Points), err)
	}
}
