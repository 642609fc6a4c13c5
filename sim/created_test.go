package sim_test

import (
	"testing"
	"time"

	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

// TestCreatedHookSeesThePeak checks Options.Created: called once, when the
// create phase settled, with every object of a create-only run stored.
func TestCreatedHookSeesThePeak(t *testing.T) {
	rgds := load(t, "../testdata/rgd/webapp.yaml")
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(20), Seed: 3, MaxTime: target.Duration(time.Hour)}
	var calls []int
	res, err := sim.Run(cfg, rgds, sim.Options{Created: func(objects int) { calls = append(calls, objects) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != res.Summary.ObjectsPeak || calls[0] == 0 {
		t.Errorf("Created called with %v, want once with the peak %d", calls, res.Summary.ObjectsPeak)
	}
}
