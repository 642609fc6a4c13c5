package kro

import (
	"github.com/krosim/krosim/model"
)

// spine is the part of a resource's template that rendering writes to: the
// containers along the paths of its templated fields, and its metadata
// (kro sets the namespace and labels there). Rendering copies only the
// spine and shares every other subtree with the template, which nothing
// modifies: what is rendered is applied, and the store keeps its own copy.
type spine struct {
	keys map[string]*spine
	idx  map[int]*spine
}

// newSpine returns the spine of r's template, or nil when the template holds
// a nil map or list, which model.Clone would turn into an empty one: such a
// template is cloned whole, so that sharing changes nothing.
func newSpine(r *model.Resource) *spine {
	if hasNil(r.Template) {
		return nil
	}
	s := &spine{}
	s.child("metadata")
	for _, f := range r.Fields {
		cur := s
		for _, e := range f.Path[:max(len(f.Path)-1, 0)] {
			cur = cur.child(e)
		}
	}
	return s
}

// child is the spine below path element e (a key or an index), added if new.
func (s *spine) child(e any) *spine {
	switch k := e.(type) {
	case string:
		return below(&s.keys, k)
	case int:
		return below(&s.idx, k)
	}
	return s
}

func below[K comparable](m *map[K]*spine, k K) *spine {
	if *m == nil {
		*m = map[K]*spine{}
	}
	if (*m)[k] == nil {
		(*m)[k] = &spine{}
	}
	return (*m)[k]
}

func hasNil(x any) bool {
	switch v := x.(type) {
	case map[string]any:
		if v == nil {
			return true
		}
		for _, e := range v {
			if hasNil(e) {
				return true
			}
		}
	case []any:
		if v == nil {
			return true
		}
		for _, e := range v {
			if hasNil(e) {
				return true
			}
		}
	}
	return false
}

// render returns a copy of r's template to render into: along the spine
// when there is one (in containers from sc), else whole.
func (s *spine) render(r *model.Resource, sc *scratch) map[string]any {
	if s == nil {
		return model.Clone(r.Template).(map[string]any)
	}
	return s.clone(r.Template, sc).(map[string]any)
}

// clone copies x's containers along the spine into containers from sc,
// sharing everything else.
func (s *spine) clone(x any, sc *scratch) any {
	switch v := x.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		m := sc.mapOf(len(v))
		for k, e := range v {
			m[k] = e
		}
		for k, c := range s.keys {
			if e, ok := m[k]; ok {
				m[k] = c.clone(e, sc)
			}
		}
		return m
	case []any:
		if v == nil {
			return v
		}
		l, box := sc.boxedList(len(v))
		copy(l, v)
		for i, c := range s.idx {
			if i >= 0 && i < len(l) {
				l[i] = c.clone(l[i], sc)
			}
		}
		return box
	}
	return x
}
