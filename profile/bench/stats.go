package bench

import (
	"math"
	"slices"

	"github.com/krosim/krosim/sim/result"
	"golang.org/x/perf/benchmath"
	"gonum.org/v1/gonum/stat"
)

// Stat is a measurement over repetitions: the median, its 95% confidence
// interval (benchmath's distribution-free interval, as benchstat), the runs.
type Stat struct {
	Median float64   `json:"median"`
	Lo     float64   `json:"ci95_lo"`
	Hi     float64   `json:"ci95_hi"`
	Runs   []float64 `json:"runs"`
	// Noisy is set when the interval reaches further than 10% of the
	// median either way.
	Noisy bool `json:"noisy"`
	// Warning says why the interval is not a 95% one (too few runs).
	Warning string `json:"warning,omitempty"`
}

// NoisyShare is the half-width of a confidence interval, as a share of the
// median, beyond which a measurement is flagged noisy.
const NoisyShare = 0.10

func summarize(runs []float64) Stat {
	if len(runs) == 0 {
		return Stat{}
	}
	s := benchmath.NewSample(slices.Clone(runs), &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(s, 0.95)
	// Too few runs give an unbounded interval: fall back to the range.
	if math.IsInf(sum.Lo, 0) || math.IsNaN(sum.Lo) {
		sum.Lo = slices.Min(runs)
	}
	if math.IsInf(sum.Hi, 0) || math.IsNaN(sum.Hi) {
		sum.Hi = slices.Max(runs)
	}
	st := Stat{Median: round(sum.Center), Lo: round(sum.Lo), Hi: round(sum.Hi), Runs: roundAll(runs)}
	st.Noisy = sum.Center != 0 && max(sum.Hi-sum.Center, sum.Center-sum.Lo) > NoisyShare*math.Abs(sum.Center)
	if len(sum.Warnings) > 0 && slices.Min(runs) != slices.Max(runs) {
		st.Warning = sum.Warnings[0].Error()
	}
	return st
}

// Latency are percentiles of a latency distribution, in milliseconds.
type Latency struct {
	Avg float64 `json:"avg"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// latencyOf summarizes samples given in milliseconds.
func latencyOf(ms []float64) Latency {
	if len(ms) == 0 {
		return Latency{}
	}
	s := slices.Clone(ms)
	slices.Sort(s) // the mean adds in sorted order, as it always has
	p := result.Quantiles(s)
	return Latency{Avg: round(stat.Mean(s, nil)), P50: p.P50, P95: p.P95, P99: p.P99, Min: round(s[0]), Max: p.Max}
}

// round keeps six decimals, as results.json does.
func round(x float64) float64 { return result.Round(x) }

func roundAll(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = round(x)
	}
	return out
}

func mb(bytes float64) float64 { return round(bytes / 1e6) }
