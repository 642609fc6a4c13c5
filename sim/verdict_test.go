package sim

import (
	"testing"

	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/workload"
)

// TestVerdictNeverIdle checks that a run whose instances all became ready
// but whose controller never went idle (the workload never finished) is
// not reported complete.
func TestVerdictNeverIdle(t *testing.T) {
	x := &finished{
		cfg: result.Config{Workload: workload.Default(2)},
		tl:  workload.Timeline{Ready: 1, Waiting: "kro to go idle after the create phase"},
		rep: kro.Report{Instances: []kro.InstanceRecord{{IsReady: true}, {IsReady: true}}},
	}
	r := &Result{Result: result.Result{Complete: true}}
	r.Summary.InstancesTotal = 2
	r.Summary.InstancesEnd = result.InstancesEnd{Ready: 2, Remaining: 2}
	x.verdict(r)
	const want = "virtual time limit reached while waiting for kro to go idle after the create phase"
	if r.Complete || r.Incomplete != want {
		t.Errorf("complete %v, incomplete %q; want false, %q", r.Complete, r.Incomplete, want)
	}
	x.tl.Complete, x.tl.Waiting = true, ""
	x.verdict(r)
	if !r.Complete || r.Incomplete != "" {
		t.Errorf("a finished workload: complete %v, incomplete %q", r.Complete, r.Incomplete)
	}
}
