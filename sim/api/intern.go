package api

import (
	"encoding/binary"
	"iter"
	"math"
	"math/bits"
	"reflect"
	"unsafe"
)

// interner hash-conses the store's immutable object data: equal subtrees
// (maps, lists, strings) of the objects stored are kept once and shared.
// Objects rendered from one template differ in a few fields, so most of
// each (a Deployment's pod template, a status) is the same value in every
// instance. Sharing is safe because the store never modifies what it
// stores: a write replaces an object, copying what changes.
//
// A value enters the tables the second time it is seen: until then only a
// bit of its hash is set (seen). Much of what is stored is one object's
// own (its labels, a Service's cluster IP, an Ingress's status), and a
// table entry for it would cost more than the bit; data rendered from a
// template is seen again with the next instance, so it is kept twice at
// most, once in the object that showed it first. A bit set by another
// value of the same hash only lets a value in early.
//
// The tables only speed sharing up: forgetting them (reset) loses no data,
// so they are dropped when they outgrow the objects stored, which bounds
// what deleted objects leave behind.
type interner struct {
	strs  map[string]any   // each string boxed once: an interface holding it costs no allocation
	vals  map[uint64]any   // maps and lists by hash
	more  map[uint64][]any // the rare others of a hash taken in vals
	size  int              // maps and lists interned
	seen  []uint64         // a bit set of hashes of the values seen once
	stack []entry          // the entries being interned, innermost last
}

// seenBits is the least bits of interner.seen, and seenPerObject the bits
// per stored object it grows to keep (a few values are seen per object).
const seenBits, seenPerObject = 1 << 16, 32

func newInterner() *interner {
	return &interner{strs: map[string]any{}, vals: map[uint64]any{}, more: map[uint64][]any{},
		seen: make([]uint64, seenBits/64)}
}

// reset forgets the tables once they hold more than perObject entries per
// stored object (plus a floor), keeping memory bounded under churn. The
// seen bits double, forgotten, when the objects stored outgrow them.
func (in *interner) reset(objects int) {
	const perObject, floor = 16, 1 << 16
	if len(in.strs)+in.size > perObject*objects+floor {
		*in = *newInterner()
	}
	if bits := len(in.seen) * 64; objects*seenPerObject > bits {
		in.seen = make([]uint64, 2*bits/64)
	}
}

// again reports whether a value of hash h was seen before, and notes it seen.
func (in *interner) again(h uint64) bool {
	i := h & uint64(len(in.seen)*64-1)
	w, b := i/64, uint64(1)<<(i%64)
	if in.seen[w]&b != 0 {
		return true
	}
	in.seen[w] |= b
	return false
}

// object returns the object sharing its data: every value under its top
// level is the interned equal one. The top level and metadata maps are the
// object's own (its identity and revision live there) and not interned;
// the resource version and UID are unique per write and per object, so
// they are left alone. obj's top level and metadata maps are the store's
// fresh copies (see shallow), made at their size: each is kept, its values
// replaced in place, but one of exactly 8 entries, which is built anew (see
// own). What is below
// them is kept only when owned (see value). prev is the stored version obj
// replaces (nil for none): a value obj shares with it (the same map, list
// or boxed scalar, at the same key) is interned already and kept without a
// walk, so that a write interns only what it changed. It also returns what
// the walk measured of the object, so that storing it need not walk it
// again.
func (in *interner) object(obj, prev map[string]any, owned bool) (map[string]any, measure) {
	out := own(obj)
	prevMD, _ := prev["metadata"].(map[string]any)
	m := measure{total: SizeBrackets}
	complete := true // every value was walked
	for k, v := range obj {
		if md, ok := v.(map[string]any); ok && k == "metadata" && md != nil {
			mm := own(md)
			n := SizeBrackets
			for mk, mv := range md {
				switch {
				case mk == "resourceVersion" || mk == "uid":
					n += SizeEntry(mk, Size(mv))
				case kept(prevMD, mk, mv):
					complete = false
				default:
					var size int
					mv, _, size = in.value(mv, owned)
					n += SizeEntry(mk, size)
				}
				mm[mk] = mv
			}
			out[k] = mm
			m.total += SizeEntry(k, n)
			continue
		}
		if kept(prev, k, v) {
			complete = false
			if k == "status" {
				m.status = -1
			}
		} else {
			var size int
			v, _, size = in.value(v, owned)
			e := SizeEntry(k, size)
			m.total += e
			if k == "status" {
				m.status = e
			}
		}
		out[k] = v
	}
	if !complete {
		m.total = -1
	}
	return out, m
}

