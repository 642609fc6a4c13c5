package kro

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/span"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// node is one resource's state during a reconcile.
type node struct {
	skipped  bool
	pending  bool // data or dependencies not there yet
	observed bool // read back from the API in this reconcile
	ready    bool
	desired  []*unstructured.Unstructured
}

func passLabel(n int) string {
	if n >= 5 {
		return "5+"
	}
	return strconv.Itoa(n)
}

// reconcile is kro's instance reconcile (KRO-FACTS, "How kro reconciles one instance").
func (w *work) reconcile(key api.Key) outcome {
	c := w.c
	in := c.Instances[key]
	if in == nil {
		in = &Instance{Key: key, Created: c.k.Now()}
		c.Instances[key] = in
	}
	in.Reconciles++
	w.in, w.g = in, c.graphs[key.GVR]
	rgdName := ""
	if in.Graph != nil {
		rgdName = in.Graph.RGD.Name
	}
	w.pass = passLabel(in.Reconciles)
	w.stack = span.Stack{Thread: "worker", RGD: rgdName, Pass: w.pass}
	w.charge(span.Other, "reconcile", time.Duration(c.t.Cost.ReconcileNS))

	// 1. Live GET of the instance.
	obj, call := w.get("", key)
	if call.Err != nil {
		if isNotFound(call.Err) {
			return outcome{drop: true}
		}
		return outcome{err: call.Err}
	}
	// 2. Deleting?
	if obj.GetDeletionTimestamp() != nil {
		w.stack.Pass = "delete"
		return w.delete(obj)
	}
	// 3. The compiled graph.
	g := w.g
	if g == nil {
		return outcome{requeueAfter: c.t.Controller.RequeueInterval.D()}
	}
	// 4. Finalizer and labels, by server-side apply.
	if _, call := w.apply("", key, instanceMeta(obj, g, true)); call.Err != nil {
		return outcome{err: call.Err}
	}
	// 5. Walk the nodes in topological order.
	vars := map[string]any{"schema": obj.Object}
	w.memo = map[string]evalResult{}
	nodes := make([]node, len(g.RGD.Resources))
	anyPending := false
	for _, i := range g.RGD.Order {
		r := g.RGD.Resources[i]
		n := &nodes[i]
		w.stack.Resource = r.ID
		w.charge(span.Traversal, "walk", w.traversal(r))
		var err error
		c.host("traversal", func() { err = w.resolve(obj, g, r, nodes, vars) })
		if err != nil {
			return outcome{err: err}
		}
		anyPending = anyPending || n.pending
	}
	w.stack.Resource = ""
	// 6. Apply every resolved resource concurrently; re-check readiness on the responses.
	var names []string
	var targets []struct {
		idx int
		obj *unstructured.Unstructured
	}
	for _, i := range g.RGD.Order {
		for _, d := range nodes[i].desired {
			names = append(names, g.RGD.Resources[i].ID)
			targets = append(targets, struct {
				idx int
				obj *unstructured.Unstructured
			}{i, d})
		}
	}
	responses := make([]*unstructured.Unstructured, len(targets))
	calls := w.parallel(names, func(j int, p *kernel.Proc) api.Call {
		t := targets[j]
		k := api.Key{GVR: g.gvrs[t.idx], Namespace: t.obj.GetNamespace(), Name: t.obj.GetName()}
		out, call := c.client.Apply(p, k, t.obj)
		responses[j] = out
		return call
	})
	for j, call := range calls {
		if call.Err != nil {
			return outcome{err: fmt.Errorf("apply %s: %w", names[j], call.Err)}
		}
	}
	applied := map[int][]*unstructured.Unstructured{}
	for j, t := range targets {
		applied[t.idx] = append(applied[t.idx], responses[j])
	}
	for i, objs := range applied {
		r := g.RGD.Resources[i]
		w.stack.Resource = r.ID
		nodes[i].observed = true
		nodes[i].ready = w.ready(r, objs, vars)
	}
	w.stack.Resource = ""
	allReady := true
	for i := range nodes {
		n := &nodes[i]
		if !n.skipped && (!n.observed || !n.ready) {
			allReady = false
		}
	}
	// Prune orphans only when every resource resolved.
	if !anyPending {
		if err := w.prune(key, g, nodes); err != nil {
			return outcome{err: err}
		}
	}
	// 7. Status, written only when it changed.
	if err := w.status(key, obj, g, vars, allReady); err != nil {
		return outcome{err: err}
	}
	if anyPending || !allReady {
		return outcome{requeueAfter: c.t.Controller.RequeueInterval.D()}
	}
	if in.UpdatedAt > 0 && !in.UpdateDone && w.start >= in.UpdatedAt {
		c.change(in, func() { in.UpdateDone, in.UpdateReady = true, c.k.Now() })
	}
	return outcome{}
}

