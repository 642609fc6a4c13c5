package calibration

import (
	"math"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/target"
)

func TestQuantileOfInterpolatesBuckets(t *testing.T) {
	b := map[float64]float64{0.005: 50, 0.025: 90, 0.05: 100, math.Inf(1): 100}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0.25, 2500 * time.Microsecond}, {0.5, 5 * time.Millisecond}, {0.7, 15 * time.Millisecond}, {0.95, 37500 * time.Microsecond}} {
		if got := quantileOf(b, tt.p).D(); (got - tt.want).Abs() > time.Microsecond {
			t.Errorf("p%g = %s, want %s", 100*tt.p, got, tt.want)
		}
	}
}

func TestMeanOfAFixedLatencyIsIt(t *testing.T) {
	d := target.Duration(3 * time.Millisecond)
	if got := meanOf(target.Latency{P50: d, P95: d, P99: d}); (got - 3*time.Millisecond).Abs() > time.Microsecond {
		t.Errorf("mean %s, want 3ms", got)
	}
	// A right tail pulls the mean above the median.
	if got := meanOf(target.Latency{P50: d, P95: 3 * d, P99: 6 * d}); got <= 3*time.Millisecond {
		t.Errorf("mean %s of a right-skewed latency is not above its median", got)
	}
}

func TestProcessorsFromThroughput(t *testing.T) {
	rows := []LatencyRow{
		{Verb: "get", Concurrency: 1, OpsPerSec: 800}, {Verb: "get", Concurrency: 4, OpsPerSec: 1700},
		{Verb: "list", Concurrency: 1, OpsPerSec: 900}, {Verb: "list", Concurrency: 4, OpsPerSec: 1710},
		{Verb: "create", Concurrency: 1, OpsPerSec: 400}, {Verb: "create", Concurrency: 4, OpsPerSec: 760},
		{Verb: PatchWrites, Concurrency: 1, OpsPerSec: 100}, {Verb: PatchWrites, Concurrency: 4, OpsPerSec: 400},
	}
	if got := processors(rows, []int{1, 4}); math.Abs(got-1.9) > 1e-9 {
		t.Errorf("processors = %v, want 1.9 (the median of 2.125, 1.9 and 1.9)", got)
	}
	if got := processors(rows[:2], []int{1}); got != 0 {
		t.Errorf("processors with one concurrency = %v, want 0", got)
	}
}

// A float sum's bits depend on the order of its terms, and a scrape keeps
// its series in a map: sum must add them in a fixed order, or a target
// calibrated from the same run differs in its last digits from machine to
// machine (it did: CI's target-w4.yaml had another object_slowdown).
