package result

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/workload"
)

func TestDecodeChecksTheFormat(t *testing.T) {
	tests := []struct {
		name, data, err string
	}{
		{"current", `{"format":"krosim/results/v1"}`, ""},
		{"older", `{"format":"krosim/results/v0"}`, `format "krosim/results/v0", want "krosim/results/v1"`},
		{"none", `{}`, `format "", want`},
		{"not JSON", `{"format":`, "unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.data))
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Decode(%s) = %v, want %q", tt.data, err, tt.err)
			}
		})
	}
}

func TestASimulationsConfigHasNoClusterFields(t *testing.T) {
	r := &Result{Format: Format, Config: Config{RGDFiles: []string{"a.yaml"}, Workload: workload.Default(3), Seed: 1}}
	sim, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"mode"`, `"server"`, `"real"`} {
		if bytes.Contains(sim, []byte(key)) {
			t.Errorf("a simulation's results.json has %s:\n%s", key, sim)
		}
	}
	r.Config.Mode, r.Config.Cluster, r.Real = "real", &Cluster{Server: "https://x", Workers: 4}, &Real{}
	real, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, File), real, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Config.IsReal() || back.Config.ControllerWorkers() != 4 || back.Config.Cluster.Server != "https://x" || back.Real == nil {
		t.Errorf("a real run's config did not survive the round trip: %+v", back.Config)
	}
}

func TestQuantiles(t *testing.T) {
	if got := Quantiles(nil); got != (Percentiles{}) {
		t.Errorf("Quantiles(nil) = %+v, want zero", got)
	}
	if js, _ := (Percentiles{}).MarshalJSON(); string(js) != "null" {
		t.Errorf("an empty distribution is written %s, want null", js)
	}
	xs := make([]float64, 100)
	for i := range xs {
		xs[99-i] = float64(i+1) / 3 // 1/3 .. 100/3, reversed: Quantiles sorts a copy
	}
	got := Quantiles(xs)
	want := Percentiles{P50: 16.666667, P95: 31.666667, P99: 33, Max: 33.333333}
	if got != want {
		t.Errorf("Quantiles = %+v, want %+v", got, want)
	}
	if xs[0] != 100.0/3 {
		t.Errorf("Quantiles sorted its input")
	}
	if Seconds(1500*time.Nanosecond) != 0.000002 || Round(-0.0000015) != -0.000002 {
		t.Errorf("rounding: %v %v", Seconds(1500*time.Nanosecond), Round(-0.0000015))
	}
}

func TestWaitBucketsNamesTheServersBounds(t *testing.T) {
	counts := make([]int, len(WaitBounds)+1)
	counts[0], counts[3], counts[len(WaitBounds)] = 2, 3, 1
	got := WaitBuckets(counts)
	want := map[string]int{"0.005": 2, "0.1": 3, "+Inf": 1}
	if len(got) != len(WaitBounds)+1 || got[len(got)-1].LE != "+Inf" {
		t.Fatalf("%d buckets, the last %q: want %d, +Inf last", len(got), got[len(got)-1].LE, len(WaitBounds)+1)
	}
	for _, b := range got {
		if b.Waits != want[b.LE] {
			t.Errorf("bucket le=%s: %d waits, want %d", b.LE, b.Waits, want[b.LE])
		}
	}
	if WaitBuckets(make([]int, len(WaitBounds)+1)) != nil || WaitBuckets(nil) != nil {
		t.Error("no waits: want no buckets")
	}
}
