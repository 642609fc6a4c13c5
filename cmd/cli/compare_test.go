package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krosim/krosim/profile/analysis"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
)

// writeResults writes a results.json with the given mode, converge time and
// patch count (and delete time, if given), and returns its directory.
func writeResults(t *testing.T, mode string, converge float64, patches int, deleteSeconds ...float64) string {
	t.Helper()
	dir := t.TempDir()
	res := result.Result{Format: result.Format, Complete: true}
	res.Summary = result.Summary{ConvergeSeconds: &converge, InstancesTotal: 10, InstancesReady: 10, Reconciles: 50,
		RequeuesByReason: map[string]int{"requeue_after": 40},
		APICalls:         map[verb.Verb]int{"get": 100, "patch": patches},
		APICallsByResource: map[string]map[verb.Verb]int{
			"apps": {"get": 60, "patch": patches}, "configmaps": {"get": 40}}}
	if len(deleteSeconds) > 0 {
		res.Summary.DeleteSeconds = &deleteSeconds[0]
	}
	if mode == "real" {
		res.Config.Mode, res.Config.Cluster = "real", &result.Cluster{Workers: 1}
	} else {
		tg, err := target.Lookup("kro-defaults")
		if err != nil {
			t.Fatal(err)
		}
		res.Config.Target = tg
	}
	data, err := result.Encode(&res)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withUpdate sets the update phase's time of the run in dir and returns dir.
func withUpdate(t *testing.T, dir string, seconds float64) string {
	t.Helper()
	res, err := result.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	res.Summary.UpdateSeconds = &seconds
	data, err := result.Encode(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompare(t *testing.T) {
	simDir := writeResults(t, "sim", 10, 30)
	simDel := writeResults(t, "sim", 10, 30, 20)
	simUpd := withUpdate(t, writeResults(t, "sim", 10, 30, 20), 8)
	tests := []struct {
		sim      string
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"", "equal and close", []string{writeResults(t, "real", 11, 30), writeResults(t, "real", 9.5, 30)}, exitOK,
			[]string{"PASS", "converge seconds", "apps patch", "equal"}},
		{"", "a count differs", []string{writeResults(t, "real", 10, 31)}, exitRun,
			[]string{"FAIL", "apps patch: simulated 30, real [31]", "DIFFERS"}},
		{"", "kro itself did not repeat", []string{writeResults(t, "real", 10, 29), writeResults(t, "real", 10, 31)}, exitOK,
			[]string{"PASS", "within"}},
		{"", "outside kro's own spread", []string{writeResults(t, "real", 10, 31), writeResults(t, "real", 10, 32)}, exitRun,
			[]string{"FAIL", "apps patch: simulated 30, real [31 32]"}},
		{"", "converge off", []string{writeResults(t, "real", 20, 30)}, exitRun,
			[]string{"FAIL", "converge time off by -50.0%"}},
		{simDel, "delete close", []string{writeResults(t, "real", 10, 30, 22)}, exitOK, []string{"PASS", "delete seconds"}},
		{simDel, "delete off", []string{writeResults(t, "real", 10, 30, 40)}, exitRun, []string{"FAIL", "delete time off by -50.0%"}},
		{simDel, "delete missing", []string{writeResults(t, "real", 10, 30)}, exitRun, []string{"FAIL", "delete time missing"}},
		{"", "tolerance", []string{"--tolerance", "0.6", writeResults(t, "real", 20, 30)}, exitOK, []string{"PASS"}},
		{simUpd, "update close", []string{withUpdate(t, writeResults(t, "real", 10, 30, 20), 8.5)}, exitOK,
			[]string{"PASS", "update seconds", "converge, update and delete times within tolerance"}},
		{simUpd, "update off", []string{withUpdate(t, writeResults(t, "real", 10, 30, 20), 16)}, exitRun,
			[]string{"FAIL", "update time off by -50.0%"}},
		{simUpd, "update missing", []string{writeResults(t, "real", 10, 30, 20)}, exitRun, []string{"FAIL", "update time missing"}},
		{simDel, "markdown", []string{"--output", "markdown", writeResults(t, "real", 10, 30, 25)}, exitRun,
			[]string{"| 10 | 1 | 5.00 / 5.00 | 13.00 / 13.00 | equal | 10.000 | 10.000 (10.000) | +0.0% | 20.000 | 25.000 (25.000) | **-20.0%** |"}},

		{"", "counts", []string{"-o", "counts", writeResults(t, "real", 10, 30)}, exitOK,
			[]string{"| apps patch | 3.00 | 3.00 |"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := []string{"compare"}
			var dirs []string
			for _, a := range tt.args {
				if strings.HasPrefix(a, "-") || !strings.Contains(a, string(filepath.Separator)) {
					args = append(args, a)
				} else {
					dirs = append(dirs, a)
				}
			}
			sim := simDir
			if tt.sim != "" {
				sim = tt.sim
			}
			args = append(append(args, sim), dirs...)
			code := Main(args, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out.String(), errb.String())
			}
			for _, want := range tt.contains {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestCompareMarkdownHeader(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"compare", "-o", "markdown-header"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || strings.Count(lines[0], "|") != strings.Count(lines[1], "|") || !strings.Contains(lines[0], "| delete s, sim |") {
		t.Errorf("not a table header of 11 columns:\n%s", out.String())
	}
	// As many columns as a row has.
	row := strings.Count("| 10 | 1 | 5.00 / 5.00 | 13.00 / 13.00 | equal | 10.000 | 10.000 (10.000) | +0.0% | 20.000 | 25.000 (25.000) | **-20.0%** |", "|")
	if strings.Count(lines[0], "|") != row {
		t.Errorf("the header has %d bars, a row %d", strings.Count(lines[0], "|"), row)
	}
}

func TestCompareWantsASimulationThenRealRuns(t *testing.T) {
	real := writeResults(t, "real", 10, 30)
	var out, errb bytes.Buffer
	if code := Main([]string{"compare", real, real}, &out, &errb); code != exitUsage {
		t.Errorf("a real run as the simulation: exit %d, want %d", code, exitUsage)
	}
	sim := writeResults(t, "sim", 10, 30)
	if code := Main([]string{"compare", sim, sim}, &out, &errb); code != exitUsage {
		t.Errorf("a simulation as a real run: exit %d, want %d", code, exitUsage)
	}
	if code := Main([]string{"compare", sim}, &out, &errb); code != exitUsage {
		t.Errorf("no real run: exit %d, want %d", code, exitUsage)
	}
}

func TestCheckQuiet(t *testing.T) {
	run := func(h *result.Host) *result.Result { return &result.Result{Real: &result.Real{Host: h}} }
	quiet := run(&result.Host{Quiet: true})
	busy := run(&result.Host{Verdict: "busy: other processes used 40%"})
	unknown := run(nil)
	var w strings.Builder
	if err := analysis.CheckQuiet(&w, "compare", false, []string{"quiet", "old"}, []*result.Result{quiet, unknown}); err != nil {
		t.Fatalf("quiet and unrecorded runs refused: %v", err)
	}
	if !strings.Contains(w.String(), "old: the host's load was not recorded") || strings.Contains(w.String(), "quiet") {
		t.Errorf("want a note for the unrecorded run only, got %q", w.String())
	}
	err := analysis.CheckQuiet(io.Discard, "compare", false, []string{"quiet", "busy"}, []*result.Result{quiet, busy})
	if err == nil || !strings.Contains(err.Error(), "busy: busy: other processes used 40%") || !strings.Contains(err.Error(), "--allow-busy") {
		t.Errorf("busy run: got %v", err)
	}
	w.Reset()
	if err := analysis.CheckQuiet(&w, "compare", true, []string{"busy"}, []*result.Result{busy}); err != nil || !strings.Contains(w.String(), "busy: busy: other") {
		t.Errorf("--allow-busy: err %v, note %q", err, w.String())
	}
}

func TestCheckQuietNotesTheHostsSpeed(t *testing.T) {
	probed := func(us float64) *result.Result {
		return &result.Result{Real: &result.Real{Host: &result.Host{Quiet: true, Probe: &result.Probe{Median: us, Fast: 1800}}}}
	}
	var w strings.Builder
	dirs := []string{"r1", "r2", "r3"}
	if err := analysis.CheckQuiet(&w, "compare", false, dirs, []*result.Result{probed(2000), probed(2900), probed(2200)}); err != nil {
		t.Fatal(err)
	}
	if want := "probe's median took 2000 us in r1 and 2900 us in r2 (1.45x)"; !strings.Contains(w.String(), want) {
		t.Errorf("note %q, want it to say %q", w.String(), want)
	}
	w.Reset()
	if err := analysis.CheckQuiet(&w, "compare", false, dirs, []*result.Result{probed(2000), probed(2300), {Real: &result.Real{Host: &result.Host{Quiet: true}}}}); err != nil {
		t.Fatal(err)
	}
	if w.Len() != 0 {
		t.Errorf("runs within %.1fx of each other (and one without a probe) got a note: %q", analysis.SpeedSpread, w.String())
	}
}
