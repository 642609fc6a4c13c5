package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/target"
)

// writeResults writes a results.json with the given mode, converge time and
// patch count, and returns its directory.
func writeResults(t *testing.T, mode string, converge float64, patches int) string {
	t.Helper()
	dir := t.TempDir()
	res := sim.Result{Format: "krosim/results/v1", Complete: true}
	res.Summary = sim.Summary{ConvergeSeconds: &converge, InstancesTotal: 10, InstancesReady: 10, Reconciles: 50,
		RequeuesByReason: map[string]int{"requeue_after": 40},
		APICalls:         map[string]int{"get": 100, "patch": patches},
		APICallsByResource: map[string]map[string]int{
			"apps": {"get": 60, "patch": patches}, "configmaps": {"get": 40}}}
	var data []byte
	var err error
	if mode == "real" {
		data, err = json.Marshal(struct {
			sim.Result
			Config map[string]any `json:"config"`
		}{res, map[string]any{"mode": "real", "workers": 1}})
	} else {
		tg, terr := target.Lookup("kro-defaults")
		if terr != nil {
			t.Fatal(terr)
		}
		res.Config.Target = tg
		data, err = json.Marshal(res)
	}
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
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"equal and close", []string{writeResults(t, "real", 11, 30), writeResults(t, "real", 9.5, 30)}, exitOK,
			[]string{"PASS", "converge seconds", "apps patch", "equal"}},
		{"a count differs", []string{writeResults(t, "real", 10, 31)}, exitRun,
			[]string{"FAIL", "apps patch: simulated 30, real [31]", "DIFFERS"}},
		{"converge off", []string{writeResults(t, "real", 20, 30)}, exitRun,
			[]string{"FAIL", "converge time off by -50.0%"}},
		{"tolerance", []string{"--tolerance", "0.6", writeResults(t, "real", 20, 30)}, exitOK, []string{"PASS"}},
		{"markdown", []string{"--format", "markdown", writeResults(t, "real", 10, 30)}, exitOK,
			[]string{"| 10 | 1 | 5.00 / 5.00 | 13.00 / 13.00 | equal | 10.000 | 10.000 (10.000) | +0.0% |"}},
		{"counts", []string{"--format", "counts", writeResults(t, "real", 10, 30)}, exitOK,
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
			args = append(append(args, simDir), dirs...)
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
