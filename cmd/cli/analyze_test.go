package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krosim/krosim/sim/result"
)

// cli runs krosim in-process and returns its exit code and output.
func cli(args ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	code := Main(args, &stdout, &stderr)
	return code, stdout.String() + stderr.String()
}

// slower copies the run in dir with its converge and time-to-ready times
// made worse by factor: an injected regression.
func slower(t *testing.T, dir string, factor float64) string {
	t.Helper()
	r, err := result.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := *r.Summary.ConvergeSeconds * factor
	r.Summary.ConvergeSeconds = &c
	r.Summary.TimeToReady.P99 *= factor
	out := t.TempDir()
	data, err := result.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, result.File), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAnalyzeGatesRegressions: a 20% slower run exits 1 naming what
// regressed; a rerun of the same inputs is exactly the same and exits 0.
func TestAnalyzeGatesRegressions(t *testing.T) {
	base, rerun := t.TempDir(), t.TempDir()
	for _, d := range []string{base, rerun} {
		if code, out := cli("run", "--rgd", "../../testdata/rgd/webapp.yaml", "--instances", "50", "--out", d); code != exitOK {
			t.Fatalf("run: exit %d\n%s", code, out)
		}
	}
	code, out := cli("analyze", rerun, "--baseline", base)
	if code != exitOK || !strings.Contains(out, "No regression") || strings.Contains(out, "REGRESSION") {
		t.Errorf("a rerun of the same inputs: exit %d, want 0 and no regression\n%s", code, out)
	}
	if !strings.Contains(out, "exact (deterministic)") || strings.Contains(out, "changed") {
		t.Errorf("a rerun should compare exactly and find every metric the same:\n%s", out)
	}
	slow := slower(t, base, 1.2)
	code, out = cli("analyze", slow, "--baseline", base)
	if code != exitRun {
		t.Errorf("a 20%% slower converge: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{"REGRESSION: 2 of", "converge_seconds +20.0%", "time_to_ready_p99_seconds +20.0%"} {
		if !strings.Contains(out, want) {
			t.Errorf("analyze output lacks %q:\n%s", want, out)
		}
	}
	// A looser threshold for those two lets the change pass.
	if code, out := cli("analyze", slow, "--baseline", base, "--threshold", "converge_seconds=25%", "--threshold", "time_to_ready_*=25%"); code != exitOK {
		t.Errorf("thresholds of 25%%: exit %d, want 0\n%s", code, out)
	}
	code, out = cli("analyze", slow, "--baseline", base, "-o", "markdown")
	if code != exitRun || !strings.Contains(out, ":x: **REGRESSION") || !strings.Contains(out, "| converge\\_seconds |") {
		t.Errorf("markdown: exit %d\n%s", code, out)
	}
	code, out = cli("analyze", slow, "--baseline", base, "-o", "json")
	var js struct {
		Regressions int `json:"regressions"`
		Changes     []struct {
			Metric string  `json:"metric"`
			Delta  float64 `json:"delta"`
			Test   string  `json:"test"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != exitRun || js.Regressions != 2 || js.Changes[0].Test != "exact" {
		t.Errorf("json: exit %d, %v, %+v\n%s", code, err, js, out)
	}
}

func TestAnalyzeUsage(t *testing.T) {
	for _, args := range [][]string{{"analyze"}, {"analyze", "x", "-o", "yaml"}, {"analyze", "x", "--threshold", "converge"}} {
		if code, out := cli(args...); code != exitUsage {
			t.Errorf("krosim %v: exit %d, want 2\n%s", args, code, out)
		}
	}
	if code, out := cli("analyze", t.TempDir()); code != exitRun || !strings.Contains(out, "not a krosim output directory") {
		t.Errorf("an empty directory: exit %d\n%s", code, out)
	}
}
