package sim_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

// TestProgressCheckpoints checks that Progress is called at virtual-time and
// event checkpoints, counts instances as the results do, and changes nothing.
func TestProgressCheckpoints(t *testing.T) {
	rgds := load(t, "../testdata/rgd/webapp.yaml")
	wl := workload.Default(60)
	wl.Delete = true
	cfg := result.Config{Target: defaults(t), Workload: wl, Seed: 3, MaxTime: target.Duration(4 * time.Hour)}
	plainRes, err := sim.Run(cfg, rgds, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []sim.Progress
	res, err := sim.Run(cfg, rgds, sim.Options{Progress: func(p sim.Progress) { got = append(got, p) }})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := result.Encode(&plainRes.Result)
	withProgress, _ := result.Encode(&res.Result)
	if !bytes.Equal(plain, withProgress) {
		t.Error("a run with Progress differs from one without")
	}
	duration := time.Duration(res.Summary.DurationSeconds * float64(time.Second))
	if min := int(duration / sim.ProgressVirtual); len(got) < min {
		t.Fatalf("%d checkpoints in %s virtual, want at least one a virtual second", len(got), duration)
	}
	maxReady, lastEvents := 0, uint64(0)
	for i, p := range got {
		if i > 0 && (p.Virtual < got[i-1].Virtual || p.Events <= got[i-1].Events) {
			t.Fatalf("checkpoint %d goes back: %+v after %+v", i, p, got[i-1])
		}
		if i > 0 && p.Virtual/sim.ProgressVirtual == got[i-1].Virtual/sim.ProgressVirtual &&
			p.Events/sim.ProgressEvents == got[i-1].Events/sim.ProgressEvents {
			t.Fatalf("checkpoints %d and %d share their second and their block of events: %+v, %+v", i-1, i, got[i-1], p)
		}
		if p.Instances != 60 || p.Ready > 60 || p.Settled < p.Ready || p.Deleted > 60 {
			t.Fatalf("checkpoint %d: %+v", i, p)
		}
		maxReady, lastEvents = max(maxReady, p.Ready), p.Events
	}
	if maxReady != res.Summary.InstancesReady {
		t.Errorf("at most %d instances ready at a checkpoint, the results say %d", maxReady, res.Summary.InstancesReady)
	}
	if last := got[len(got)-1]; last.Deleted == 0 || lastEvents == 0 {
		t.Errorf("last checkpoint %+v: nothing deleted", last)
	}
}
