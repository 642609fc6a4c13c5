package kro

import (
	"iter"
	"slices"
	"sort"

	"github.com/krosim/krosim/sim/api"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// watchReq is one watch an instance asked kro's coordinator for: a child by
// name, or a collection's items by node. It is small (an instance holds
// one per child, the routing table one more): the resource is a number
// (see gvrNum), and name is the node's ID for a collection.
type watchReq struct {
	gvr        int32
	collection bool
	ns, name   string
}

// gvrNum is the number watch requests name gvr by, assigned on first use.
func (c *Controller) gvrNum(gvr schema.GroupVersionResource) int32 {
	n, ok := c.gvrNums[gvr]
	if !ok {
		n = int32(len(c.gvrNums))
		c.gvrNums[gvr] = n
	}
	return n
}

// childReq is the watch request of one child by name.
func (c *Controller) childReq(k api.Key) watchReq {
	return watchReq{gvr: c.gvrNum(k.GVR), ns: k.Namespace, name: k.Name}
}

// nodeReq is the watch request of a collection's items in ns by node.
func (c *Controller) nodeReq(gvr schema.GroupVersionResource, ns, node string) watchReq {
	return watchReq{gvr: c.gvrNum(gvr), ns: ns, name: node, collection: true}
}

// watch routes store writes to the queue after the watch delay, as kro's
// informers do: instance updates only when the generation moved; child
// events to the instances whose last or current reconcile asked to watch
// that child, as the coordinator finds them when the event arrives.
func (c *Controller) watch(e api.Event) {
	if c.IsInstance(e.Key) {
		if e.Type == "MODIFIED" && e.Generation == e.OldGeneration {
			return
		}
		if e.Type == "DELETED" {
			if in := c.instances[e.Key]; in != nil && !in.rec.IsGone {
				c.change(in, func() { in.rec.IsGone, in.rec.Gone = true, c.k.Now() })
			}
		}
		key := e.Key
		c.k.After(c.t.Server.WatchDelay.D(), func() { c.queue.Add(key) })
		return
	}
	if c.t.Controller.IgnoreChildEvents {
		return
	}
	key, node := e.Key, e.Label(LabelNode)
	inst := api.Key{Namespace: e.Label(LabelInstanceNS), Name: e.Label(LabelInstance)}
	c.k.After(c.t.Server.WatchDelay.D(), func() {
		// The requests as of now, when the event arrives.
		gvr, watched := c.gvrNums[key.GVR]
		if !watched {
			return // no request ever named its resource
		}
		var keys []api.Key
		for in := range c.watchers[watchReq{gvr: gvr, ns: key.Namespace, name: key.Name}].all() {
			keys = append(keys, in.rec.Key)
		}
		byNode := watchReq{gvr: gvr, ns: key.Namespace, name: node, collection: true}
		for in := range c.watchers[byNode].all() {
			if k := in.rec.Key; k.Namespace == inst.Namespace && k.Name == inst.Name {
				keys = append(keys, k)
			}
		}
		if len(keys) > 1 {
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		}
		for i, k := range keys {
			if i == 0 || k != keys[i-1] { // two instances of one name, the first gone
				c.queue.Add(k)
			}
		}
	})
}

// watchChild registers a watch request of the reconcile in progress; it
// routes events at once.
func (c *Controller) watchChild(in *Instance, req watchReq) {
	if slices.Contains(in.watchCur, req) {
		return
	}
	if in.watchCur == nil {
		// Sized for the last reconcile's requests and one level more: a
		// chain's instance watches one more child each reconcile.
		in.watchCur = make([]watchReq, 0, len(in.watchPrev)+1)
	}
	in.watchCur = append(in.watchCur, req)
	set := c.watchers[req]
	set.add(in)
	c.watchers[req] = set
}

// doneWatches ends a reconcile's watch cycle, as the coordinator's Done:
// committed, the requests of the last reconcile not made again are dropped;
// not committed (a failed reconcile), the new requests are.
func (c *Controller) doneWatches(in *Instance, commit bool) {
	if in == nil {
		return
	}
	drop := in.watchPrev
	keep := in.watchCur
	if !commit {
		drop, keep = in.watchCur, in.watchPrev
	}
	for _, req := range drop {
		if !slices.Contains(keep, req) {
			c.unwatch(req, in)
		}
	}
	in.watchPrev, in.watchCur = keep, nil
}

// removeWatches drops every watch of an instance (before kro removes its finalizer).
func (c *Controller) removeWatches(in *Instance) {
	for _, reqs := range [][]watchReq{in.watchCur, in.watchPrev} {
		for _, req := range reqs {
			c.unwatch(req, in)
		}
	}
	in.watchCur, in.watchPrev = nil, nil
}

func (c *Controller) unwatch(req watchReq, in *Instance) {
	set, ok := c.watchers[req]
	if !ok {
		return
	}
	if set.remove(in) {
		delete(c.watchers, req)
		return
	}
	c.watchers[req] = set
}

// watchSet is the instances watching one request: nearly always one, so
// it holds the first inline and a map only for more.
type watchSet struct {
	one  *Instance
	more map[*Instance]struct{}
}

func (s *watchSet) add(in *Instance) {
	switch {
	case s.one == nil:
		s.one = in
	case s.one != in:
		if s.more == nil {
			s.more = map[*Instance]struct{}{}
		}
		s.more[in] = struct{}{}
	}
}

// remove drops in and reports whether the set is empty.
func (s *watchSet) remove(in *Instance) bool {
	if s.one == in {
		s.one = nil
		for m := range s.more { // any of the others moves up
			s.one = m
			delete(s.more, m)
			break
		}
	} else {
		delete(s.more, in)
	}
	return s.one == nil
}

// all is every instance in the set (in no order: the caller sorts).
func (s watchSet) all() iter.Seq[*Instance] {
	return func(yield func(*Instance) bool) {
		if s.one == nil || !yield(s.one) {
			return
		}
		for in := range s.more {
			if !yield(in) {
				return
			}
		}
	}
}
