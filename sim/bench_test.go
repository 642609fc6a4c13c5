package sim_test

import (
	"testing"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/workload"
)

// BenchmarkRun simulates fixed scenarios end to end; calls/s is simulated API
// calls per wall second, objects the peak objects stored.
func BenchmarkRun(b *testing.B) {
	for _, bc := range []struct {
		name      string
		file      string
		instances int
		workers   int
	}{
		{"webapp-1000", "../testdata/rgd/webapp.yaml", 1000, 1},
		{"layered10-2000-w8", "../testdata/sim/layered10.yaml", 2000, 8},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rgds := load(b, bc.file)
			tg := defaults(b)
			tg.Controller.Workers = bc.workers
			calls := 0
			for i := 0; i < b.N; i++ {
				res := run(b, result.Config{Target: tg, Workload: workload.Default(bc.instances), Seed: 1}, rgds)
				calls = 0
				for _, v := range res.Summary.APICalls {
					calls += v
				}
				b.ReportMetric(float64(res.Summary.ObjectsPeak), "objects")
			}
			b.ReportMetric(float64(calls)*float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
