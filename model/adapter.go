package model

import (
	"sync"
	"unsafe"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// adapter is the CEL type adapter of every environment: cel-go's default
// one (a registry of the standard types), with the CEL values it made for
// the last few maps and strings kept for reuse. With cost tracking on,
// cel-go converts every step of a field path to a CEL value for its cost
// observer (schema.spec.name wraps schema.spec, then the name): two
// allocations for a map, one for a string, on every evaluation, and the same
// maps and strings come again and again (an instance's spec, in every
// expression that reads it). Reusing a value is exact: a string is
// immutable, so one with the same bytes at the same address is the same
// string; a map's CEL value reads the map itself, by reference, and keeps
// only its length, which is part of the key. The cache is a small direct-
// mapped table, so what it keeps alive is bounded; a mutex guards it,
// because a sweep evaluates one model's programs in parallel runs.
type adapter struct {
	types.Adapter
	mu    sync.Mutex
	slots [adapterSlots]adapted
}

// adapterSlots is the size of an adapter's table, 1<<adapterBits.
const adapterBits, adapterSlots = 8, 1 << 8

// adapted is a CEL value made for a map or string, by address and length.
type adapted struct {
	p   unsafe.Pointer
	n   int
	str bool
	v   ref.Val
}

func newAdapter() *adapter { return &adapter{Adapter: mustRegistry()} }

// NativeToValue is the default adapter's conversion, reused for a map or
// string it made a value for last in the same slot.
func (a *adapter) NativeToValue(x any) ref.Val {
	var p unsafe.Pointer
	var n int
	str := false
	switch v := x.(type) {
	case map[string]any:
		if v == nil {
			return a.Adapter.NativeToValue(x)
		}
		p, n = *(*unsafe.Pointer)(unsafe.Pointer(&v)), len(v)
	case string:
		if v == "" {
			return a.Adapter.NativeToValue(x)
		}
		p, n, str = unsafe.Pointer(unsafe.StringData(v)), len(v), true
	default:
		return a.Adapter.NativeToValue(x)
	}
	// A slot by Fibonacci hashing: the product's top bits depend on every
	// bit of the address, which a few shifts of it did not spread as well.
	h := (uint64(uintptr(p)) ^ uint64(n)) * 0x9e3779b97f4a7c15
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &a.slots[h>>(64-adapterBits)]
	if s.p == p && s.n == n && s.str == str && s.v != nil {
		return s.v
	}
	v := a.Adapter.NativeToValue(x)
	*s = adapted{p: p, n: n, str: str, v: v}
	return v
}
