package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

// TestContextInterruptsALongComprehension: with no cost limit, only the
// run's context can stop a comprehension of 10^6 iterations, which
// otherwise succeeds (after seconds of host CPU per evaluation). cel-go
// checks the context inside comprehensions only, and krosim hands it only
// to expressions holding one: this one must still get it, so a cancelled
// context fails every evaluation and the instance never becomes ready.
func TestContextInterruptsALongComprehension(t *testing.T) {
	lim := model.DefaultLimits
	lim.CELCost = 0
	rgds, err := lim.LoadFile("../testdata/hostile/bombs/nested-all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(1), Seed: 1, MaxTime: target.Duration(time.Minute)}
	res, err := sim.Run(cfg, rgds, sim.Options{Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.ReconcileErrors == 0 || res.Summary.InstancesReady != 0 {
		t.Errorf("%d reconcile errors, %d ready: want the interrupted evaluation to fail every reconcile", res.Summary.ReconcileErrors, res.Summary.InstancesReady)
	}
}
