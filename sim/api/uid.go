package api

import (
	"strconv"
	"unsafe"
)

// uids hands out the objects' UIDs boxed as stored, from chunks: a UID is
// unique per object and kept for its life, so each would be two small
// allocations (the string's 36 bytes, rounded up to 48, and the 16-byte
// interface box) where a chunk holds both at their size. A chunk lives
// while any of its UIDs does; objects created together (an instance's
// children) mostly go together too.
type uids struct {
	text  []byte   // the UIDs' characters, uidLen each
	boxes []string // the UIDs, each boxed by pointing at its element
}

// uidLen is a UID's length; uidsPerChunk the UIDs in a chunk.
const uidLen, uidsPerChunk = 36, 256

// next returns the UID of the n-th object created (see uidOf) as an
// interface holding a string, as the object's metadata stores it.
func (u *uids) next(n int64) any {
	if n < 0 || n >= 1e12 {
		return uidOf(n) // past 12 digits: boxed on its own
	}
	if len(u.boxes) == cap(u.boxes) {
		// New chunks: the old ones are never appended to again, so
		// what points into them stays valid.
		u.text = make([]byte, 0, uidLen*uidsPerChunk)
		u.boxes = make([]string, 0, uidsPerChunk)
	}
	start := len(u.text)
	u.text = appendUID(u.text, n)
	u.boxes = append(u.boxes, unsafe.String(&u.text[start], uidLen))
	return boxString(&u.boxes[len(u.boxes)-1])
}

// appendUID appends the UID of the n-th object created.
func appendUID(b []byte, n int64) []byte {
	const prefix, digits = "00000000-0000-0000-0000-", 12
	b = append(b, prefix...)
	var num [20]byte
	d := strconv.AppendInt(num[:0], n, 10)
	for i := len(d); i < digits; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// boxString returns an interface holding *p without copying it: its data
// word is p, as if the runtime had boxed the string there. *p must never
// change afterwards (an interface's value is immutable).
func boxString(p *string) any {
	var proto any = ""
	e := *(*eface)(unsafe.Pointer(&proto))
	e.data = unsafe.Pointer(p)
	return *(*any)(unsafe.Pointer(&e))
}
