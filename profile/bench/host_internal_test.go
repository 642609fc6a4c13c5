package bench

import "testing"

func TestFlagLoadedSaysWhyOncePerMeasurement(t *testing.T) {
	bs := []Benchmark{{Name: "a", Throughput: Stat{Warning: "need >= 6 samples"}}, {Name: "b"}, {Name: "c"}}
	flagLoaded(bs, "loaded host")
	want := []string{"need >= 6 samples; loaded host", "loaded host", "loaded host"}
	for i, b := range bs {
		if !b.Throughput.Noisy || b.Throughput.Warning != want[i] {
			t.Errorf("%s: noisy %v, warning %q; want true, %q", b.Name, b.Throughput.Noisy, b.Throughput.Warning, want[i])
		}
	}
}
