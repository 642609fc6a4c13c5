package result

import (
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"
)

// Round rounds x to six decimals, the precision of every number in
// results.json (a microsecond, for seconds).
func Round(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// Seconds is d in seconds, rounded as results.json rounds.
func Seconds(d time.Duration) float64 { return Round(d.Seconds()) }

// Quantiles are the empirical p50, p95, p99 and maximum of xs, rounded; the
// zero Percentiles (written as null) when xs is empty.
func Quantiles(xs []float64) Percentiles {
	if len(xs) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(p float64) float64 { return Round(stat.Quantile(p, stat.Empirical, s, nil)) }
	return Percentiles{P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: Round(s[len(s)-1])}
}
