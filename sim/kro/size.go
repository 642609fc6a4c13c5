package kro

import (
	"maps"
	"slices"
	"unsafe"

	"github.com/krosim/krosim/sim/api"
)

// place is where rendering may write in a spine node's container: a key of
// a map or an index of a list, with the spine node below it (nil when what
// is there is a field's value, or the top's metadata, which kro writes
// after rendering: sized by walking it).
type place struct {
	key   string
	idx   int
	child *spine
}

// measure prepares s, whose template value is tv, for size: the size of
// what rendering never writes in its container, and where it may write.
// written holds the fields' last path elements by the node holding them;
// top says s is the object's top level.
func (s *spine) measure(tv any, written map[*spine][]any, top bool) {
	switch v := tv.(type) {
	case map[string]any:
		dyn := map[string]*spine{}
		for k, c := range s.keys {
			if e, ok := v[k]; ok {
				c.measure(e, written, false)
			}
			dyn[k] = c
		}
		for _, e := range written[s] {
			if k, ok := e.(string); ok {
				dyn[k] = nil
			}
		}
		if top {
			dyn["metadata"] = nil
		}
		s.kind, s.base = 'm', api.SizeBrackets
		for k, e := range v {
			if _, ok := dyn[k]; !ok {
				s.base += api.SizeEntry(k, api.Size(e))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(dyn)) {
			s.dyn = append(s.dyn, place{key: k, child: dyn[k]})
		}
	case []any:
		dyn := map[int]*spine{}
		for i, c := range s.idx {
			if i >= 0 && i < len(v) {
				c.measure(v[i], written, false)
				dyn[i] = c
			}
		}
		for _, e := range written[s] {
			if i, ok := e.(int); ok && i >= 0 && i < len(v) {
				dyn[i] = nil
			}
		}
		s.kind, s.base = 'l', api.SizeBrackets
		for i, e := range v {
			if _, ok := dyn[i]; !ok {
				s.base += api.SizeItem(api.Size(e))
			}
		}
		for _, i := range slices.Sorted(maps.Keys(dyn)) {
			s.dyn = append(s.dyn, place{idx: i, child: dyn[i]})
		}
	}
}

// size is api.Size(obj) for an object l rendered, held the containers the
// render copied (nil: none, then obj is walked): what rendering never
// writes is sized once per template, not per object.
func (l *layout) size(obj map[string]any, held []any) int {
	if held == nil {
		return api.Size(obj)
	}
	return l.spine.size(obj, held)
}

// size is api.Size(v) for v at s's place in a rendered object: by s's
// measure when v is the container the render copied for s (nothing but
// rendering wrote in it), else by walking v.
func (s *spine) size(v any, held []any) int {
	if s == nil {
		return api.Size(v)
	}
	switch s.kind {
	case 'm':
		m, ok := v.(map[string]any)
		c, copied := held[s.id].(map[string]any)
		if !ok || !copied || !sameMap(m, c) {
			return api.Size(v)
		}
		n := s.base
		for _, p := range s.dyn {
			if e, ok := m[p.key]; ok {
				n += api.SizeEntry(p.key, p.child.size(e, held))
			}
		}
		return n
	case 'l':
		l, ok := v.([]any)
		c, copied := held[s.id].([]any)
		if !ok || !copied || len(l) != len(c) || len(l) == 0 || &l[0] != &c[0] {
			return api.Size(v)
		}
		n := s.base
		for _, p := range s.dyn {
			n += api.SizeItem(p.child.size(l[p.idx], held))
		}
		return n
	}
	return api.Size(v)
}

// sameMap reports whether a and b are the same map (not equal ones).
func sameMap(a, b map[string]any) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&a)) == *(*unsafe.Pointer)(unsafe.Pointer(&b))
}