// traversal is the CPU of visiting one node and checking its dependencies.
func (w *work) traversal(r *model.Resource) time.Duration {
	cost := w.c.t.Cost
	return time.Duration(cost.NodeNS + cost.EdgeNS*float64(len(r.Deps)+len(r.Dependents)))
}

// resolve decides one node: skipped, pending, or rendered and read back.
func (w *work) resolve(inst *unstructured.Unstructured, g *Graph, r *model.Resource, nodes []node, vars map[string]any) error {
	n := &nodes[r.Index]
	for _, d := range r.Deps {
		if nodes[d].skipped {
			n.skipped = true
			return nil
		}
	}
	for _, e := range r.IncludeWhen {
		v, pending, err := w.eval(e, vars, "")
		if err != nil {
			return err
		}
		if pending {
			n.pending = true
			return nil
		}
		if b, ok := v.(types.Bool); ok && !bool(b) {
			n.skipped = true
			return nil
		}
	}
	for _, d := range r.Deps {
		if !nodes[d].observed || !nodes[d].ready {
			n.pending = true
			return nil
		}
	}
	desired, pending, err := w.render(inst, g, r, vars)
	if err != nil {
		return fmt.Errorf("resource %s: %w", r.ID, err)
	}
	if pending {
		n.pending = true
		return nil
	}
	// Read the current state: GET, or LIST by label for a collection.
	var live []*unstructured.Unstructured
	gvr := g.gvrs[r.Index]
	if r.Collection() {
		sel := map[string]string{LabelInstance: inst.GetName(), LabelInstanceNS: inst.GetNamespace(), LabelNode: r.ID}
		objs, call := w.list(r.ID, gvr, inst.GetNamespace(), sel)
		if call.Err != nil {
			return call.Err
		}
		live = objs
		n.observed = len(objs) >= len(desired)
	} else {
		d := desired[0]
		obj, call := w.get(r.ID, api.Key{GVR: gvr, Namespace: d.GetNamespace(), Name: d.GetName()})
		switch {
		case call.Err == nil:
			live, n.observed = []*unstructured.Unstructured{obj}, true
		case !isNotFound(call.Err):
			return call.Err
		}
	}
	if n.observed {
		if r.Collection() {
			items := make([]any, len(live))
			for i, o := range live {
				items[i] = o.Object
			}
			vars[r.ID] = items
		} else {
			vars[r.ID] = live[0].Object
		}
		n.ready = w.ready(r, live, vars)
	}
	if r.External {
		if !n.observed {
			n.pending = true // kro waits for an external object to exist
		}
		return nil
	}
	n.desired = desired
	return nil
}

// ready evaluates readyWhen on the observed objects (every item of a collection).
func (w *work) ready(r *model.Resource, objs []*unstructured.Unstructured, vars map[string]any) bool {
	if len(r.ReadyWhen) == 0 {
		return true
	}
	saved, had := vars[r.ID]
	defer func() {
		if had {
			vars[r.ID] = saved
		} else {
			delete(vars, r.ID)
		}
	}()
	for _, o := range objs {
		vars[r.ID] = o.Object
		for _, e := range r.ReadyWhen {
			v, pending, err := w.evalNoMemo(e, vars)
			if err != nil || pending {
				return false
			}
			if b, ok := v.(types.Bool); !ok || !bool(b) {
				return false
			}
		}
	}
	return true
}

