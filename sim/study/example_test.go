package study_test

import (
	"fmt"

	"github.com/krosim/krosim/sim/study"
)

// A study varies qps and workers over a base run; its grid is the cartesian
// product in a fixed order, qps "none" (no limit, as kro runs) last.
func ExampleStudy_Grid() {
	s, err := study.Parse("qps.yaml", []byte(`
rgds: [chain.yaml]
workload: {instances: 200}
dimensions:
  workers: [1, 4]
  qps: [0, 50]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	g := s.Grid()
	for _, p := range g.Points {
		fmt.Printf("%d: qps=%s workers=%s seed=%d\n", p.Index,
			study.FormatValue(study.QPS, p.Values[0]), study.FormatValue(study.Workers, p.Values[1]), p.Seed)
	}
	// Output:
	// 0: qps=50 workers=1 seed=1
	// 1: qps=50 workers=4 seed=1
	// 2: qps=none workers=1 seed=1
	// 3: qps=none workers=4 seed=1
}
