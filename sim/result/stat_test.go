package result

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// TestQuantilesAreStatsOfTheSorted checks that selecting the quantiles
// gives what gonum's stat.Quantile reads of the values sorted, on random
// values of every spread (all distinct, a few repeated, all equal), of
// sizes around the ranks' edges, and with a NaN.
func TestQuantilesAreStatsOfTheSorted(t *testing.T) {
	for _, n := range []int{1, 2, 3, 17, 20, 99, 100, 101, 1000, 5000} {
		for _, distinct := range []int{1, 3, 50, 1 << 30} {
			rng := rand.New(rand.NewPCG(uint64(n), uint64(distinct)))
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(rng.IntN(distinct)) / 7
			}
			before := slices.Clone(xs)
			if got, want := Quantiles(xs), quantilesOfSorted(xs); got != want {
				t.Errorf("%d values of %d distinct: got %+v, sorting gives %+v", n, distinct, got, want)
			}
			if !slices.Equal(xs, before) {
				t.Errorf("%d values of %d distinct: Quantiles reordered its argument", n, distinct)
			}
		}
	}
	xs := []float64{3, math.NaN(), 1}
	if got, want := Quantiles(xs), quantilesOfSorted(xs); !math.IsNaN(got.P50) || !math.IsNaN(want.P50) || got.Max != want.Max {
		t.Errorf("with a NaN: got %+v, sorting gives %+v", got, want)
	}
}

// quantilesOfSorted is what Quantiles gave before it selected: gonum's
// stat.Quantile of the values sorted.
func quantilesOfSorted(xs []float64) Percentiles {
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(p float64) float64 { return Round(stat.Quantile(p, stat.Empirical, s, nil)) }
	return Percentiles{P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: Round(s[len(s)-1])}
}

// TestMedian: the middle value, the mean of the two middle ones for an even
// count, xs left as it was, NaN for none.
func TestMedian(t *testing.T) {
	xs := []float64{5, 1, 4, 2}
	if got := Median(xs); got != 3 {
		t.Errorf("Median(%v) = %v, want 3", xs, got)
	}
	if xs[0] != 5 || xs[3] != 2 {
		t.Errorf("Median reordered its input: %v", xs)
	}
	if got := Median([]float64{7, 3, 9}); got != 7 {
		t.Errorf("Median of 7, 3, 9 = %v, want 7", got)
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median of none = %v, want NaN", got)
	}
}
