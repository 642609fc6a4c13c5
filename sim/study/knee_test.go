package study

import (
	"math"
	"reflect"
	"testing"
)

// line builds the groups of one dimension's line; NaN means not converged.
func line(values, converge []float64, constraint Constraint) []Group {
	var gs []Group
	for i, v := range values {
		g := Group{Values: []float64{v}, Constraint: constraint}
		if !math.IsNaN(converge[i]) {
			g.ConvergeSeconds = &Spread{Mean: converge[i], Min: converge[i], Max: converge[i]}
		}
		gs = append(gs, g)
	}
	return gs
}

func TestKnees(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name      string
		dim       string
		values    []float64
		converge  []float64
		want      float64 // the knee
		best      float64
		noKnee    bool
		before    float64 // NaN: none
		tightest  float64
		loosestAt bool // the knee is the loosest value: more may help
	}{
		{name: "middle", dim: QPS, values: []float64{5, 10, 20, 50}, converge: []float64{100, 50, 20.9, 20},
			want: 20, best: 50, before: 10, tightest: 5},
		{name: "exactly at the tolerance", dim: Workers, values: []float64{1, 2, 4}, converge: []float64{30, 21, 20},
			want: 2, best: 4, before: 1, tightest: 1},
		{name: "flat: the tightest value is good enough", dim: Workers, values: []float64{1, 2, 4}, converge: []float64{20, 20.5, 20},
			want: 1, best: 1, before: nan, tightest: 1},
		{name: "still improving at the loosest value", dim: CPUs, values: []float64{1, 2, 4}, converge: []float64{100, 50, 25},
			want: 4, best: 4, before: 2, tightest: 1, loosestAt: true},
		{name: "qps none is the loosest", dim: QPS, values: []float64{0, 5, 50}, converge: []float64{10, 100, 30},
			want: 0, best: 0, before: 50, tightest: 5, loosestAt: true},
		{name: "tight values that did not converge", dim: QPS, values: []float64{1, 2, 5, 10}, converge: []float64{nan, nan, 30, 29},
			want: 5, best: 10, before: 2, tightest: 1},
		{name: "nothing converged", dim: QPS, values: []float64{1, 2}, converge: []float64{nan, nan}, noKnee: true},
		{name: "one value is no line", dim: QPS, values: []float64{1}, converge: []float64{5}, noKnee: true},
		{name: "load: the most instances within 5%", dim: Instances, values: []float64{20, 200, 2000}, converge: []float64{10, 10.3, 100},
			want: 200, best: 20, before: 2000, tightest: 2000},
		{name: "load: latency does not matter", dim: LatencyScale, values: []float64{0.5, 1, 2}, converge: []float64{10, 10, 10.2},
			want: 2, best: 1, before: nan, tightest: 2}, // ties go to the tightest
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := line(tt.values, tt.converge, WorkerBound)
			ks := Knees([]string{tt.dim}, gs)
			if tt.noKnee {
				if len(ks) != 0 {
					t.Fatalf("knees = %+v, want none", ks)
				}
				return
			}
			if len(ks) != 1 {
				t.Fatalf("got %d knees, want 1", len(ks))
			}
			k := ks[0]
			if k.Value != tt.want || k.Best != tt.best || k.Tightest != tt.tightest {
				t.Errorf("knee %g best %g tightest %g; want %g, %g, %g", k.Value, k.Best, k.Tightest, tt.want, tt.best, tt.tightest)
			}
			if (k.Value == k.Loosest) != tt.loosestAt {
				t.Errorf("knee at the loosest value = %v, want %v", k.Value == k.Loosest, tt.loosestAt)
			}
			switch {
			case math.IsNaN(tt.before) && k.BeforeValue != nil:
				t.Errorf("before = %g, want none", *k.BeforeValue)
			case !math.IsNaN(tt.before) && (k.BeforeValue == nil || *k.BeforeValue != tt.before):
				t.Errorf("before = %v, want %g", k.BeforeValue, tt.before)
			}
		})
	}
}

func TestKneesPerLine(t *testing.T) {
	// qps x workers: with 1 worker qps stops mattering at 10, with 2 at 50.
	conv := map[[2]float64]float64{
		{5, 1}: 100, {10, 1}: 40, {50, 1}: 40,
		{5, 2}: 100, {10, 2}: 50, {50, 2}: 20,
	}
	var gs []Group
	for _, q := range []float64{5, 10, 50} {
		for _, w := range []float64{1, 2} {
			c := conv[[2]float64{q, w}]
			gs = append(gs, Group{Values: []float64{q, w}, ConvergeSeconds: &Spread{Mean: c}, Constraint: ClientQPS})
		}
	}
	ks := Knees([]string{QPS, Workers}, gs)
	type got struct {
		dim   string
		fixed map[string]float64
		value float64
	}
	var have []got
	for _, k := range ks {
		have = append(have, got{k.Dimension, k.Fixed, k.Value})
	}
	want := []got{
		{QPS, map[string]float64{Workers: 1}, 10},
		{QPS, map[string]float64{Workers: 2}, 50},
		{Workers, map[string]float64{QPS: 5}, 1},
		{Workers, map[string]float64{QPS: 10}, 1},
		{Workers, map[string]float64{QPS: 50}, 2},
	}
	if !reflect.DeepEqual(have, want) {
		t.Errorf("knees =\n%+v\nwant\n%+v", have, want)
	}
}
