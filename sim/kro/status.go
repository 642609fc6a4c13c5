package kro

import (
	"fmt"
	"maps"

	"github.com/krosim/krosim/sim/api"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Condition types kro writes on every instance (pkg/controller/instance/status.go),
// boxed once: conditions are rendered in every reconcile.
var conditionTypes = []any{"InstanceManaged", "GraphResolved", "ResourcesReady", "Ready"}

// conditions renders kro's built-in conditions: the first two true, then
// ResourcesReady and the root Ready with status and message. Its maps and
// list come from sc.
func conditions(gen int64, status, message string, sc *scratch) any {
	out, box := sc.boxedList(len(conditionTypes))
	st, msg := conditionStatus(status), any(message)
	for i, t := range conditionTypes {
		c := sc.mapOf(4)
		c["type"], c["status"], c["observedGeneration"] = t, "True", gen
		if t == "ResourcesReady" || t == "Ready" {
			c["status"] = st
			if message != "" {
				c["message"] = msg
			}
		}
		out[i] = c
	}
	return box
}

// conditionStatus is a condition's status as an interface: the three
// statuses kro writes are constants, which box without allocating.
func conditionStatus(s string) any {
	switch s {
	case "True":
		return "True"
	case "False":
		return "False"
	case "Unknown":
		return "Unknown"
	}
	return s
}

// instanceState is the state kro writes and why ResourcesReady is false
// ("" when it is true). kro's conditions say why the instance is not ready
// yet, so the status changes with every step.
func instanceState(firstPending string, applyErr error, mutated, allReady bool) (state, why string) {
	switch {
	case firstPending != "":
		why = "waiting for unresolved resource " + firstPending
	case applyErr != nil:
		why = "apply failed"
	case mutated:
		why = "cluster mutated"
	case !allReady:
		why = "awaiting resource readiness"
	}
	state = "IN_PROGRESS"
	switch {
	case applyErr != nil:
		state = "ERROR"
	case allReady:
		state = "ACTIVE"
	}
	return state, why
}

// status evaluates the status expressions best-effort and writes the status
// when it changed: GET the instance, then UpdateStatus, retrying conflicts.
// The state is ACTIVE once every resource is synced (observed and ready);
// why says what keeps ResourcesReady false (empty: nothing). kro's message
// names the step the instance is at, so an instance that advances writes its
// status in every reconcile.
func (w *work) status(key api.Key, inst *unstructured.Unstructured, g *Graph, vars map[string]any, state, why string) error {
	// The status written is the store's to copy (it keeps none of it), so it
	// is built in the worker's scratch.
	st := w.sc.mapOf(len(g.RGD.Status) + 2)
	for _, v := range g.RGD.Status {
		val, pending, err := w.eval(v.Expr, vars, "")
		if err != nil || pending {
			continue
		}
		native, err := v.Expr.Native(val)
		if err != nil {
			continue
		}
		if !v.Standalone {
			native = fmt.Sprint(native)
		}
		v.Path.Set(map[string]any{"status": st}, native)
	}
	cond := "True"
	if why != "" {
		cond = "False"
	}
	st["state"] = state
	st["conditions"] = conditions(api.Generation(inst), cond, why, w.sc)
	if len(g.RGD.Conditions) > 0 {
		st["conditions"] = w.authorConditions(g, inst, vars, st["conditions"].([]any))
	}
	if err := w.writeStatus(key, inst, st); err != nil {
		return err
	}
	w.markReady(state == "ACTIVE")
	return nil
}

// authorConditions evaluates schema.status.conditions best-effort: when an
// RGD declares them only the author's conditions are written, and
// runtime.condition(schema, ...) reads kro's built-ins computed now
// (kro v0.9.4, website docs concepts/rgd/06-status-conditions.md).
func (w *work) authorConditions(g *Graph, inst *unstructured.Unstructured, vars map[string]any, builtins []any) []any {
	cv := maps.Clone(vars)
	if sch, ok := vars["schema"].(map[string]any); ok {
		cp := maps.Clone(sch)
		cp["status"] = map[string]any{"conditions": builtins}
		cv["schema"] = cp
	}
	var out []any
	seen := map[string]bool{}
	for _, e := range g.RGD.Conditions {
		val, pending, err := w.eval(e, cv, "conditions")
		if err != nil || pending {
			continue
		}
		native, err := e.Native(val)
		if err != nil {
			continue
		}
		items, ok := native.([]any)
		if !ok {
			items = []any{native}
		}
		for _, it := range items {
			c, ok := it.(map[string]any)
			if !ok || seen[fmt.Sprint(c["type"])] {
				continue
			}
			seen[fmt.Sprint(c["type"])] = true
			c["observedGeneration"] = inst.GetGeneration()
			out = append(out, c)
		}
	}
	return out
}

// writeStatus writes st unless the instance already has it.
func (w *work) writeStatus(key api.Key, inst *unstructured.Unstructured, st map[string]any) error {
	if api.Equal(inst.Object["status"], any(st)) {
		return nil
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		cur, call := w.get("", key)
		if call.Err != nil {
			return call.Err
		}
		// cur is shared: never modify it. The status update keeps nothing
		// of next but what its status holds (a copy), so next's top level
		// is a copy of cur's in the worker's scratch, as st is.
		next := w.sc.object(w.sc.mapOf(len(cur.Object)))
		maps.Copy(next.Object, cur.Object)
		next.Object["status"] = st
		_, call = w.update("", key, next, true, w.c.srv.Store.SizeOfStatusWrite(key, cur, next))
		if err = call.Err; err == nil {
			return nil
		}
		if !isConflict(err) {
			return err
		}
	}
	return err
}

func (w *work) markReady(ready bool) {
	if ready && !w.in.rec.IsReady {
		w.c.change(w.in, func() { w.in.rec.IsReady, w.in.rec.Ready = true, w.c.k.Now() })
	}
}

// isConflict and isNotFound ask apierrors only about an error: its tests
// allocate, nil or not.
func isConflict(err error) bool { return err != nil && apierrors.IsConflict(err) }
