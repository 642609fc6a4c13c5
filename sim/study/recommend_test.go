package study

import (
	"strings"
	"testing"
)

func TestSameKneesShareASentence(t *testing.T) {
	knee := func(fixed map[string]float64, value float64) Knee {
		return Knee{Dimension: QPS, Fixed: fixed, Value: value, Tightest: 5, Loosest: 0, Best: value, Constraint: WorkerBound}
	}
	tests := []struct {
		name  string
		knees []Knee
		merge int
		along string
	}{
		{"one other dimension", []Knee{knee(map[string]float64{Workers: 1}, 50), knee(map[string]float64{Workers: 2}, 50)}, 2, Workers},
		{"different knees", []Knee{knee(map[string]float64{Workers: 1}, 50), knee(map[string]float64{Workers: 2}, 100)}, 1, ""},
		{"two dimensions differ", []Knee{knee(map[string]float64{Workers: 1, CPUs: 2}, 50), knee(map[string]float64{Workers: 2, CPUs: 4}, 50)}, 1, ""},
		{"first run only", []Knee{knee(map[string]float64{Workers: 1, CPUs: 2}, 50), knee(map[string]float64{Workers: 2, CPUs: 2}, 50),
			knee(map[string]float64{Workers: 1, CPUs: 4}, 50)}, 2, Workers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, along := mergeable(tt.knees)
			if len(run) != tt.merge || (tt.merge > 1 && along != tt.along) {
				t.Errorf("merged %d along %q, want %d along %q", len(run), along, tt.merge, tt.along)
			}
		})
	}
	s := &Sweep{Study: &Study{}, Dimensions: []string{QPS, Workers}}
	s.Study.Workload.Instances = 2000
	got := kneeSentence(s, knee(map[string]float64{Workers: 1}, 50), Workers, []float64{1, 2, 4})
	want := "At 2,000 instances with workers=1, 2 or 4, raising qps above 50 buys nothing: workers bind; add workers first"
	if !strings.HasPrefix(got, want) {
		t.Errorf("sentence\n%q\nwant prefix\n%q", got, want)
	}
}
