package bench

import (
	"fmt"

	"github.com/krosim/krosim/sim/result"
)

// RealWorkloadUpdate is the share of instances the real crud scenario changes.
const RealWorkloadUpdate = 1.0

// FromCluster maps a real run of the crud scenario (create, update every
// instance, delete; sim/cluster.Run's results.json) to the crud suite's
// benchmarks: per-instance create and delete latency from each instance's
// timings, throughput and API calls per operation from each phase. A real
// run records no per-instance update times, so update has no percentiles.
func FromCluster(res *result.Result) ([]Benchmark, error) {
	if res.Real == nil {
		return nil, fmt.Errorf("bench: results.json is not of a real run (no real section)")
	}
	phases := map[string]result.Phase{}
	for _, p := range res.Real.Phases {
		phases[p.Name] = p
	}
	// Older runs recorded no per-instance timings: then only throughput,
	// API calls and errors are known.
	n := res.Summary.InstancesTotal
	createFailed, deleteFailed := n-res.Summary.InstancesReady, 0
	var create, del []float64
	for _, in := range res.Real.Instances {
		if in.Ready != nil {
			create = append(create, 1000*(*in.Ready-in.Created))
		}
		if in.Deleted != nil && in.Gone != nil {
			del = append(del, 1000*(*in.Gone-*in.Deleted))
		} else if res.Config.Workload.Delete {
			deleteFailed++
		}
	}
	var out []Benchmark
	add := func(op string, lat []float64, ops, failed int) {
		p, ok := phases[op]
		if !ok || ops == 0 {
			return
		}
		s := opSample{latencies: lat, apiCalls: float64(calls(p.APICalls)) / float64(ops), errorRate: float64(failed) / float64(ops)}
		if p.Seconds > 0 {
			s.throughput = float64(ops-failed) / p.Seconds
		}
		b := benchmarkOf(CRUD, op, "real", []opSample{s})
		delete(b.Metrics, "worker_utilization_percent")
		b.Ops = ops
		b.Note = "a real cluster: phase time from kro's and the API server's metrics, per-instance times from the instances' status"
		if op == OpUpdate {
			b.Note += "; no per-instance update times are recorded"
		}
		out = append(out, b)
	}
	add(OpCreate, create, n, createFailed)
	add(OpUpdate, nil, max(res.Summary.InstancesUpdated, 0), 0)
	add(OpDelete, del, n, deleteFailed)
	return out, nil
}
