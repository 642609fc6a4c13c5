package analysis

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/krosim/krosim/sim/result"
	"golang.org/x/perf/benchmath"
)

var realRuns = []string{
	"../../testdata/realapi/measured/w1-n200-r1",
	"../../testdata/realapi/measured/w1-n200-r2",
	"../../testdata/realapi/measured/w1-n200-r3",
}

// scaled copies real runs with their converge time multiplied by f.
func scaled(t *testing.T, dirs []string, f float64) []string {
	t.Helper()
	var out []string
	for _, d := range dirs {
		r, err := result.Read(d)
		if err != nil {
			t.Fatal(err)
		}
		c := *r.Summary.ConvergeSeconds * f
		r.Summary.ConvergeSeconds = &c
		data, err := result.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, result.File), data, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, dir)
	}
	return out
}

func load(t *testing.T, dirs []string) []*Input {
	t.Helper()
	ins, err := LoadAll(dirs)
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

func change(t *testing.T, a *Analysis, metric string) Change {
	t.Helper()
	for _, c := range a.Changes {
		if c.Metric == metric {
			return c
		}
	}
	t.Fatalf("no change for %s", metric)
	return Change{}
}

// TestRealRunsAsBenchstat: real runs are noisy, so changes are judged by
// the U test, with benchmath's p-value and verdict on the same numbers.
func TestRealRunsAsBenchstat(t *testing.T) {
	converge := func(dirs []string) []float64 {
		var xs []float64
		for _, in := range load(t, dirs) {
			xs = append(xs, *in.Result.Summary.ConvergeSeconds)
		}
		return xs
	}
	tests := []struct {
		name        string
		base, new   []string
		significant bool
		regression  bool
	}{
		// Three runs each cannot reach p <= 0.05 (the least is 0.1): a 30%
		// slower converge is not significant, as benchstat would say "~".
		{"three runs each", realRuns, scaled(t, realRuns, 1.3), false, false},
		// Twice the runs (the same three twice) reach it.
		{"six runs each", append(slices.Clone(realRuns), realRuns...), func() []string { s := scaled(t, realRuns, 1.3); return append(s, s...) }(), true, true},
		{"same runs", realRuns, realRuns, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Analyze(load(t, tt.new), load(t, tt.base), nil)
			c := change(t, a, "converge_seconds")
			th := benchmath.DefaultThresholds
			want := benchmath.AssumeNothing.Compare(benchmath.NewSample(converge(tt.base), &th), benchmath.NewSample(converge(tt.new), &th))
			if c.Test != MannWhitney {
				t.Errorf("test %s, want the U test for real runs", c.Test)
			}
			if c.P != want.P || c.Significant != (want.P <= want.Alpha) {
				t.Errorf("p=%v significant=%v, benchmath says p=%v (alpha %v)", c.P, c.Significant, want.P, want.Alpha)
			}
			if !strings.HasPrefix(c.Note, want.String()) {
				t.Errorf("note %q does not start with benchstat's %q", c.Note, want.String())
			}
			if c.Significant != tt.significant || c.Regression != tt.regression {
				t.Errorf("significant %v regression %v, want %v %v (p=%v)", c.Significant, c.Regression, tt.significant, tt.regression, c.P)
			}
			if bs := Summarize(converge(tt.new)); c.New != bs {
				t.Errorf("summary %+v, want %+v", c.New, bs)
			}
			// Counts are equal in every real run: no change, not a regression.
			if rc := change(t, a, "reconciles"); rc.Significant || rc.Regression {
				t.Errorf("reconciles, equal in every run, judged %s", rc.Verdict())
			}
		})
	}
}

func TestSummarizeMatchesBenchmath(t *testing.T) {
	xs := []float64{37.027137, 39.31983, 38.524134, 36.1, 40.2, 38.8}
	s := Summarize(xs)
	th := benchmath.DefaultThresholds
	want := benchmath.AssumeNothing.Summary(benchmath.NewSample(xs, &th), 0.95)
	if s.Median != want.Center || s.Lo != want.Lo || s.Hi != want.Hi || s.N != 6 {
		t.Errorf("summary %+v, benchmath %+v", s, want)
	}
	if one := Summarize([]float64{5}); one.Lo != 5 || one.Hi != 5 || one.Median != 5 {
		t.Errorf("one value: %+v", one)
	}
}

func TestCompareExactAndDirections(t *testing.T) {
	m := func(src Source, better Direction, vs ...float64) *Metric {
		return &Metric{Name: "m", Better: better, Source: src, Values: vs, Seeds: make([]uint64, len(vs))}
	}
	tests := []struct {
		name       string
		old, new   *Metric
		verdict    string
		regression bool
	}{
		{"sim slower", m(Simulated, LowerBetter, 10), m(Simulated, LowerBetter, 12), "REGRESSION", true},
		{"sim faster", m(Simulated, LowerBetter, 10), m(Simulated, LowerBetter, 8), "improvement", false},
		{"sim within threshold", m(Simulated, LowerBetter, 10), m(Simulated, LowerBetter, 10.5), "changed", false},
		{"sim same", m(Simulated, LowerBetter, 10), m(Simulated, LowerBetter, 10), "same", false},
		{"throughput lower", m(Simulated, HigherBetter, 10), m(Simulated, HigherBetter, 8), "REGRESSION", true},
		{"neutral", m(Simulated, Neutral, 10), m(Simulated, Neutral, 20), "changed", false},
		{"from zero", m(Simulated, LowerBetter, 0), m(Simulated, LowerBetter, 3), "REGRESSION", true},
	}
	for _, tt := range tests {
		c := Compare(tt.old, tt.new, DefaultThreshold)
		if c.Test != Exact || c.Verdict() != tt.verdict || c.Regression != tt.regression {
			t.Errorf("%s: %s %s regression=%v, want exact %s %v", tt.name, c.Test, c.Verdict(), c.Regression, tt.verdict, tt.regression)
		}
	}
	if c := Compare(m(Simulated, LowerBetter, 10), m(Measured, LowerBetter, 12), 0.1); c.Test != MannWhitney || c.Significant {
		t.Errorf("one measured value each cannot be significant: %+v", c)
	}
	if c := Compare(m(Simulated, LowerBetter, 0), m(Simulated, LowerBetter, 3), 0.1); !math.IsNaN(c.Delta) {
		t.Errorf("delta from zero %v, want NaN", c.Delta)
	}
}

func TestThresholds(t *testing.T) {
	good := map[string]Threshold{"converge_seconds=5%": {"converge_seconds", 0.05}, "api_calls*=0.1": {"api_calls*", 0.1}, "*=0%": {"*", 0}}
	for s, want := range good {
		got, err := ParseThreshold(s)
		if err != nil || got != want {
			t.Errorf("ParseThreshold(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"converge", "=5%", "x=", "x=-1%", "x=abc"} {
		if _, err := ParseThreshold(s); err == nil {
			t.Errorf("ParseThreshold(%q) accepted", s)
		}
	}
	rules := []Threshold{{"*", 0.2}, {"api_calls.*", 0}, {"crud/create[sim] throughput", 0.05}}
	for name, want := range map[string]float64{"converge_seconds": 0.2, "api_calls.get": 0, "api_calls": 0.2, "crud/create[sim] throughput": 0.05} {
		if got := thresholdFor(rules, name); got != want {
			t.Errorf("threshold of %s = %v, want %v", name, got, want)
		}
	}
	if got := thresholdFor(nil, "x"); got != DefaultThreshold {
		t.Errorf("default %v", got)
	}
}
