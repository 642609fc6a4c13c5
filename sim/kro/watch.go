package kro

import (
	"slices"
	"sort"
	"time"

	"github.com/krosim/krosim/sim/api"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// watchReq is one watch an instance asked kro's coordinator for: a child by
// name, or a collection's items by node. It is small, 24 bytes (an
// instance holds one per child, the routing table one more): the resource
// and namespace are numbers (see Controller.gvrNums), and name is the node's ID
// for a collection.
type watchReq struct {
	scope int32 // the resource's number times two, plus one for a collection
	ns    int32
	name  string
}

// childReq is the watch request of one child by name.
func (c *Controller) childReq(k api.Key) watchReq {
	name := c.srv.Store.Shared(k.Name) // kept while the request is
	return watchReq{scope: 2 * c.gvrNums.Of(k.GVR), ns: c.nsNums.Of(k.Namespace), name: name}
}

// nodeReq is the watch request of a collection's items in ns by node.
func (c *Controller) nodeReq(gvr schema.GroupVersionResource, ns, node string) watchReq {
	return watchReq{scope: 2*c.gvrNums.Of(gvr) + 1, ns: c.nsNums.Of(ns), name: node}
}

// instKey is an instance's key as kro's queue and instance table hold it:
// 24 bytes, where an api.Key is 80 (the resource and namespace numbered as
// in watch requests).
type instKey struct {
	gvr, ns int32
	name    string
}

// instKey is k's instKey, numbering its resource and namespace if new.
func (c *Controller) instKey(k api.Key) instKey {
	return instKey{c.gvrNums.Of(k.GVR), c.nsNums.Of(k.Namespace), k.Name}
}

// key is the api.Key of an instKey.
func (c *Controller) key(ik instKey) api.Key {
	return api.Key{GVR: c.gvrNums.At(ik.gvr), Namespace: c.nsNums.At(ik.ns), Name: ik.name}
}

// watch routes store writes to the queue after the watch delay, as kro's
// informers do: instance updates only when the generation moved; child
// events to the instances whose last or current reconcile asked to watch
// that child, as the coordinator finds them when the event arrives. Every
// event costs kro's informer cost.event_ns of CPU to decode and route, off
// the workers' path.
func (c *Controller) watch(e api.Event) {
	c.cpu.RunAfter(c.k, "kro-informer", time.Duration(c.t.Cost.EventNS))
	if c.IsInstance(e.Key) {
		if e.Type == "MODIFIED" && e.Generation == e.OldGeneration {
			return
		}
		if e.Type == "DELETED" {
			if in := c.instances[c.instKey(e.Key)]; in != nil && !in.rec.IsGone {
				c.change(in, func() { in.rec.IsGone, in.rec.Gone = true, c.k.Now() })
			}
		}
		key := c.instKey(e.Key)
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
		gvr, watched := c.gvrNums.Lookup(key.GVR)
		ns, inNS := c.nsNums.Lookup(key.Namespace)
		if !watched || !inNS {
			return // no request ever named its resource or namespace
		}
		var keys []api.Key
		for in := range c.watchers.all(watchReq{scope: 2 * gvr, ns: ns, name: key.Name}) {
			keys = append(keys, in.rec.Key)
		}
		byNode := watchReq{scope: 2*gvr + 1, ns: ns, name: node}
		for in := range c.watchers.all(byNode) {
			if k := in.rec.Key; k.Namespace == inst.Namespace && k.Name == inst.Name {
				keys = append(keys, k)
			}
		}
		if len(keys) > 1 {
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		}
		for i, k := range keys {
			if i == 0 || k != keys[i-1] { // two instances of one name, the first gone
				c.queue.Add(c.instKey(k))
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
	c.watchers.add(req, in)
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

func (c *Controller) unwatch(req watchReq, in *Instance) { c.watchers.remove(req, in) }
