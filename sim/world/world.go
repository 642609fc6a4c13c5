package world

import (
	"fmt"
	"maps"

	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// World runs the kind controllers. Their writes go straight to the store at
// the sampled moment; they are counted apart from kro's.
type World struct {
	k       *kernel.Kernel
	store   *api.Store
	t       *target.Target
	draws   *Draws
	skip    func(api.Key) bool
	pending map[api.Key]int64 // generation a status write is scheduled for
	ips     int
	reads   Reads // status fields RGDs read (see Fill)

	calls map[verb.Verb]int // world_api_calls by verb
}

// New installs the world's admission defaults and controllers on the store.
// skip tells which objects are not the world's business (kro's instances).
// seed seeds the readiness delays, one per object and generation (Draws).
func New(k *kernel.Kernel, store *api.Store, t *target.Target, seed uint64, skip func(api.Key) bool) *World {
	w := &World{k: k, store: store, t: t, draws: NewDraws(seed), skip: skip, pending: map[api.Key]int64{}, calls: map[verb.Verb]int{}}
	store.Admit(w.admit)
	store.OnWrite(w.observe)
	return w
}

// Expect tells the world the status fields RGDs read of the objects they
// make (see ReadsOf): their controllers write them when they make an object
// ready (see Fill). A real controller writes what RGDs wait for (an ACK
// resource's ARN, a Job's completion time); without them kro would wait on
// the missing data forever.
func (w *World) Expect(reads Reads) { w.reads = reads }

// Calls is how many requests of verb the world made: its kind
// controllers' and the workload's own.
func (w *World) Calls(v verb.Verb) int { return w.calls[v] }

// Create, Update and Delete are the workload's requests, as a user's
// kubectl makes them: straight to the store, counted as the world's.
func (w *World) Create(k api.Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	w.calls[verb.Create]++
	return w.store.Create(k, obj)
}

// Update replaces an object's spec (not its status).
func (w *World) Update(k api.Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	w.calls[verb.Update]++
	return w.store.Update(k, obj, false)
}

// Delete deletes an object.
func (w *World) Delete(k api.Key) error {
	w.calls[verb.Delete]++
	return w.store.Delete(k)
}

// admit allocates a Service's cluster IP on create, as the API server does.
func (w *World) admit(v verb.Verb, obj *unstructured.Unstructured) {
	if v != verb.Create || obj.GetKind() != "Service" {
		return
	}
	if t, _, _ := unstructured.NestedString(obj.Object, "spec", "type"); t == "ExternalName" {
		return
	}
	if ip, _, _ := unstructured.NestedString(obj.Object, "spec", "clusterIP"); ip != "" {
		return
	}
	w.ips++
	ip := fmt.Sprintf("10.96.%d.%d", (w.ips/250)%250, w.ips%250+1)
	if spec, ok := obj.Object["spec"].(map[string]any); ok {
		obj.Object["spec"] = maps.Clone(spec) // the creator's: replaced, not modified (see Store.Admit)
	}
	_ = unstructured.SetNestedField(obj.Object, ip, "spec", "clusterIP")
	_ = unstructured.SetNestedStringSlice(obj.Object, []string{ip}, "spec", "clusterIPs")
}

// observe schedules a status write when an object's spec generation is new.
func (w *World) observe(e api.Event) {
	if e.Type == "DELETED" {
		delete(w.pending, e.Key)
		return
	}
	if w.skip(e.Key) || api.Deleting(e.Object) {
		return
	}
	r, ok := Rule(w.t, e.Object.GetAPIVersion(), e.Object.GetKind())
	if !ok {
		return
	}
	observed, _, _ := unstructured.NestedInt64(e.Object.Object, "status", "observedGeneration")
	if observed == e.Generation || w.pending[e.Key] == e.Generation {
		return
	}
	w.pending[e.Key] = e.Generation
	key, gen := e.Key, e.Generation
	z := w.draws.Deviate(e.Object.GetAPIVersion(), e.Object.GetKind(), key.Namespace, key.Name, gen)
	w.k.After(r.Sample(z), func() { w.ready(key, gen) })
}

// ready writes the status the kind's controller would, for generation gen.
func (w *World) ready(key api.Key, gen int64) {
	if w.pending[key] != gen {
		return // deleted, or a newer generation is scheduled
	}
	delete(w.pending, key)
	obj, err := w.store.Get(key)
	w.calls[verb.Get]++
	if err != nil || api.Generation(obj) != gen {
		return
	}
	obj = &unstructured.Unstructured{Object: maps.Clone(obj.Object)} // the store's copy is shared
	SetStatus(obj, gen)
	Fill(obj, w.reads)
	w.calls[verb.UpdateStatus]++
	_, _ = w.store.Update(key, obj, true)
}
