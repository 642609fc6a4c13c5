package cli

import (
	"bytes"
	"math"
	"path/filepath"
	"testing"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/verb"
)

// churnDir holds real runs of measured/churn/churn.yaml, 50 instances with 1
// and 4 workers (2026-12-07, the probe, a fresh harness each): created, then
// every instance's spec changed once (krosim's update raises spec.level from
// 1 to 2), then deleted. The update excludes two resources (an includeWhen,
// and the resource that reads the excluded one) and shrinks a collection, so
// every instance's update reconcile prunes three children of three nodes.
const churnDir = measured + "/churn"

// TestChurnPrunesAsKro predicts the churn runs with 1 worker at their host's
// speed (the harness's probed calibration): through the update phase every
// count is kro's in both runs (the prunes' deletes among them), and the
// update phase's time is within issue 13's converge bar. The rows with 4
// workers are recorded in fidelity.md, not judged: their create phases
// requeue at kro's 3 s interval as converge nears it.
func TestChurnPrunesAsKro(t *testing.T) {
	runs, err := filepath.Glob(filepath.Join(churnDir, "real-churn-w1-n50-r*"))
	if err != nil || len(runs) < 2 {
		t.Fatalf("churn runs with 1 worker: %d (%v)", len(runs), err)
	}
	sim := t.TempDir()
	args := []string{"run", "--target", measured + "/calprobe/harness-probe.yaml", "--crd", "../../testdata/realapi/standins.yaml",
		"--rgd", filepath.Join(churnDir, "churn.yaml"), "--instances", "50", "--workers", "1", "--update", "1", "--quiet", "--out", sim}
	for _, d := range runs {
		args = append(args, "--host-probe-from", d)
	}
	var stdout, stderr bytes.Buffer
	if code := Main(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("krosim run: exit %d: %s", code, stderr.String())
	}
	got, err := result.Read(sim)
	if err != nil {
		t.Fatal(err)
	}
	s := got.Summary
	if s.UpdateSeconds == nil || s.InstancesUpdated != 50 {
		t.Fatalf("the simulation updated %d instances (update seconds %v), want 50", s.InstancesUpdated, s.UpdateSeconds)
	}
	if s.APICallsByResource["standinservices"][verb.Delete] != 50 || s.APICallsByResource["standinsecrets"][verb.Delete] != 50 {
		t.Errorf("the simulation pruned %v: want each instance's report and extra deleted once", s.APICallsByResource)
	}
	var updates []float64
	for _, d := range runs {
		real, err := result.Read(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(real.Real.Phases) < 2 || real.Real.Phases[1].Name != "update" {
			t.Fatalf("%s: no update phase", d)
		}
		create, update := real.Real.Phases[0], real.Real.Phases[1]
		if want := create.Reconciles + update.Reconciles; s.Reconciles != want {
			t.Errorf("%s: %d reconciles through the update phase simulated, kro %d", d, s.Reconciles, want)
		}
		for _, v := range verb.All {
			if want := create.APICalls[v] + update.APICalls[v]; s.APICalls[v] != want {
				t.Errorf("%s: %d %s calls through the update phase simulated, kro %d", d, s.APICalls[v], v, want)
			}
		}
		updates = append(updates, update.Seconds)
	}
	median := result.Median(updates)
	if e := *s.UpdateSeconds/median - 1; math.Abs(e) > convergeTolerance {
		t.Errorf("update phase %.3fs simulated, kro's %v: %+.1f%%, beyond %.0f%%", *s.UpdateSeconds, updates, 100*e, 100*convergeTolerance)
	} else {
		t.Logf("update phase %.3fs simulated, kro's %v: %+.1f%%", *s.UpdateSeconds, updates, 100*e)
	}
}
