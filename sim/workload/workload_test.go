package workload

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestValidateBounds wants workloads that would exhaust memory, overflow
// the arrival times or carry NaN rejected before a run starts.
func TestValidateBounds(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Workload)
		want string // "" when valid
	}{
		{"default", func(*Workload) {}, ""},
		{"a million instances", func(w *Workload) { w.Instances = MaxInstances }, ""},
		{"too many instances", func(w *Workload) { w.Instances = math.MaxInt }, "instances must be in [1, 1000000]"},
		{"a billion instances", func(w *Workload) { w.Instances = 1e9 }, "instances must be in [1, 1000000]"},
		{"NaN rate", func(w *Workload) { w.Arrival, w.Rate = "rate", math.NaN() }, "rate must be a finite number"},
		{"NaN rate, all at once", func(w *Workload) { w.Rate = math.NaN() }, "rate must be a finite number"},
		{"infinite rate", func(w *Workload) { w.Arrival, w.Rate = "poisson", math.Inf(1) }, "rate must be a finite number"},
		{"tiny rate", func(w *Workload) { w.Arrival, w.Rate = "rate", 1e-12 }, "rate 1e-12 is too low for 100 instances"},
		{"slow but fits", func(w *Workload) { w.Arrival, w.Rate = "rate", 1e-6 }, ""},
		{"NaN update", func(w *Workload) { w.Update = math.NaN() }, "update must be a fraction in [0, 1], got NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := Default(100)
			tt.edit(&w)
			err := w.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestArrivalsInRange wants every arrival of a valid workload at or after
// the one before: time.Duration overflow used to make late ones negative.
func TestArrivalsInRange(t *testing.T) {
	for _, arrival := range []string{"rate", "poisson"} {
		w := Default(1000)
		w.Arrival, w.Rate = arrival, float64(w.Instances)/MaxArrivalSpan.Seconds()
		if err := w.Validate(); err != nil {
			t.Fatal(err)
		}
		out := w.Arrivals(rand.New(rand.NewPCG(1, 2)))
		for i := 1; i < len(out); i++ {
			if out[i] < out[i-1] {
				t.Fatalf("%s: arrival %d at %v comes before arrival %d at %v", arrival, i, out[i], i-1, out[i-1])
			}
		}
	}
}
