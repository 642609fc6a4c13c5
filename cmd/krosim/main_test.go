package main

import (
	"runtime"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	const gib = uint64(1) << 30
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, 3 << 30},
		{1 * gib, 3 << 30},
		{2 * gib, 3 << 30},
		{4 * gib, 6 << 30},
		{10 * gib, 15 << 30},
	} {
		if got := memoryLimit(c.live); got != c.want {
			t.Errorf("limit for %d bytes live = %d, want %d", c.live, got, c.want)
		}
	}
}

// TestCollectionHook checks the hook that keeps the limit following the live
// heap runs after every collection, not once.
func TestCollectionHook(t *testing.T) {
	ran := make(chan struct{}, 16)
	armCollectionHook(func() { ran <- struct{}{} })
	for range 3 {
		runtime.GC()
		<-ran
	}
	if liveHeap() == 0 {
		t.Error("live heap read as 0 bytes after a collection")
	}
}
