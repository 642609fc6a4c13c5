package result

import (
	"math"
	"math/bits"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"
)

// Round rounds x to six decimals, the precision of every number in
// results.json (a microsecond, for seconds).
func Round(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// Seconds is d in seconds, rounded as results.json rounds.
func Seconds(d time.Duration) float64 { return Round(d.Seconds()) }

// Median is the middle of xs, or the mean of the two middle values when
// there is an even number: how compare takes the median real run. xs is
// not reordered; NaN for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Quantiles are the empirical p50, p95, p99 and maximum of xs, rounded; the
// zero Percentiles (written as null) when xs is empty. They are what
// gonum's stat.Quantile (Empirical) reads of xs sorted: the value sorting
// puts at index ceil(p*n)-1. A run's latencies are a million values, so
// each is selected (see selectRank) rather than the whole sorted.
func Quantiles(xs []float64) Percentiles {
	if len(xs) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(xs)
	if slices.ContainsFunc(s, math.IsNaN) { // stat.Quantile's answer for them
		slices.Sort(s)
		q := func(p float64) float64 { return Round(stat.Quantile(p, stat.Empirical, s, nil)) }
		return Percentiles{P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: Round(s[len(s)-1])}
	}
	var out [3]float64
	from := 0 // s[:from] is below every rank still to select
	for i, p := range [...]float64{0.5, 0.95, 0.99} {
		// stat.Quantile's first index whose count reaches p*n.
		k := min(max(int(math.Ceil(p*float64(len(s))))-1, 0), len(s)-1)
		if k >= from {
			selectRank(s[from:], k-from)
			from = k + 1
		}
		out[i] = Round(s[k])
	}
	return Percentiles{P50: out[0], P95: out[1], P99: out[2], Max: Round(slices.Max(s))}
}

// selectRank reorders s, which holds no NaN, so that s[k] is the value
// sorting s would put there, with no greater value before it and no lesser
// after: quickselect with three-way partitions around a median of three
// (equal values, common in latencies, go in one step), sorting what is
// left once it is small or the partitions keep coming out lopsided.
func selectRank(s []float64, k int) {
	lo, hi := 0, len(s)
	for budget := 2 * bits.Len(uint(len(s))); hi-lo > 16 && budget > 0; budget-- {
		a, b, c := s[lo], s[lo+(hi-lo)/2], s[hi-1]
		pivot := max(min(a, b), min(max(a, b), c)) // the median of the three
		lt, i, gt := lo, lo, hi                    // s[lo:lt] < pivot, s[lt:i] == pivot, s[gt:hi] > pivot
		for i < gt {
			switch v := s[i]; {
			case v < pivot:
				s[lt], s[i] = v, s[lt]
				lt++
				i++
			case v > pivot:
				gt--
				s[gt], s[i] = v, s[gt]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return // s[k] is the pivot
		}
	}
	slices.Sort(s[lo:hi])
}
