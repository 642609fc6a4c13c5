package tape

import (
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
)

// Tape is an append-only sequence of integers, each kept as a signed
// varint: one to three bytes for the small numbers (deltas of virtual
// times, durations in nanoseconds, flags) that a per-request log is made of,
// where a slice of records would spend eight per field and more in padding.
// It grows in chunks, so a long tape neither leaves half of a doubled
// buffer unused nor copies itself as it grows. Its zero value is empty and
// ready to use.
type Tape struct {
	chunks [][]byte // all full but the last, which grows up to chunkSize
	n      int
}

// chunkSize is the bytes of a chunk: a varint never straddles two.
const chunkSize = 32 << 10

// Put appends v.
func (t *Tape) Put(v int64) {
	last := len(t.chunks) - 1
	if last < 0 || len(t.chunks[last])+binary.MaxVarintLen64 > chunkSize {
		size := chunkSize
		if last < 0 {
			size = 64 // a short tape stays small; the first chunk grows
		}
		t.chunks = append(t.chunks, make([]byte, 0, size))
		last++
	}
	t.chunks[last] = binary.AppendVarint(t.chunks[last], v)
	t.n++
}

// Len is the number of integers put.
func (t *Tape) Len() int { return t.n }

// Clone returns a copy that shares nothing with t.
func (t *Tape) Clone() Tape {
	c := Tape{chunks: make([][]byte, len(t.chunks)), n: t.n}
	for i, b := range t.chunks {
		c.chunks[i] = slices.Clone(b)
	}
	return c
}

// Reader reads a tape from its start.
func (t *Tape) Reader() *Reader { return &Reader{chunks: t.chunks} }

// All is every integer of the tape, in the order put.
func (t *Tape) All() iter.Seq[int64] {
	return func(yield func(int64) bool) {
		r := t.Reader()
		for r.More() {
			if !yield(r.Next()) {
				return
			}
		}
	}
}

// Reader reads the integers of a tape in the order they were put.
type Reader struct {
	buf    []byte   // the rest of the chunk being read
	chunks [][]byte // the chunks after it
}

// More reports whether an integer is left.
func (r *Reader) More() bool {
	for len(r.buf) == 0 && len(r.chunks) > 0 {
		r.buf, r.chunks = r.chunks[0], r.chunks[1:]
	}
	return len(r.buf) > 0
}

// Next returns the next integer. Reading past the end is a programmer's
// error: the writer and the reader of a tape agree on its records.
func (r *Reader) Next() int64 {
	r.More()
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		panic(fmt.Sprintf("tape: read past the end or a corrupt varint (%d bytes left)", len(r.buf)))
	}
	r.buf = r.buf[n:]
	return v
}
