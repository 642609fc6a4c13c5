package kro

// scratch recycles the maps and lists a worker renders objects into. What
// a reconcile renders is dead once it ends: the store copies what it keeps
// of an applied object (see api.Store), and nothing else holds a rendered
// object past its reconcile. So the worker's next reconcile empties and
// refills the same containers instead of allocating new ones, which spares
// the collector most of what rendering costs. A nil scratch allocates.
type scratch struct {
	memo   map[memoKey]evalResult // kept as big as a reconcile needs
	maps   []map[string]any
	lists  [][]any
	nm, nl int // in use in this reconcile
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

// listOf returns a list of n nil items.
func (s *scratch) listOf(n int) []any {
	if s == nil {
		return make([]any, n)
	}
	if s.nl == len(s.lists) {
		s.lists = append(s.lists, nil)
	}
	l := s.lists[s.nl]
	if cap(l) < n {
		l = make([]any, n)
	} else {
		l = l[:n]
		clear(l)
	}
	s.lists[s.nl] = l
	s.nl++
	return l
}

// memoMap returns an empty memo of evaluations for a reconcile.
func (s *scratch) memoMap() map[memoKey]evalResult {
	if s == nil {
		return map[memoKey]evalResult{}
	}
	if s.memo == nil {
		s.memo = map[memoKey]evalResult{}
	}
	clear(s.memo)
	return s.memo
}

// reset makes every container reusable: the reconcile that rendered into
// them is over.
func (s *scratch) reset() {
	if s == nil {
		return
	}
	s.nm, s.nl = 0, 0
}
