package kro

import (
	"maps"
	"slices"

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
	id   int // the node's place in a render's table of containers (see layout)
	// How the node's container is sized (see layout.size), when the
	// template holds one there: kind 'm' (a map) or 'l' (a list), else 0.
	kind byte
	base int     // the size of what rendering never writes in it
	dyn  []place // what rendering may write in it
	// The template's value at the node and, for a map, its entries with
	// the node below each key (nil for none), for a list the nodes below
	// its indexes (see plan): copy walks these lists rather than iterating
	// the template's map and the node's, since a Go map's iteration (its
	// random start included) costs more than the copy.
	tmpl    any
	entries []spineEntry
	items   []spineItem
}

// spineEntry is an entry of the template's map at a spine node, and the
// node below its key (nil when rendering writes nothing below it).
type spineEntry struct {
	k     string
	v     any
	child *spine
	// field: a field's value is written at k after the copy (see
	// layout.render), so copy leaves the key to that write rather than
	// set it twice.
	field bool
}

// spineItem is an index of the template's list at a spine node within its
// length, and the node below it.
type spineItem struct {
	i     int
	child *spine
}

// layout is how a resource is rendered: its spine (nil: the template is
// cloned whole), and for each templated field the spine node whose
// container holds the field's value, so that rendering writes the value
// there rather than walking the field's path from the top (Path.Set).
type layout struct {
	spine *spine
	nodes int   // spine nodes, numbered from 0 (the top)
	into  []int // by field: the node holding it, -1 for Path.Set to write it
}

// newLayout returns r's layout. A field is written into its node's
// container only when no field's path leads into another's value (no path
// is a prefix of another), so that the containers rendering copied are
// the ones Path.Set would reach; otherwise Path.Set writes every field.
func newLayout(r *model.Resource) *layout {
	l := &layout{spine: newSpine(r), into: make([]int, len(r.Fields))}
	for i := range l.into {
		l.into[i] = -1
	}
	if l.spine == nil || nested(r.Fields) {
		return l
	}
	l.nodes = l.spine.number(0)
	written := map[*spine][]any{} // the fields' last path elements, by node
	for i, f := range r.Fields {
		if len(f.Path) == 0 {
			continue
		}
		cur := l.spine
		for _, e := range f.Path[:len(f.Path)-1] {
			cur = cur.child(e)
		}
		l.into[i] = cur.id
		written[cur] = append(written[cur], f.Path[len(f.Path)-1])
	}
	l.spine.measure(r.Template, written, true)
	for n, keys := range written {
		n.markFields(keys)
	}
	return l
}

// markFields marks the entries of s's map at the keys among a node's
// fields' last path elements (see spineEntry.field).
func (s *spine) markFields(keys []any) {
	for i := range s.entries {
		s.entries[i].field = slices.Contains(keys, any(s.entries[i].k))
	}
}

// nested reports whether a field's path is a prefix of another's.
func nested(fields []*model.Value) bool {
	for i, a := range fields {
		for j, b := range fields {
			if i != j && len(a.Path) < len(b.Path) && slices.Equal(a.Path, b.Path[:len(a.Path)]) {
				return true
			}
		}
	}
	return false
}

// number numbers s and the nodes below it from next, in a fixed order, and
// returns the next number free.
func (s *spine) number(next int) int {
	s.id = next
	next++
	for _, k := range slices.Sorted(maps.Keys(s.keys)) {
		next = s.keys[k].number(next)
	}
	for _, i := range slices.Sorted(maps.Keys(s.idx)) {
		next = s.idx[i].number(next)
	}
	return next
}

// render returns a copy of r's template with vals (by field) written at the
// fields' paths, in order: what rendering the template (spine.render) and
// then Path.Set of every field do.
// It also returns the containers it copied, by spine node, for size (nil:
// none were).
func (l *layout) render(r *model.Resource, sc *scratch, vals []any) (map[string]any, []any) {
	if l.spine == nil {
		obj := model.Clone(r.Template).(map[string]any)
		for i, f := range r.Fields {
			f.Path.Set(obj, vals[i])
		}
		return obj, nil
	}
	var held []any // nil when no field is written into its node
	if l.nodes > 0 {
		held = sc.containers(l.nodes)
	}
	obj := l.spine.copy(sc, held).(map[string]any)
	for i, f := range r.Fields {
		if n := l.into[i]; n >= 0 && held[n] != nil {
			setIn(held[n], f.Path[len(f.Path)-1], vals[i])
			continue
		}
		f.Path.Set(obj, vals[i]) // the template lacks the path's containers
	}
	return obj, held
}

// setIn sets v at path element e of container c as the last step of
// Path.Set does: a key of a map, an index of a list within its length, and
// nothing when e does not fit c.
func setIn(c, e, v any) {
	switch k := e.(type) {
	case string:
		if m, ok := c.(map[string]any); ok {
			m[k] = v
		}
	case int:
		if l, ok := c.([]any); ok && k >= 0 && k < len(l) {
			l[k] = v
		}
	}
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
	s.plan(r.Template)
	return s
}

// plan notes at s and the nodes below it what copy copies there from tv,
// the template's value at s: the value, and its map's entries (in key
// order) or the indexes within its list's length that nodes go below.
func (s *spine) plan(tv any) {
	s.tmpl = tv
	switch v := tv.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			c := s.keys[k]
			if c != nil {
				c.plan(v[k])
			}
			s.entries = append(s.entries, spineEntry{k: k, v: v[k], child: c})
		}
	case []any:
		for _, i := range slices.Sorted(maps.Keys(s.idx)) {
			if i >= 0 && i < len(v) {
				s.idx[i].plan(v[i])
				s.items = append(s.items, spineItem{i, s.idx[i]})
			}
		}
	}
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
	return s.copy(sc, nil).(map[string]any)
}

// copy copies the template's containers along the spine (its value at s
// and below, as planned) into containers from sc, sharing everything
// else; held, when not nil, gets each node's copied container at the
// node's id (see layout).
func (s *spine) copy(sc *scratch, held []any) any {
	switch v := s.tmpl.(type) {
	case map[string]any:
		m := sc.mapOf(len(s.entries))
		for _, e := range s.entries {
			if e.field && held != nil {
				continue // layout.render writes the field's value here
			}
			if e.child != nil {
				m[e.k] = e.child.copy(sc, held)
			} else {
				m[e.k] = e.v
			}
		}
		if held != nil {
			held[s.id] = m
		}
		return m
	case []any:
		l, box := sc.boxedList(len(v))
		copy(l, v)
		for _, it := range s.items {
			l[it.i] = it.child.copy(sc, held)
		}
		if held != nil {
			held[s.id] = box // the list as boxed: boxing l again would allocate
		}
		return box
	}
	return s.tmpl
}
