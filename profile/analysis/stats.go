package analysis

import (
	"math"
	"slices"

	"golang.org/x/perf/benchmath"
)

// Confidence is the level of every interval analysis reports.
const Confidence = 0.95

// Alpha is the significance level of a comparison, benchstat's default.
var Alpha = benchmath.DefaultThresholds.CompareAlpha

// Summary is a metric's values summarized as benchstat does: the median
// and its distribution-free 95% confidence interval, with the range.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	// Lo and Hi bound the median's 95% interval; with too few values for
	// one they are the range, and Warning says so.
	Lo      float64 `json:"ci95_lo"`
	Hi      float64 `json:"ci95_hi"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Warning string  `json:"warning,omitempty"`
}

// Summarize summarizes values with benchmath's AssumeNothing.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	s := benchmath.NewSample(slices.Clone(values), &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(s, Confidence)
	out := Summary{N: len(values), Median: sum.Center, Lo: sum.Lo, Hi: sum.Hi, Min: slices.Min(values), Max: slices.Max(values)}
	if math.IsInf(out.Lo, 0) || math.IsNaN(out.Lo) || math.IsInf(out.Hi, 0) || math.IsNaN(out.Hi) {
		out.Lo, out.Hi = out.Min, out.Max
	}
	if len(sum.Warnings) > 0 && out.Min != out.Max {
		out.Warning = sum.Warnings[0].Error()
	}
	return out
}

// Test names how a change was judged.
type Test string

// Tests of a change.
const (
	// Exact: both sides are deterministic simulations of the same seeds,
	// so any difference is real and no test is needed.
	Exact Test = "exact"
	// MannWhitney: benchmath's Mann-Whitney U test, as benchstat.
	MannWhitney Test = "mann-whitney-u"
)

// Change is a metric against its baseline.
type Change struct {
	Metric string    `json:"metric"`
	Unit   string    `json:"unit"`
	Better Direction `json:"better"`
	Old    Summary   `json:"baseline"`
	New    Summary   `json:"new"`
	// Delta is (new - old) / old of the medians; NaN (null) when old is 0.
	Delta float64 `json:"delta"`
	Test  Test    `json:"test"`
	// P is the U test's p-value; 0 for an exact comparison.
	P           float64 `json:"p,omitempty"`
	Significant bool    `json:"significant"`
	// Threshold is the largest tolerated change for the worse, a share.
	Threshold  float64 `json:"threshold"`
	Regression bool    `json:"regression"`
	// Improvement is a significant change for the better beyond the threshold.
	Improvement bool   `json:"improvement"`
	Note        string `json:"note,omitempty"`
}

// Compare judges m against its baseline old with the threshold for the worse.
func Compare(old, m *Metric, threshold float64) Change {
	c := Change{Metric: m.Name, Unit: m.Unit, Better: m.Better, Old: Summarize(old.Values), New: Summarize(m.Values), Threshold: threshold}
	c.Delta = math.NaN()
	if c.Old.Median != 0 {
		c.Delta = (c.New.Median - c.Old.Median) / math.Abs(c.Old.Median)
	} else if c.New.Median == 0 {
		c.Delta = 0
	}
	if old.Source == Simulated && m.Source == Simulated && slices.Equal(old.Seeds, m.Seeds) {
		c.Test = Exact
		c.Significant = !slices.Equal(old.Values, m.Values)
		c.Note = "deterministic simulation, same seeds: compared exactly"
	} else {
		c.Test = MannWhitney
		s1 := benchmath.NewSample(slices.Clone(old.Values), &benchmath.DefaultThresholds)
		s2 := benchmath.NewSample(slices.Clone(m.Values), &benchmath.DefaultThresholds)
		cmp := benchmath.AssumeNothing.Compare(s1, s2)
		c.P, c.Significant = cmp.P, cmp.P <= cmp.Alpha
		c.Note = cmp.String()
		if len(cmp.Warnings) > 0 {
			c.Note += ": " + cmp.Warnings[0].Error()
		}
	}
	if !c.Significant || m.Better == Neutral {
		return c
	}
	worse := c.Delta * float64(-m.Better) // positive when worse
	if math.IsNaN(c.Delta) {
		worse = math.Inf(1) * float64(-m.Better) * math.Copysign(1, c.New.Median)
	}
	c.Regression = worse > threshold
	c.Improvement = -worse > threshold
	return c
}

// Verdict is a change in one word: regression, improvement, changed
// (significant, within the threshold), same, or ~ (not significant).
func (c Change) Verdict() string {
	switch {
	case c.Regression:
		return "REGRESSION"
	case c.Improvement:
		return "improvement"
	case c.Significant:
		return "changed"
	case c.Test == Exact:
		return "same"
	}
	return "~"
}
