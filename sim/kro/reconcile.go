package kro

import (
	"fmt"
	"maps"
	"sort"
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
	liveRV   map[string]string // resource version by name, as read before the apply
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
	w.charge(span.Other, span.Detail{Step: "reconcile"}, time.Duration(c.t.Cost.ReconcileNS))

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
	// 4. Finalizer and management labels, by server-side apply, only when
	// missing (kro's ensureManaged): the first reconcile.
	if !hasFinalizer(obj) {
		out, call := w.apply("", key, instanceMeta(obj, g, true))
		if call.Err != nil {
			return outcome{err: call.Err}
		}
		obj = out
	}
	// 5. Walk the nodes in topological order: each resolvable node is watched,
	// then read back with a live GET (a LIST for a collection).
	vars := map[string]any{"schema": obj.Object}
	w.memo = map[string]evalResult{}
	nodes := make([]node, len(g.RGD.Resources))
	firstPending := ""
	for _, i := range g.RGD.Order {
		r := g.RGD.Resources[i]
		n := &nodes[i]
		w.stack.Resource = r.ID
		w.charge(span.Traversal, span.Detail{Step: "walk"}, w.traversal(r))
		var err error
		c.host("traversal", func() { err = w.resolve(obj, g, r, nodes, vars) })
		if err != nil {
			return outcome{err: err}
		}
		if n.pending && firstPending == "" {
			firstPending = r.ID
		}
	}
	w.stack.Resource = ""
	anyPending := firstPending != ""
	// 6. Server-side apply the instance's ApplySet metadata (the kinds it
	// manages, remembered across reconciles), unconditionally, as kro does
	// in every reconcile before it applies the children.
	kinds := annotatedKinds(g, obj)
	for i := range nodes {
		if len(nodes[i].desired) > 0 {
			kinds[g.gvrs[i]] = true
		}
	}
	if _, call := w.apply("", key, instanceApplySet(obj, kinds)); call.Err != nil {
		return outcome{requeueAfter: c.t.Controller.RequeueInterval.D()}
	}
	// 7. Apply every resolved resource concurrently; re-check readiness on
	// the responses. An apply that created or changed an object mutated the
	// cluster: kro then requeues to read the result back.
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
	var applyErr error
	mutated := false
	applied := map[int][]*unstructured.Unstructured{}
	for j, t := range targets {
		if err := calls[j].Err; err != nil {
			if applyErr == nil {
				applyErr = fmt.Errorf("apply %s: %w", names[j], err)
			}
			continue
		}
		out := responses[j]
		if rv, ok := nodes[t.idx].liveRV[out.GetName()]; !ok || rv != out.GetResourceVersion() {
			mutated = true
		}
		applied[t.idx] = append(applied[t.idx], out)
	}
	for _, i := range g.RGD.Order {
		objs, ok := applied[i]
		if !ok || len(objs) < len(nodes[i].desired) {
			continue
		}
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
	// Prune orphans only when every resource resolved and applied.
	if !anyPending && applyErr == nil {
		pruned, err := w.prune(key, obj, g, nodes, kinds)
		if err != nil {
			return outcome{requeueAfter: c.t.Controller.RequeueInterval.D()}
		}
		mutated = mutated || pruned
	}
	// 8. Status, written only when it changed. kro's conditions say why the
	// instance is not ready yet, so the status changes with every step.
	why := ""
	switch {
	case anyPending:
		why = "waiting for unresolved resource " + firstPending
	case applyErr != nil:
		why = "apply failed"
		in.LastErr = applyErr.Error()
	case mutated:
		why = "cluster mutated"
	case !allReady:
		why = "awaiting resource readiness"
	}
	state := "IN_PROGRESS"
	switch {
	case applyErr != nil:
		state = "ERROR"
	case allReady:
		state = "ACTIVE"
	}
	if err := w.status(key, obj, g, vars, state, why); err != nil {
		return outcome{err: err}
	}
	// 9. Requeue after the interval while something is unresolved or the
	// cluster changed; a resource that is only waiting for readiness is left
	// to its watch events.
	if anyPending || applyErr != nil || mutated {
		return outcome{requeueAfter: c.t.Controller.RequeueInterval.D()}
	}
	if allReady && in.UpdatedAt > 0 && !in.UpdateDone && w.start >= in.UpdatedAt {
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
	// Read the current state: GET, or LIST by label for a collection, after
	// asking to be told of its changes (kro registers the watch first, so no
	// event is missed).
	var live []*unstructured.Unstructured
	gvr := g.gvrs[r.Index]
	if r.Collection() {
		w.c.watchChild(w.in, watchReq{gvr: gvr, ns: inst.GetNamespace(), node: r.ID, collection: true})
		sel := map[string]string{LabelInstance: inst.GetName(), LabelInstanceNS: inst.GetNamespace(), LabelNode: r.ID}
		objs, call := w.list(r.ID, gvr, inst.GetNamespace(), sel)
		if call.Err != nil {
			return call.Err
		}
		live = objs
		n.observed = len(objs) >= len(desired)
	} else {
		d := desired[0]
		k := api.Key{GVR: gvr, Namespace: d.GetNamespace(), Name: d.GetName()}
		w.c.watchChild(w.in, watchReq{gvr: gvr, ns: k.Namespace, name: k.Name, node: r.ID})
		obj, call := w.get(r.ID, k)
		switch {
		case call.Err == nil:
			live, n.observed = []*unstructured.Unstructured{obj}, true
		case !isNotFound(call.Err):
			return call.Err
		}
	}
	n.liveRV = make(map[string]string, len(live))
	for _, o := range live {
		n.liveRV[o.GetName()] = o.GetResourceVersion()
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
		obj := &unstructured.Unstructured{Object: model.Clone(r.Template).(map[string]any)}
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
		w.charge(span.Other, span.Detail{Step: "render"}, time.Duration(float64(api.Size(obj.Object))*w.c.t.Cost.EncodeByteNS))
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
	w.charge(span.Eval, span.Detail{Expr: shorten(e.Text)}, d)
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

// prune lists the instance's children of every kind it manages (its
// ApplySet memory), concurrently as kro does, and deletes the ones no longer
// desired, dependents first. When it deleted any, kro shrinks the memory to
// the kinds applied now. It reports whether it deleted anything.
func (w *work) prune(key api.Key, inst *unstructured.Unstructured, g *Graph, nodes []node, kinds map[schemaGVR]bool) (bool, error) {
	want := map[api.Key]bool{}
	now := map[schemaGVR]bool{}
	for i, n := range nodes {
		for _, d := range n.desired {
			want[api.Key{GVR: g.gvrs[i], Namespace: d.GetNamespace(), Name: d.GetName()}] = true
			now[g.gvrs[i]] = true
		}
	}
	sel := map[string]string{LabelInstance: key.Name, LabelInstanceNS: key.Namespace}
	objs, err := w.listKinds(g, kinds, key.Namespace, sel)
	if err != nil {
		return false, err
	}
	var orphans []api.Key
	for _, o := range objs {
		k := api.Key{GVR: w.c.srv.Store.GVR(o.GetAPIVersion(), o.GetKind()), Namespace: o.GetNamespace(), Name: o.GetName()}
		if !want[k] {
			orphans = append(orphans, k)
		}
	}
	if len(orphans) == 0 {
		return false, nil
	}
	for _, k := range orphans {
		if call := w.api(k.Name, func() api.Call { return w.c.client.Delete(w.p, k) }, 0); call.Err != nil && !isNotFound(call.Err) {
			return true, call.Err
		}
	}
	_, call := w.apply("", key, instanceApplySet(inst, now))
	return true, call.Err
}

// listKinds LISTs the instance's children of the given kinds concurrently
// and returns them, kinds in topological order.
func (w *work) listKinds(g *Graph, kinds map[schemaGVR]bool, ns string, sel map[string]string) ([]*unstructured.Unstructured, error) {
	var gvrs []schemaGVR
	var names []string
	for _, gvr := range g.childGVRs {
		if kinds[gvr] {
			gvrs = append(gvrs, gvr)
			names = append(names, "")
		}
	}
	lists := make([][]*unstructured.Unstructured, len(gvrs))
	calls := w.parallel(names, func(i int, p *kernel.Proc) api.Call {
		out, call := w.c.client.List(p, gvrs[i], ns, sel)
		lists[i] = out
		return call
	})
	var all []*unstructured.Unstructured
	bytes := 0
	for i, call := range calls {
		if call.Err != nil {
			return nil, call.Err
		}
		for _, o := range lists[i] {
			bytes += w.c.srv.Store.SizeOf(api.Key{GVR: gvrs[i], Namespace: o.GetNamespace(), Name: o.GetName()})
		}
		all = append(all, lists[i]...)
	}
	w.chargeRequest("", decode, bytes, 0)
	return all, nil
}

// Condition types kro writes on every instance (pkg/controller/instance/status.go).
var conditionTypes = []string{"InstanceManaged", "GraphResolved", "ResourcesReady", "Ready"}

// conditions renders kro's built-in conditions: the first two true, then
// ResourcesReady and the root Ready with status and message.
func conditions(gen int64, status, message string) []any {
	out := make([]any, 0, len(conditionTypes))
	for _, t := range conditionTypes {
		c := map[string]any{"type": t, "status": "True", "observedGeneration": gen}
		if t == "ResourcesReady" || t == "Ready" {
			c["status"] = status
			if message != "" {
				c["message"] = message
			}
		}
		out = append(out, c)
	}
	return out
}

// status evaluates the status expressions best-effort and writes the status
// when it changed: GET the instance, then UpdateStatus, retrying conflicts.
// The state is ACTIVE once every resource is synced (observed and ready);
// why says what keeps ResourcesReady false (empty: nothing). kro's message
// names the step the instance is at, so an instance that advances writes its
// status in every reconcile.
func (w *work) status(key api.Key, inst *unstructured.Unstructured, g *Graph, vars map[string]any, state, why string) error {
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
	cond := "True"
	if why != "" {
		cond = "False"
	}
	st["state"] = state
	st["conditions"] = conditions(inst.GetGeneration(), cond, why)
	if err := w.writeStatus(key, inst, st); err != nil {
		return err
	}
	w.markReady(state == "ACTIVE")
	return nil
}

// writeStatus writes st unless the instance already has it.
func (w *work) writeStatus(key api.Key, inst *unstructured.Unstructured, st map[string]any) error {
	if equality.Semantic.DeepEqual(inst.Object["status"], any(st)) {
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
	st["conditions"] = conditions(inst.GetGeneration(), "Unknown", "deleting resources")
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
	if in.Deleting == 0 {
		in.Deleting = w.c.k.Now()
	}
	key := api.Key{GVR: g.GVR, Namespace: inst.GetNamespace(), Name: inst.GetName()}
	sel := map[string]string{LabelInstance: inst.GetName(), LabelInstanceNS: inst.GetNamespace()}
	objs, err := w.listKinds(g, annotatedKinds(g, inst), inst.GetNamespace(), sel)
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
		if _, call := w.apply("", key, instanceMeta(cur, g, false)); call.Err != nil && !isNotFound(call.Err) {
			return outcome{err: call.Err}
		}
	}
	// kro then persists the deletion status against the patched object: a
	// status never written before is written now, and fails on the deleted
	// instance (a rate-limited retry whose GET finds it gone).
	if st := deletionStatus(cur); !equality.Semantic.DeepEqual(cur.Object["status"], any(st)) {
		if _, call := w.get("", key); call.Err != nil {
			return outcome{err: call.Err}
		}
	}
	return outcome{}
}

func hasFinalizer(obj *unstructured.Unstructured) bool {
	for _, f := range obj.GetFinalizers() {
		if f == Finalizer {
			return true
		}
	}
	return false
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

// ApplySet annotation of the kinds an instance manages (KEP-3659, as kro writes it).
const AnnotationApplySetKinds = "applyset.kubernetes.io/contains-group-kinds"

// instanceApplySet is the ApplySet metadata kro server-side-applies to an
// instance in every reconcile: the kinds it manages.
func instanceApplySet(inst *unstructured.Unstructured, kinds map[schemaGVR]bool) *unstructured.Unstructured {
	var names []string
	for gvr := range kinds {
		names = append(names, gvr.GroupResource().String())
	}
	sort.Strings(names)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": inst.GetAPIVersion(),
		"kind":       inst.GetKind(),
		"metadata": map[string]any{
			"name":        inst.GetName(),
			"namespace":   inst.GetNamespace(),
			"annotations": map[string]any{AnnotationApplySetKinds: strings.Join(names, ",")},
		},
	}}
}

// annotatedKinds are the kinds an instance's ApplySet annotation names:
// kro's memory of what it manages, which prune and deletion list.
func annotatedKinds(g *Graph, inst *unstructured.Unstructured) map[schemaGVR]bool {
	kinds := map[schemaGVR]bool{}
	list := inst.GetAnnotations()[AnnotationApplySetKinds]
	if list == "" {
		return kinds
	}
	for _, name := range strings.Split(list, ",") {
		for _, gvr := range g.childGVRs {
			if gvr.GroupResource().String() == name {
				kinds[gvr] = true
			}
		}
	}
	return kinds
}

// Request helpers: one API call each, accounted.

func (w *work) get(resource string, k api.Key) (*unstructured.Unstructured, api.Call) {
	var out *unstructured.Unstructured
	call := w.api(resource, func() (c api.Call) { out, c = w.c.client.Get(w.p, k); return }, 0)
	if out != nil {
		w.chargeRequest(resource, decode, w.c.srv.Store.SizeOf(k), 0)
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
	w.chargeRequest(resource, decode, bytes, 0)
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