// render evaluates a resource's template into the objects kro would apply.
func (w *work) render(inst *unstructured.Unstructured, g *Graph, r *model.Resource, vars map[string]any) ([]*unstructured.Unstructured, bool, error) {
	combos := []map[string]any{nil}
	if r.Collection() {
		combos = combos[:0]
		lists := make([][]any, len(r.ForEach))
		for i, it := range r.ForEach {
			v, pending, err := w.eval(it.Expr, vars, "")
			if err != nil || pending {
				return nil, pending, err
			}
			native, err := model.Native(v)
			if err != nil {
				return nil, false, err
			}
			l, ok := native.([]any)
			if !ok {
				return nil, false, fmt.Errorf("forEach %s is %T, not a list", it.Name, native)
			}
			lists[i] = l
		}
		size := 1
		for _, l := range lists {
			size *= len(l)
		}
		if size > w.c.t.Controller.MaxCollection {
			return nil, false, fmt.Errorf("collection of %d items exceeds the limit of %d", size, w.c.t.Controller.MaxCollection)
		}
		for ix := 0; ix < size; ix++ {
			m := map[string]any{}
			rest := ix
			for i := len(lists) - 1; i >= 0; i-- {
				m[r.ForEach[i].Name] = lists[i][rest%len(lists[i])]
				rest /= len(lists[i])
			}
			combos = append(combos, m)
		}
	}
	var out []*unstructured.Unstructured
	for ix, iter := range combos {
		scope := vars
		if iter != nil {
			scope = make(map[string]any, len(vars)+len(iter))
			for k, v := range vars {
				scope[k] = v
			}
			for k, v := range iter {
				scope[k] = v
			}
		}
		obj := &unstructured.Unstructured{Object: deepCopy(r.Template).(map[string]any)}
		for _, f := range r.Fields {
			memoKey := ""
			if iter != nil {
				memoKey = strconv.Itoa(ix)
			}
			v, pending, err := w.eval(f.Expr, scope, memoKey)
			if err != nil || pending {
				return nil, pending, err
			}
			native, err := model.Native(v)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", f.Path, err)
			}
			if !f.Standalone {
				if _, ok := native.(string); !ok {
					native = fmt.Sprint(native)
				}
			}
			setPath(obj.Object, f.Path, native)
		}
		if obj.GetNamespace() == "" {
			obj.SetNamespace(inst.GetNamespace())
		}
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelOwned] = "true"
		labels[LabelInstance] = inst.GetName()
		labels[LabelInstanceNS] = inst.GetNamespace()
		labels[LabelInstanceID] = string(inst.GetUID())
		labels[LabelNode] = r.ID
		labels[LabelRGD] = g.RGD.Name
		if iter != nil {
			labels[LabelCollectionIx] = strconv.Itoa(ix)
		}
		if !r.External {
			obj.SetLabels(labels)
		}
		w.charge(span.Other, "render", time.Duration(float64(api.Size(obj.Object))*w.c.t.Cost.EncodeByteNS))
		out = append(out, obj)
	}
	return out, false, nil
}

// evalResult memoizes one expression within a reconcile, as kro does.
type evalResult struct {
	v       ref.Val
	pending bool
	err     error
}

// eval evaluates e for real with cel-go, memoized per expression (and per
// collection item, via scope), charging its cost.
func (w *work) eval(e *model.Expr, vars map[string]any, scope string) (ref.Val, bool, error) {
	key := e.Source + "\x00" + scope
	if r, ok := w.memo[key]; ok && w.memo != nil {
		return r.v, r.pending, r.err
	}
	v, pending, err := w.evalNoMemo(e, vars)
	if w.memo != nil {
		w.memo[key] = evalResult{v, pending, err}
	}
	return v, pending, err
}

