package api

// Numbers numbers values in the order they are first seen, from 0: a table
// keyed by a value's number (an int32) rather than the value (a resource's
// three strings, a namespace) has smaller entries. Numbers are never
// reused. Its zero value is empty and ready to use.
type Numbers[K comparable] struct {
	ix  map[K]int32
	all []K
}

// Of is k's number, numbering k now if new.
func (n *Numbers[K]) Of(k K) int32 {
	if i, ok := n.ix[k]; ok {
		return i
	}
	if n.ix == nil {
		n.ix = map[K]int32{}
	}
	i := int32(len(n.all))
	n.all = append(n.all, k)
	n.ix[k] = i
	return i
}

// Lookup is k's number; ok is false when k was never numbered.
func (n *Numbers[K]) Lookup(k K) (i int32, ok bool) {
	i, ok = n.ix[k]
	return i, ok
}

// At is the value numbered i.
func (n *Numbers[K]) At(i int32) K { return n.all[i] }
