package kro

import (
	"github.com/krosim/krosim/sim/api"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// deletionStatus is the status kro writes while deleting: the wire status's
// own fields, state DELETING, ResourcesReady (and Ready) unknown.
func deletionStatus(inst *unstructured.Unstructured) map[string]any {
	st := map[string]any{}
	if wire, ok := inst.Object["status"].(map[string]any); ok {
		for k, v := range wire {
			if k != "state" && k != "conditions" {
				st[k] = v
			}
		}
	}
	st["state"] = "DELETING"
	st["conditions"] = conditions(inst.GetGeneration(), "Unknown", "deleting resources", nil)
	return st
}

// delete is kro's deletion path: LIST the instance's children of every kind
// it manages (concurrently), delete the highest remaining apply-order wave
// (the resources nothing depends on first), write the DELETING status and
// requeue; once nothing is left, forget the watches and drop the finalizer
// (GET, then a merge PATCH).
func (w *work) delete(inst *unstructured.Unstructured) outcome {
	g := w.g
	if g == nil {
		return outcome{requeueAfter: w.c.t.Controller.RequeueInterval.D()}
	}
	in := w.in
	if in.rec.Deleting == 0 {
		in.rec.Deleting = w.c.k.Now()
	}
	key := api.Key{GVR: g.GVR, Namespace: inst.GetNamespace(), Name: inst.GetName()}
	objs, err := w.listKinds(g, annotatedKinds(g, inst, w.sc), inst.GetNamespace(), g.members(inst.GetName(), inst.GetNamespace()))
	if err != nil {
		return outcome{err: err}
	}
	if len(objs) > 0 {
		wave := len(g.RGD.Resources)
		for _, o := range objs {
			wave = min(wave, g.deleteWave[o.GetLabels()[LabelNode]])
		}
		for _, o := range objs {
			if g.deleteWave[o.GetLabels()[LabelNode]] != wave || o.GetDeletionTimestamp() != nil {
				continue
			}
			k := api.Key{GVR: w.c.srv.Store.GVR(o.GetAPIVersion(), o.GetKind()), Namespace: o.GetNamespace(), Name: o.GetName()}
			if call := w.api(o.GetLabels()[LabelNode], func() api.Call { return w.c.client.Delete(w.p, k) }, 0); call.Err != nil && !isNotFound(call.Err) {
				return outcome{err: call.Err}
			}
		}
		if err := w.writeStatus(key, inst, deletionStatus(inst)); err != nil {
			return outcome{err: err}
		}
		return outcome{requeueAfter: w.c.t.Controller.RequeueInterval.D()}
	}
	w.c.removeWatches(in)
	cur, call := w.get("", key)
	if call.Err != nil {
		if isNotFound(call.Err) {
			return outcome{}
		}
		return outcome{err: call.Err}
	}
	if hasFinalizer(cur) {
		if _, call := w.apply("", key, instanceMeta(cur, g, false, w.sc)); call.Err != nil && !isNotFound(call.Err) {
			return outcome{err: call.Err}
		}
	}
	// kro then persists the deletion status against the patched object: a
	// status never written before (an instance that had no children to
	// delete) is written now, and its GET finds the instance gone: the
	// reconcile fails with NotFound, which kro's queue drops.
	if st := deletionStatus(cur); !api.Equal(cur.Object["status"], any(st)) {
		if _, call := w.get("", key); call.Err != nil {
			return outcome{err: call.Err}
		}
	}
	return outcome{}
}
