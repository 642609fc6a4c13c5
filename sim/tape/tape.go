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
// Its zero value is empty and ready to use.
type Tape struct {
	buf []byte
	n   int
}

// Put appends v.
func (t *Tape) Put(v int64) {
	t.buf = binary.AppendVarint(t.buf, v)
	t.n++
}

// Len is the number of integers put.
func (t *Tape) Len() int { return t.n }

// Clone returns a copy that shares nothing with t.
func (t *Tape) Clone() Tape { return Tape{buf: slices.Clone(t.buf), n: t.n} }

// Reader reads a tape from its start.
func (t *Tape) Reader() *Reader { return &Reader{buf: t.buf} }

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
	buf []byte
}

// More reports whether an integer is left.
func (r *Reader) More() bool { return len(r.buf) > 0 }

// Next returns the next integer. Reading past the end is a programmer's
// error: the writer and the reader of a tape agree on its records.
func (r *Reader) Next() int64 {
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		panic(fmt.Sprintf("tape: read past the end or a corrupt varint (%d bytes left)", len(r.buf)))
	}
	r.buf = r.buf[n:]
	return v
}
