package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Memory policy. A simulation's heap is mostly long-lived (every object of the
// modeled cluster), so krosim collects rarely (sim.GCPercent) while the heap
// is small, and once it is large keeps a soft memory limit at a fixed multiple
// of the heap that survived the last collection: memory grows with the run,
// not with the collector's pace, and the collector never runs back to back
// against a limit the live heap has reached.
const (
	// limitFloor is the soft limit below which GOGC alone paces the collector.
	limitFloor = 3 << 30
	// limitHeadroom is the limit's multiple of the live heap, in eighths:
	// 12/8 leaves half the live heap again for what a run allocates between
	// collections.
	limitHeadroom = 12
)

// memoryLimit is the soft memory limit for a live heap of live bytes.
func memoryLimit(live uint64) int64 {
	return max(limitFloor, int64(live/8*limitHeadroom))
}

// liveHeap is the heap marked live by the last collection, in bytes.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// followLiveHeap sets the soft memory limit now and again after every
// collection, for the rest of the process: a cleanup on an object nobody
// keeps runs once a collection has found it unreachable, and arms the next.
func followLiveHeap() {
	debug.SetMemoryLimit(memoryLimit(liveHeap()))
	armCollectionHook(func() { debug.SetMemoryLimit(memoryLimit(liveHeap())) })
}

// armCollectionHook calls f after the next collection and every one after it.
func armCollectionHook(f func()) {
	sentinel := new([64]byte) // not a tiny allocation, which may share a block and never be freed alone
	runtime.AddCleanup(sentinel, func(f func()) {
		armCollectionHook(f)
		f()
	}, f)
}