// measure is the sizes (see Size) interning an object found: the whole
// object's, and its status entry's (0 without one); -1 for what it kept
// from the version before without a walk, which it did not size.
type measure struct {
	total, status int
}

// own is m to write m's own keys into: m itself, unless it holds exactly 8
// entries, a Go map's one full group, which any write (even of a key it
// holds) grows into a table: then a new map of its size. A map of more
// entries is a table already, and writing the keys it holds changes it in
// place.
func own(m map[string]any) map[string]any {
	if len(m) != 8 {
		return m
	}
	return make(map[string]any, len(m))
}

// kept reports whether v is what the stored map prev holds at k: the same
// word, interned when prev was stored (or shared with what was, before a
// reset: keeping it still keeps one copy).
func kept(prev map[string]any, k string, v any) bool {
	if prev == nil {
		return false
	}
	p, ok := prev[k]
	return ok && identical(p, v)
}

// Hash seeds of the kinds of values, so that equal-looking scalars of
// different types hash apart.
const (
	seedNil uint64 = iota + 0x9e3779b97f4a7c15
	seedString
	seedInt
	seedFloat
	seedBool
	seedMap
	seedList
	seedOther
)

// value returns the interned value equal to v, its hash and its size
// (see Size). Maps and lists
// are interned after their elements, so two are equal exactly when their
// elements are the same interned values: the lookup compares identities,
// never whole trees. v is never modified. When new, owned v made of
// interned values becomes the interned value itself; otherwise a copy does,
// so that what a caller keeps is never stored.
func (in *interner) value(v any, owned bool) (any, uint64, int) {
	switch x := v.(type) {
	case string:
		h := hashString(seedString, x)
		if s, ok := in.strs[x]; ok {
			return s, h, len(x) + 2
		}
		if in.again(h) {
			in.strs[x] = v
		}
		return v, h, len(x) + 2
	case int64:
		return v, mix(seedInt ^ uint64(x)), Size(v)
	case float64:
		return v, mix(seedFloat ^ math.Float64bits(x)), Size(v)
	case bool:
		if x {
			return v, mix(seedBool + 1), Size(v)
		}
		return v, mix(seedBool), Size(v)
	case nil:
		return v, mix(seedNil), Size(v)
	case map[string]any:
		if x == nil {
			return v, mix(seedMap), SizeBrackets
		}
		// The interned entries go on the stack while they are looked up;
		// a new map is built only for data not seen before.
		base := len(in.stack)
		h := mix(seedMap + uint64(len(x)))
		n := SizeBrackets
		changed := false
		for k, e := range x {
			c, eh, es := in.value(e, owned)
			changed = changed || !identical(c, e)
			in.stack = append(in.stack, entry{k, c})
			// A sum of the entries' hashes: map order does not matter.
			h += mix(hashString(seedString, k) ^ eh)
			n += SizeEntry(k, es)
		}
		v, h = in.settle(v, mix(h), base, changed || !owned)
		return v, h, n
	case []any:
		if x == nil {
			return v, mix(seedList), SizeBrackets
		}
		base := len(in.stack)
		h := mix(seedList + uint64(len(x)))
		n := SizeBrackets
		changed := false
		for _, e := range x {
			c, eh, es := in.value(e, owned)
			changed = changed || !identical(c, e)
			in.stack = append(in.stack, entry{v: c})
			h = mix(h ^ eh)
			n += SizeItem(es)
		}
		v, h = in.settle(v, h, base, changed || !owned)
		return v, h, n
	}
	return v, seedOther, Size(v) // not JSON data: kept as it is, never shared
}

// entry is a map's entry (or a list's item, without k) with its value
// interned, on the interner's stack.
type entry struct {
	k string
	v any
}

func (in *interner) pop(base int) {
	clear(in.stack[base:])
	in.stack = in.stack[:base]
}

