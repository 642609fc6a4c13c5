package calibration_test

import (
	"fmt"
	"time"

	"github.com/krosim/krosim/sim/calibration"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
)

// A calibration at 1 and 4 requests in flight whose throughput grew 1.9
// times makes a target of 2 processors serving requests.
func ExampleCalibration_Apply() {
	var rows []calibration.LatencyRow
	latency := map[verb.Verb]target.Latency{}
	for _, v := range verb.All {
		rows = append(rows, calibration.LatencyRow{Verb: v, Concurrency: 1, P50: time.Millisecond, P95: 2 * time.Millisecond,
			P99: 3 * time.Millisecond, OpsPerSec: 800})
		rows = append(rows, calibration.LatencyRow{Verb: v, Concurrency: 4, P50: 2 * time.Millisecond, P95: 4 * time.Millisecond,
			P99: 6 * time.Millisecond, OpsPerSec: 1520})
		latency[v] = target.Latency{P50: target.Duration(time.Millisecond), P95: target.Duration(2 * time.Millisecond),
			P99: target.Duration(3 * time.Millisecond)}
	}
	cal := &calibration.Calibration{Latency: latency, Rows: rows, Processors: 1.9, Objects: 200,
		Concurrency: []int{1, 4}, Client: "linux/amd64 with 2 CPUs"}
	base, _ := target.Lookup("kro-defaults")
	t, note := cal.Apply(base, calibration.ApplyOptions{Name: "measured", Base: "kro-defaults"})
	fmt.Println(note)
	fmt.Println(t.Name, t.Server.CPUs, t.Latency["get"].P50, len(t.Readiness))
	// Output:
	// Throughput at 4 in flight over that at 1: 1.90 processors serving requests (server.cpus 2).
	// measured 2 1ms 0
}