func (w *work) evalNoMemo(e *model.Expr, vars map[string]any) (ref.Val, bool, error) {
	c := w.c
	var stop func() time.Duration
	if c.Meter != nil {
		stop = c.Meter()
	}
	var (
		v   ref.Val
		det *cel.EvalDetails
		err error
	)
	c.host("eval", func() { v, det, err = e.Program.Eval(vars) })
	var d time.Duration
	if stop != nil {
		d = stop()
	} else {
		cost := uint64(0)
		if det != nil && det.ActualCost() != nil {
			cost = *det.ActualCost()
		}
		d = time.Duration(c.t.Cost.EvalBaseNS + c.t.Cost.EvalUnitNS*float64(cost))
	}
	c.Stats.Evals++
	c.Stats.EvalDurations = append(c.Stats.EvalDurations, d)
	w.charge(span.Eval, shorten(e.Text), d)
	if err != nil {
		if dataPending(err) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("%s: %w", e.Text, err)
	}
	return v, false, nil
}

// dataPending reports the CEL errors kro treats as "not there yet".
func dataPending(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no such key") || strings.Contains(s, "index out of bounds") ||
		strings.Contains(s, "no such attribute")
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// prune deletes children that belong to the instance but are no longer desired.
func (w *work) prune(key api.Key, g *Graph, nodes []node) error {
	want := map[api.Key]bool{}
	for i, n := range nodes {
		for _, d := range n.desired {
			want[api.Key{GVR: g.gvrs[i], Namespace: d.GetNamespace(), Name: d.GetName()}] = true
		}
	}
	sel := map[string]string{LabelInstance: key.Name, LabelInstanceNS: key.Namespace}
	for _, gvr := range g.childGVRs {
		objs, call := w.list("", gvr, key.Namespace, sel)
		if call.Err != nil {
			return call.Err
		}
		for _, o := range objs {
			k := api.Key{GVR: gvr, Namespace: o.GetNamespace(), Name: o.GetName()}
			if want[k] {
				continue
			}
			if call := w.api(o.GetLabels()[LabelNode], func() api.Call { return w.c.client.Delete(w.p, k) }, 0); call.Err != nil && !isNotFound(call.Err) {
				return call.Err
			}
		}
	}
	return nil
}

// status evaluates the status expressions best-effort and writes the status
// when it changed: GET the instance, then UpdateStatus, retrying conflicts.
func (w *work) status(key api.Key, inst *unstructured.Unstructured, g *Graph, vars map[string]any, ready bool) error {
	st := map[string]any{}
	for _, v := range g.RGD.Status {
		val, pending, err := w.eval(v.Expr, vars, "")
		if err != nil || pending {
			continue
		}
		native, err := model.Native(val)
		if err != nil {
			continue
		}
		if !v.Standalone {
			native = fmt.Sprint(native)
		}
		setPath(map[string]any{"status": st}, v.Path, native)
	}
	state, cond := "IN_PROGRESS", "False"
	if ready {
		state, cond = "ACTIVE", "True"
	}
	st["state"] = state
	st["conditions"] = []any{map[string]any{"type": "Ready", "status": cond}}
	if equality.Semantic.DeepEqual(inst.Object["status"], any(st)) {
		w.markReady(ready)
		return nil
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		cur, call := w.get("", key)
		if call.Err != nil {
			return call.Err
		}
		next := &unstructured.Unstructured{Object: maps.Clone(cur.Object)} // cur is shared: never modify it
		next.Object["status"] = st
		_, call = w.update("", key, next, true)
		if err = call.Err; err == nil {
			w.markReady(ready)
			return nil
		}
		if !isConflict(err) {
			return err
		}
	}
	return err
}

func (w *work) markReady(ready bool) {
	if ready && !w.in.IsReady {
		w.c.change(w.in, func() { w.in.IsReady, w.in.Ready = true, w.c.k.Now() })
	}
}

// delete is kro's deletion path: list every child kind, delete the deepest
// remaining wave and requeue; once nothing is left, drop the finalizer.
func (w *work) delete(inst *unstructured.Unstructured) outcome {
	g := w.g
	if g == nil {
		return outcome{requeueAfter: w.c.t.Controller.RequeueInterval.D()}
	}
	if w.in.Deleting == 0 {
		w.in.Deleting = w.c.k.Now()
	}
	sel := map[string]string{LabelInstance: inst.GetName(), LabelInstanceNS: inst.GetNamespace()}
	byWave := map[int][]api.Key{}
	wave := map[string]int{}
	for wi, ids := range g.RGD.Waves {
		for _, i := range ids {
			wave[g.RGD.Resources[i].ID] = wi
		}
	}
	for _, gvr := range g.childGVRs {
		objs, call := w.list("", gvr, inst.GetNamespace(), sel)
		if call.Err != nil {
			return outcome{err: call.Err}
		}
		for _, o := range objs {
			wi := wave[o.GetLabels()[LabelNode]]
			byWave[wi] = append(byWave[wi], api.Key{GVR: gvr, Namespace: o.GetNamespace(), Name: o.GetName()})
		}
	}
	for wi := range g.RGD.Waves {
		keys := byWave[wi]
		if len(keys) == 0 {
			continue
		}
		for _, k := range keys {
			if call := w.api(k.Name, func() api.Call { return w.c.client.Delete(w.p, k) }, 0); call.Err != nil && !isNotFound(call.Err) {
				return outcome{err: call.Err}
			}
		}
		return outcome{requeueAfter: w.c.t.Controller.RequeueInterval.D()}
	}
	key := api.Key{GVR: g.GVR, Namespace: inst.GetNamespace(), Name: inst.GetName()}
	if _, call := w.apply("", key, instanceMeta(inst, g, false)); call.Err != nil && !isNotFound(call.Err) {
		return outcome{err: call.Err}
	}
	return outcome{}
}

// instanceMeta is what kro server-side-applies to an instance: its finalizer and labels.
func instanceMeta(inst *unstructured.Unstructured, g *Graph, finalizer bool) *unstructured.Unstructured {
	fin := []any{}
	if finalizer {
		fin = []any{Finalizer}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": inst.GetAPIVersion(),
		"kind":       inst.GetKind(),
		"metadata": map[string]any{
			"name":       inst.GetName(),
			"namespace":  inst.GetNamespace(),
			"finalizers": fin,
			"labels":     map[string]any{LabelOwned: "true", LabelRGD: g.RGD.Name},
		},
	}}
}

