package kro

import (
	"github.com/krosim/krosim/sim/api"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// scratch recycles the maps, lists and objects a worker renders into. What
// a reconcile renders is dead once it ends: the store copies what it keeps
// of an applied object (see api.Store), and nothing else holds a rendered
// object past its reconcile. So the worker's next reconcile empties and
// refills the same containers instead of allocating new ones, which spares
// the collector most of what rendering costs. A nil scratch allocates.
type scratch struct {
	memo  memo // kept as big as a reconcile needs
	maps  []map[string]any
	lists [][]any
	// boxes holds each list as an interface, as it was last handed out:
	// boxing a list allocates its header, and a list reused at the same
	// length has the same header.
	boxes []any
	// objs are the objects a reconcile renders and sends (their data is
	// from maps above): the store copies what it keeps of one.
	objs       []*unstructured.Unstructured
	nm, nl, no int // in use in this reconcile
	// A render's field values and containers (see layout), never boxed
	// nor kept past the render: one list of each, reused.
	vals, held []any
	join       []byte // a string template's concatenation (see work.join)
	// A reconcile's nodes, expression variables, duplicate check, ApplySet
	// kinds and prune's tables, which nothing keeps past it.
	nodes      []node
	vars       map[string]any
	seen       []seenID
	kinds, now map[schemaGVR]bool
	want       map[api.Key]bool
	// The objects a reconcile applies in parallel (see applyResources),
	// their resources' names, their responses, and the calls of the
	// requests run in parallel (see parallel).
	names     []string
	applies   []desired
	responses []*unstructured.Unstructured
	calls     []api.Call
}

// nodesOf returns n zero nodes.
func (s *scratch) nodesOf(n int) []node {
	return buffer(s, func(s *scratch) *[]node { return &s.nodes }, n)
}

// The buffers of a reconcile's parallel requests, n zero items each (new
// when s is nil).

func (s *scratch) namesOf(n int) []string {
	return buffer(s, func(s *scratch) *[]string { return &s.names }, n)
}

func (s *scratch) appliesOf(n int) []desired {
	return buffer(s, func(s *scratch) *[]desired { return &s.applies }, n)
}

func (s *scratch) responsesOf(n int) []*unstructured.Unstructured {
	return buffer(s, func(s *scratch) *[]*unstructured.Unstructured { return &s.responses }, n)
}

func (s *scratch) callsOf(n int) []api.Call {
	return buffer(s, func(s *scratch) *[]api.Call { return &s.calls }, n)
}

// The reconcile's tables, emptied (new when s is nil).

func (s *scratch) varsMap() map[string]any {
	return table(s, func(s *scratch) *map[string]any { return &s.vars })
}

// seenList returns the duplicate check's list, emptied (nil when s is
// nil); the check hands it back in s.seen as grown.
func (s *scratch) seenList() []seenID {
	if s == nil {
		return nil
	}
	clear(s.seen)
	return s.seen[:0]
}

func (s *scratch) kindsMap() map[schemaGVR]bool {
	return table(s, func(s *scratch) *map[schemaGVR]bool { return &s.kinds })
}

func (s *scratch) nowMap() map[schemaGVR]bool {
	return table(s, func(s *scratch) *map[schemaGVR]bool { return &s.now })
}

func (s *scratch) wantMap() map[api.Key]bool {
	return table(s, func(s *scratch) *map[api.Key]bool { return &s.want })
}

// table returns the map of s that at picks, emptied, made if there is none;
// a new one when s is nil.
func table[K comparable, V any](s *scratch, at func(*scratch) *map[K]V) map[K]V {
	if s == nil {
		return map[K]V{}
	}
	m := at(s)
	if *m == nil {
		*m = map[K]V{}
	}
	clear(*m)
	return *m
}

// values returns a list of n nil items for a render's field values.
func (s *scratch) values(n int) []any {
	return buffer(s, func(s *scratch) *[]any { return &s.vals }, n)
}

// containers returns a list of n nil items for a render's containers.
func (s *scratch) containers(n int) []any {
	return buffer(s, func(s *scratch) *[]any { return &s.held }, n)
}

// buffer returns the list of s that at picks as n zero items, grown if
// needed; a new one when s is nil.
func buffer[T any](s *scratch, at func(*scratch) *[]T, n int) []T {
	if s == nil {
		return make([]T, n)
	}
	b := at(s)
	if cap(*b) < n {
		*b = make([]T, n)
	}
	*b = (*b)[:n]
	clear(*b)
	return *b
}

// mapOf returns an empty map for about n entries.
func (s *scratch) mapOf(n int) map[string]any {
	if s == nil {
		return make(map[string]any, n)
	}
	if s.nm == len(s.maps) {
		s.maps = append(s.maps, make(map[string]any, n))
	}
	m := s.maps[s.nm]
	clear(m)
	s.nm++
	return m
}

// object returns an object holding data m.
func (s *scratch) object(m map[string]any) *unstructured.Unstructured {
	if s == nil {
		return &unstructured.Unstructured{Object: m}
	}
	if s.no == len(s.objs) {
		s.objs = append(s.objs, &unstructured.Unstructured{})
	}
	o := s.objs[s.no]
	o.Object = m
	s.no++
	return o
}

// listOf returns a list of n nil items.
func (s *scratch) listOf(n int) []any {
	l, _ := s.boxedList(n)
	return l
}

// boxedList is listOf's list and the same list as an interface.
func (s *scratch) boxedList(n int) ([]any, any) {
	if s == nil {
		l := make([]any, n)
		return l, l
	}
	if s.nl == len(s.lists) {
		s.lists = append(s.lists, nil)
		s.boxes = append(s.boxes, nil)
	}
	l := s.lists[s.nl]
	if cap(l) < n {
		l = make([]any, n)
	} else {
		l = l[:n]
		clear(l)
	}
	s.lists[s.nl] = l
	if b, ok := s.boxes[s.nl].([]any); !ok || len(b) != n || n == 0 || &b[0] != &l[0] {
		s.boxes[s.nl] = l
	}
	box := s.boxes[s.nl]
	s.nl++
	return l, box
}

// memoOf returns the worker's memo, emptied for a new reconcile.
func (s *scratch) memoOf() *memo {
	if s == nil {
		// A fresh memo of generation 1: a slot never written, of
		// generation 0, is not a result.
		return &memo{gen: 1}
	}
	s.memo.reset()
	return &s.memo
}

// reset makes every container reusable: the reconcile that rendered into
// them is over.
func (s *scratch) reset() {
	if s == nil {
		return
	}
	for _, o := range s.objs[:s.no] {
		o.Object = nil // what a render did not build in s is not kept
	}
	s.nm, s.nl, s.no = 0, 0, 0
}
