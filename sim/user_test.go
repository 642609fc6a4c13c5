package sim_test

import (
	"testing"
	"time"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
)

// TestWorkloadSendsItsOwnRequests: the workload's user creates the
// instances through the API server, parallel requests in flight, each
// taking the server's latency, as krosim's real runs create theirs: with
// a fixed latency L, the i-th instance of a user who keeps p in flight is
// created (i/p)·L after the first, and the requests are the world's, not
// kro's.
func TestWorkloadSendsItsOwnRequests(t *testing.T) {
	const L = 4 * time.Millisecond
	for _, parallel := range []int{1, 3, 8} {
		tg := defaults(t)
		for v := range tg.Latency {
			tg.Latency[v] = target.Latency{P50: target.Duration(L), P95: target.Duration(L), P99: target.Duration(L)}
		}
		wl := workload.Default(10)
		wl.Parallel, wl.Delete = parallel, true
		res := run(t, result.Config{Target: tg, Workload: wl, Seed: 1}, load(t, "../testdata/sim/chain4.yaml"))
		if !res.Complete {
			t.Fatalf("parallel %d: incomplete: %s", parallel, res.Incomplete)
		}
		if len(res.Instances) != 10 {
			t.Fatalf("parallel %d: %d instances, want 10", parallel, len(res.Instances))
		}
		for i, in := range res.Instances {
			got, want := in.Created-res.Instances[0].Created, time.Duration(i/parallel)*L
			if d := got - want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("parallel %d: instance %d created %s after the first, want %s", parallel, i, got, want)
			}
		}
		if c := res.Summary.WorldAPICalls; c[verb.Create] != 10 || c[verb.Delete] != 10 {
			t.Errorf("parallel %d: the world's creates and deletes %v, want 10 each", parallel, c)
		}
		if c := res.Summary.APICalls; c[verb.Create] != 0 {
			t.Errorf("parallel %d: kro's creates %d: the user's were counted as kro's", parallel, c[verb.Create])
		}
	}
}
