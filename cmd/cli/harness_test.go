package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/krosim/krosim/sim/result"
)

// harnessDir is where make fidelity's calibration of the harness and its real
// runs of the fidelity set are kept (testdata/realapi/fidelity.md).
const harnessDir = measured + "/harness"

// TestCalibrateHarness derives the harness's target from its calibration
// runs (calibrate --cpu-from: kro's CPU per request and per reconcile, the
// server's per request, and what both burn per second while requests flow,
// from the processes' CPU time in three runs each of the calibration RGDs
// at 1 to 8 workers, and the latency kro saw) and wants the committed target
// byte for byte. -update rewrites it.
func TestCalibrateHarness(t *testing.T) {
	out := filepath.Join(t.TempDir(), "harness.yaml")
	cal, err := filepath.Glob(filepath.Join(harnessDir, "cal-*-w*-r*"))
	if err != nil || len(cal) < 2 {
		t.Fatalf("calibration runs in %s: %d (%v)", harnessDir, len(cal), err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"calibrate", "--target", filepath.Join(harnessDir, "micro.yaml")}
	for _, d := range cal {
		args = append(args, "--cpu-from", d)
	}
	args = append(args, "--rgd-root", "../..", "--name", "harness", "--output", out)
	if code := Main(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("krosim calibrate: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"kro's CPU", "per reconcile", "per wakeup", "server CPU per request", "server.progress_delay", "latency from"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the calibration report lacks %q:\n%s", want, stderr.String())
		}
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if golden := filepath.Join(harnessDir, "harness.yaml"); !matchGolden(t, golden, got) {
		t.Errorf("calibrate --cpu-from no longer makes %s (go test ./cmd/cli -run Harness -update rewrites it):\n%s", golden, got)
	}
}

// matchGolden says whether got is the golden file's content, after writing
// it there with -update.
func matchGolden(t *testing.T, golden string, got []byte) bool {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(got, want)
}

// TestHarnessPredictsFidelitySet simulates every row of real runs of the
// fidelity set kept in testdata/realapi/measured/harness (an RGD, a worker
// count, an instance count; one or two quiet runs) with the one harness
// target, which saw none of those RGDs, and holds every commit to the
// result: the table of predictions against kro (fidelity-table.md there,
// testdata/realapi/fidelity.md shows it) must not change unless rewritten
// with -update, and with one worker every row, the readyWhen RGD's (whose
// stand-ins a controller makes ready) too, must meet issue 13's bars: every
// count equal, converge within 10% and delete within 5% of the real run.
// With more workers the table records how far off the model is.
func TestHarnessPredictsFidelitySet(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(harnessDir, "real-*-r*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no real runs in %s (%v)", harnessDir, err)
	}
	rows := map[string][]string{} // real-RGD-wW-nN -> its runs
	var names []string
	for _, d := range dirs {
		row := d[:strings.LastIndex(d, "-r")]
		if rows[row] == nil {
			names = append(names, row)
		}
		rows[row] = append(rows[row], d)
	}
	sort.Slice(names, func(i, j int) bool { return rowKey(names[i]) < rowKey(names[j]) })
	target := filepath.Join(harnessDir, "harness.yaml")
	table := make([]string, len(names))
	t.Run("rows", func(t *testing.T) {
		for i, row := range names {
			runs := rows[row]
			t.Run(filepath.Base(row), func(t *testing.T) {
				t.Parallel()
				res, err := result.Read(runs[0])
				if err != nil {
					t.Fatal(err)
				}
				workers := res.Config.Cluster.Workers
				sim := t.TempDir()
				args := []string{"run", "--target", target, "--crd", "../../testdata/realapi/standins.yaml",
					"--instances", fmt.Sprint(res.Summary.InstancesTotal), "--workers", fmt.Sprint(workers),
					"--delete", "--quiet", "--out", sim}
				for _, f := range res.Config.RGDFiles {
					args = append(args, "--rgd", filepath.Join("../..", f))
				}
				if res.Real.Standins != nil { // the delays the stand-in controller used
					args = append(args, "--readiness", readyTarget)
				}
				var stdout, stderr bytes.Buffer
				if code := Main(args, &stdout, &stderr); code != exitOK {
					t.Fatalf("krosim run: exit %d: %s", code, stderr.String())
				}
				bars := []string{"--tolerance", fmt.Sprint(convergeTolerance), "--delete-tolerance", fmt.Sprint(deleteTolerance)}
				stdout.Reset()
				Main(append(append([]string{"compare", "-o", "markdown", "--rgd-column"}, bars...), append([]string{sim}, runs...)...), &stdout, &stderr)
				table[i] = stdout.String()
				if workers != 1 {
					return // several workers: not yet within the bars everywhere
				}
				stdout.Reset()
				if code := Main(append(append([]string{"compare"}, bars...), append([]string{sim}, runs...)...), &stdout, &stderr); code != exitOK {
					t.Errorf("krosim compare: exit %d:\n%s%s", code, stdout.String(), stderr.String())
				}
			})
		}
	})
	var header bytes.Buffer
	Main([]string{"compare", "-o", "markdown-header", "--rgd-column"}, &header, &header)
	got := header.String() + strings.Join(table, "")
	if golden := filepath.Join(harnessDir, "fidelity-table.md"); !matchGolden(t, golden, []byte(got)) {
		t.Errorf("the predictions of the fidelity set changed (go test ./cmd/cli -run Harness -update rewrites %s):\n%s", golden, got)
	}
}

// rowKey orders rows by RGD, then workers and instances as numbers.
func rowKey(row string) string {
	base := filepath.Base(row) // real-NAME-wW-nN
	i := strings.LastIndex(base, "-w")
	var w, n int
	fmt.Sscanf(base[i:], "-w%d-n%d", &w, &n)
	return fmt.Sprintf("%s %03d %06d", base[:i], w, n)
}

// readyTarget is the target whose readiness the stand-in controller used in
// the kept real runs of readyWhen RGDs (make fidelity passes it).
const readyTarget = "../../testdata/realapi/ready-target.yaml"

// The fidelity bars of issue 13: converge time within 10% and delete time
// within 5% of the real run.
const (
	convergeTolerance = 0.10
	deleteTolerance   = 0.05
)
