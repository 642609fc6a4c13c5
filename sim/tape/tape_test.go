package tape

import (
	"math"
	"slices"
	"testing"
)

// TestTapeRoundTrips checks that every integer comes back in order,
// extremes included, and that a clone is independent of the original.
func TestTapeRoundTrips(t *testing.T) {
	want := []int64{0, 1, -1, 63, 64, -64, -65, 1 << 20, math.MaxInt64, math.MinInt64, 42}
	var tp Tape
	for _, v := range want {
		tp.Put(v)
	}
	if tp.Len() != len(want) {
		t.Errorf("Len %d, want %d", tp.Len(), len(want))
	}
	c := tp.Clone()
	tp.Put(7)
	if got := slices.Collect(c.All()); !slices.Equal(got, want) {
		t.Errorf("clone read %v, want %v", got, want)
	}
	if got := slices.Collect(tp.All()); !slices.Equal(got, append(want, 7)) {
		t.Errorf("read %v, want %v", got, append(want, 7))
	}
	r := tp.Reader()
	for range tp.Len() {
		r.Next()
	}
	if r.More() {
		t.Error("More after the last integer")
	}
}

// TestTapeIsCompact checks the point of a tape: small numbers take a byte
// or two, not eight.
func TestTapeIsCompact(t *testing.T) {
	var tp Tape
	for i := range 1000 {
		tp.Put(int64(i % 50))
	}
	if n := tp.bytes(); n != 1000 {
		t.Errorf("1000 integers below 64 took %d bytes, want 1000", n)
	}
}

func (t *Tape) bytes() int {
	n := 0
	for _, c := range t.chunks {
		n += len(c)
	}
	return n
}

// TestTapeSpansChunks checks a tape of many chunks: every integer back in
// order, and no chunk grown past its size.
func TestTapeSpansChunks(t *testing.T) {
	var tp Tape
	const n = 100000
	for i := range n {
		tp.Put(int64(i) * 1e9) // up to 9 bytes each
	}
	if len(tp.chunks) < 10 {
		t.Fatalf("%d chunks for %d bytes", len(tp.chunks), tp.bytes())
	}
	for i, c := range tp.chunks[1:] {
		if cap(c) != chunkSize {
			t.Errorf("chunk %d has capacity %d, want %d", i+1, cap(c), chunkSize)
		}
	}
	i := int64(0)
	for v := range tp.All() {
		if v != i*1e9 {
			t.Fatalf("integer %d read as %d", i, v)
		}
		i++
	}
	if i != n {
		t.Errorf("read %d integers, want %d", i, n)
	}
}

// TestReaderPanicsPastTheEnd checks that a reader never invents data.
func TestReaderPanicsPastTheEnd(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("reading an empty tape did not panic")
		}
	}()
	var tp Tape
	tp.Reader().Next()
}

func BenchmarkPut(b *testing.B) {
	var tp Tape
	b.ReportAllocs()
	for i := range b.N {
		tp.Put(int64(i & 0xffff))
	}
}
