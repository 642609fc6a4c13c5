package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestSimulationReproducesMeasuredKro simulates every workload measured on
// real kro (testdata/realapi/measured: each real run's results.json, and the
// targets calibrated on that machine for its worker counts) and wants every
// count exactly equal to the measured one: reconciles, requeues, API calls by
// verb and by resource.
// The converge time is the integration test's business (TestRealFidelity):
// here the tolerance is wide open.
func TestSimulationReproducesMeasuredKro(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/realapi/measured/w*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no measured runs in testdata/realapi/measured (%v)", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			var real struct {
				Config struct {
					Mode     string `json:"mode"`
					Workers  int    `json:"workers"`
					Workload struct {
						Instances int  `json:"instances"`
						Delete    bool `json:"delete"`
					} `json:"workload"`
				} `json:"config"`
			}
			if err := json.Unmarshal(data, &real); err != nil || real.Config.Mode != "real" {
				t.Fatalf("%s is not a real run's results.json (%v)", dir, err)
			}
			out := t.TempDir()
			tgt := filepath.Join(filepath.Dir(dir), "target-w"+strconv.Itoa(real.Config.Workers)+".yaml")
			args := []string{"run", "--target", tgt, "--rgd", "../../testdata/realapi/fidelity-rgd.yaml",
				"--instances", strconv.Itoa(real.Config.Workload.Instances), "--workers", strconv.Itoa(real.Config.Workers),
				"--out", out, "--quiet"}
			if real.Config.Workload.Delete {
				args = append(args, "--delete")
			}
			var stdout, stderr bytes.Buffer
			if code := Main(args, &stdout, &stderr); code != exitOK {
				t.Fatalf("krosim run: exit %d: %s", code, stderr.String())
			}
			stdout.Reset()
			if code := Main([]string{"compare", "--tolerance", "1000", out, dir}, &stdout, &stderr); code != exitOK {
				t.Errorf("the simulation's counts differ from real kro's:\n%s%s", stdout.String(), stderr.String())
			}
		})
	}
}
