package kro

import (
	"github.com/krosim/krosim/sim/api"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The requests of a reconcile: one API call each, accounted by api.

// get reads one object; a live GET, not from a cache.
func (w *work) get(resource string, k api.Key) (*unstructured.Unstructured, api.Call) {
	var out *unstructured.Unstructured
	call := w.api(resource, func() (c api.Call) { out, c = w.c.client.Get(w.p, k); return }, 0)
	if out != nil {
		w.chargeRequest(resource, decode, w.c.srv.Store.SizeOf(k), 0)
	}
	return out, call
}

// list reads the objects of gvr in ns matching sel.
func (w *work) list(resource string, gvr schemaGVR, ns string, sel map[string]string) ([]*unstructured.Unstructured, api.Call) {
	var out []*unstructured.Unstructured
	call := w.api(resource, func() (c api.Call) { out, c = w.c.client.List(w.p, gvr, ns, sel); return }, 0)
	bytes := 0
	for _, o := range out {
		bytes += w.c.srv.Store.SizeOf(api.Key{GVR: gvr, Namespace: api.Meta(o, "namespace"), Name: api.Meta(o, "name")})
	}
	w.chargeRequest(resource, decode, bytes, 0)
	return out, call
}

// apply server-side-applies obj (a PATCH).
func (w *work) apply(resource string, k api.Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, api.Call) {
	var out *unstructured.Unstructured
	call := w.api(resource, func() (c api.Call) { out, c = w.c.client.Apply(w.p, k, obj); return }, api.Size(obj.Object))
	return out, call
}

// update writes obj, or only its status; bytes is obj's encoded size.
func (w *work) update(resource string, k api.Key, obj *unstructured.Unstructured, status bool, bytes int) (*unstructured.Unstructured, api.Call) {
	var out *unstructured.Unstructured
	call := w.api(resource, func() (c api.Call) { out, c = w.c.client.Update(w.p, k, obj, status); return }, bytes)
	return out, call
}
