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

// A latency not measured (0: an update phase of a real run recorded before
// instances kept their update times) is a
// dash in the CRUD table, never "0" against the published number.
func TestLatencyCellsNotMeasured(t *testing.T) {
	if got := latencyCells(0, 23.5); got != "– | 23.5 | –" {
		t.Errorf("latencyCells(0, 23.5) = %q", got)
	}
	if got := latencyCells(47, 23.5); got != cells(47, 23.5, false) {
		t.Errorf("latencyCells(47, 23.5) = %q, want %q", got, cells(47, 23.5, false))
	}
}