// settle returns the interned map or list of hash h equal to v, whose
// interned entries are on the stack from base (popped on return), or if
// there is none v itself, or with rebuild a new one built from the entries
// (rather than writing into v: writing even an existing key into a Go map
// holding 8 entries grows it), interned when seen before.
func (in *interner) settle(v any, h uint64, base int, rebuild bool) (any, uint64) {
	entries := in.stack[base:]
	defer in.pop(base)
	_, isMap := v.(map[string]any)
	for c := range in.candidates(h) {
		if m, ok := c.(map[string]any); ok && isMap && sameEntries(m, entries) {
			return c, h
		}
		if l, ok := c.([]any); ok && !isMap && sameItems(l, entries) {
			return c, h
		}
	}
	if rebuild && isMap {
		m := make(map[string]any, len(entries))
		for _, e := range entries {
			m[e.k] = e.v
		}
		v = m
	} else if rebuild {
		l := make([]any, len(entries))
		for i, e := range entries {
			l[i] = e.v
		}
		v = l
	}
	if !in.again(h) {
		return v, h
	}
	return in.add(v, h)
}

// add makes v, a map or list of interned values, the interned one.
func (in *interner) add(v any, h uint64) (any, uint64) {
	if _, taken := in.vals[h]; taken {
		in.more[h] = append(in.more[h], v)
	} else {
		in.vals[h] = v
	}
	in.size++
	return v, h
}

// candidates are the interned maps and lists of hash h.
func (in *interner) candidates(h uint64) iter.Seq[any] {
	return func(yield func(any) bool) {
		c, ok := in.vals[h]
		if !ok || !yield(c) {
			return
		}
		for _, c := range in.more[h] {
			if !yield(c) {
				return
			}
		}
	}
}

// sameEntries reports whether m holds exactly the entries (interned values).
func sameEntries(m map[string]any, entries []entry) bool {
	if len(m) != len(entries) {
		return false
	}
	for _, e := range entries {
		f, ok := m[e.k]
		if !ok || !same(e.v, f) {
			return false
		}
	}
	return true
}

// sameItems reports whether l holds exactly the items (interned values).
func sameItems(l []any, items []entry) bool {
	if len(l) != len(items) {
		return false
	}
	for i, e := range items {
		if !same(e.v, l[i]) {
			return false
		}
	}
	return true
}

// same reports whether two interned values are the same: scalars by value,
// maps and lists by identity (interned, equal ones are one).
func same(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && (x == nil) == (y == nil) && reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer()
	case []any:
		y, ok := b.([]any)
		return ok && (x == nil) == (y == nil) && len(x) == len(y) &&
			(len(x) == 0 || &x[0] == &y[0])
	case string, int64, float64, bool, nil:
		return a == b
	}
	return false // not JSON data: never interned, so never the same
}

// hashString hashes s from seed eight bytes at a time: every string the
// store writes is hashed (a name, a label, each key of a map), so a
// byte-at-a-time hash (FNV-1a, before) costs more than the table lookups
// it serves. Each word is folded in with a multiply and a rotation (as
// xxHash's rounds do), the tail as one word of its bytes, and mix spreads
// the result.
func hashString(seed uint64, s string) uint64 {
	const k1, k2 = 0x9e3779b185ebca87, 0xc2b2ae3d27d4eb4f
	h := seed ^ uint64(len(s))*k1
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	for ; len(b) >= 8; b = b[8:] {
		h = bits.RotateLeft64(h^binary.LittleEndian.Uint64(b)*k2, 31) * k1
	}
	if len(b) > 0 {
		var w uint64
		for i, c := range b {
			w |= uint64(c) << (8 * i)
		}
		h = bits.RotateLeft64(h^w*k2, 31) * k1
	}
	return mix(h)
}

// mix is a 64-bit finalizer (splitmix64's), spreading every input bit.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ bits.RotateLeft64(h, -31)
}

// eface is the layout of an interface without methods (any): its type and
// its data word.
type eface struct{ typ, data unsafe.Pointer }

// identical reports whether two interfaces hold the same word: the same
// boxed value or the same map or list, so that replacing one with the other
// changes nothing.
func identical(a, b any) bool {
	x, y := (*eface)(unsafe.Pointer(&a)), (*eface)(unsafe.Pointer(&b))
	return x.typ == y.typ && x.data == y.data
}
