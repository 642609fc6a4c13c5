package kro

import "iter"

// routes is kro's watch routing table: the instances watching each
// request. Nearly every request has one watcher, so the table holds that
// one, a pointer per entry (an entry per stored child), and the rare others
// in a second table.
type routes struct {
	one  map[watchReq]*Instance
	more map[watchReq]map[*Instance]struct{}
}

func newRoutes() routes {
	return routes{one: map[watchReq]*Instance{}, more: map[watchReq]map[*Instance]struct{}{}}
}

// add makes in watch req.
func (r routes) add(req watchReq, in *Instance) {
	first, ok := r.one[req]
	switch {
	case !ok:
		r.one[req] = in
	case first != in:
		others := r.more[req]
		if others == nil {
			others = map[*Instance]struct{}{}
			r.more[req] = others
		}
		others[in] = struct{}{}
	}
}

// remove stops in watching req.
func (r routes) remove(req watchReq, in *Instance) {
	first, ok := r.one[req]
	if !ok {
		return
	}
	others := r.more[req]
	if first != in {
		delete(others, in)
	} else {
		delete(r.one, req)
		for m := range others { // any of the others moves up
			r.one[req] = m
			delete(others, m)
			break
		}
	}
	if others != nil && len(others) == 0 {
		delete(r.more, req)
	}
}

// all is every instance watching req (in no order: the caller sorts).
func (r routes) all(req watchReq) iter.Seq[*Instance] {
	return func(yield func(*Instance) bool) {
		first, ok := r.one[req]
		if !ok || !yield(first) {
			return
		}
		for in := range r.more[req] {
			if !yield(in) {
				return
			}
		}
	}
}