// Request helpers: one API call each, accounted.

func (w *work) get(resource string, k api.Key) (*unstructured.Unstructured, api.Call) {
	var out *unstructured.Unstructured
	call := w.api(resource, func() (c api.Call) { out, c = w.c.client.Get(w.p, k); return }, 0)
	if out != nil {
		w.chargeRequest(resource, "decode", w.c.srv.Store.SizeOf(k), 0)
	}
	return out, call
}

func (w *work) list(resource string, gvr schemaGVR, ns string, sel map[string]string) ([]*unstructured.Unstructured, api.Call) {
	var out []*unstructured.Unstructured
	call := w.api(resource, func() (c api.Call) { out, c = w.c.client.List(w.p, gvr, ns, sel); return }, 0)
	bytes := 0
	for _, o := range out {
		bytes += w.c.srv.Store.SizeOf(api.Key{GVR: gvr, Namespace: o.GetNamespace(), Name: o.GetName()})
	}
	w.chargeRequest(resource, "decode", bytes, 0)
	return out, call
}

func (w *work) apply(resource string, k api.Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, api.Call) {
	var out *unstructured.Unstructured
	call := w.api(resource, func() (c api.Call) { out, c = w.c.client.Apply(w.p, k, obj); return }, api.Size(obj.Object))
	return out, call
}

func (w *work) update(resource string, k api.Key, obj *unstructured.Unstructured, status bool) (*unstructured.Unstructured, api.Call) {
	var out *unstructured.Unstructured
	call := w.api(resource, func() (c api.Call) { out, c = w.c.client.Update(w.p, k, obj, status); return }, api.Size(obj.Object))
	return out, call
}
