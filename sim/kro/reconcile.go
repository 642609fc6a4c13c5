package kro

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/span"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// passLabel names the reconcile of an instance: "1" to "4", then "5+".
func passLabel(n int) string {
	if n >= 5 {
		return "5+"
	}
	return strconv.Itoa(n)
}

// reconcile is kro's instance reconcile (KRO-FACTS, "How kro reconciles
// one instance"), the steps of its controller_reconcile.go in order.
func (w *work) reconcile(key api.Key) outcome {
	w.begin(key)
	// 1. Live GET of the instance.
	obj, call := w.get("", key)
	if call.Err != nil {
		if isNotFound(call.Err) {
			return outcome{drop: true}
		}
		return outcome{err: call.Err}
	}
	// 2. Deleting?
	if api.Deleting(obj) {
		w.stack.Pass = "delete"
		return w.delete(obj)
	}
	// 3. The compiled graph.
	g := w.g
	if g == nil {
		return w.requeue()
	}
	// kro's own work of a reconcile that resolves the graph (its runtime
	// built anew, the reconcile's bookkeeping); a deletion resolves none.
	w.charge(span.Other, span.Detail{Step: "reconcile"}, time.Duration(w.c.t.Cost.ReconcileNS))
	// 4. Finalizer and management labels.
	obj, err := w.ensureManaged(key, obj, g)
	if err != nil {
		return outcome{err: err}
	}
	// 5. Resolve every node, in topological order.
	vars := w.sc.varsMap()
	vars["schema"] = obj.Object
	nodes, firstPending, err := w.resolveAll(obj, g, vars)
	if err != nil {
		return outcome{err: err}
	}
	// Before anything is applied, kro's ApplySet projection refuses two
	// resources (or collection items) that target the same object: the
	// reconcile fails after a best-effort status write (applyset.Project,
	// ErrDuplicateResource).
	if err := duplicates(g, nodes, w.sc); err != nil {
		_ = w.status(key, obj, g, vars, "IN_PROGRESS", "resource reconciliation failed: "+err.Error())
		return outcome{err: err}
	}
	// 6. Server-side apply the instance's ApplySet metadata (the kinds it
	// manages, remembered across reconciles), unconditionally, as kro does
	// in every reconcile before it applies the children.
	kinds := annotatedKinds(g, obj, w.sc)
	for i := range nodes {
		if len(nodes[i].desired) > 0 {
			kinds[g.gvrs[i]] = true
		}
	}
	if _, call := w.apply("", key, instanceApplySet(g, obj, kinds, w.sc)); call.Err != nil {
		return w.requeue()
	}
	// 7. Apply every resolved resource; prune orphans only when every
	// resource resolved and applied.
	mutated, applyErr := w.applyResources(g, nodes, vars)
	if firstPending == "" && applyErr == nil {
		pruned, err := w.prune(key, obj, g, nodes, kinds)
		if err != nil {
			return w.requeue()
		}
		mutated = mutated || pruned
	}
	// 8. Status, written only when it changed.
	allReady := allSynced(nodes)
	state, why := instanceState(firstPending, applyErr, mutated, allReady)
	if firstPending == "" && applyErr != nil {
		w.in.rec.LastErr = applyErr.Error()
	}
	w.in.rec.Waiting = why
	if firstPending != "" && w.pendingExpr != "" {
		w.in.rec.Waiting += " (" + w.pendingExpr + " has no data yet)"
	}
	if err := w.status(key, obj, g, vars, state, why); err != nil {
		return outcome{err: err}
	}
	// 9. Requeue after the interval while something is unresolved or the
	// cluster changed; a resource that is only waiting for readiness is left
	// to its watch events.
	if firstPending != "" || applyErr != nil || mutated {
		return w.requeue()
	}
	if allReady {
		w.c.updateDone(w.in, w.start)
	}
	return outcome{}
}

// begin starts the reconcile of key: its instance, its graph and the
// stack its time is recorded under.
func (w *work) begin(key api.Key) {
	c := w.c
	ik := c.instKey(key)
	in := c.instances[ik]
	if in == nil {
		in = &Instance{rec: InstanceRecord{Key: key, Created: c.k.Now()}}
		c.instances[ik] = in
	}
	in.rec.Reconciles++
	w.in, w.g = in, c.graphs[key.GVR]
	rgdName := ""
	if in.graph != nil {
		rgdName = in.graph.RGD.Name
	}
	w.pass = passLabel(in.rec.Reconciles)
	w.stack = span.Stack{Thread: "worker", RGD: rgdName, Pass: w.pass}
}

// requeue is a requeue after kro's --instance-requeue-interval.
func (w *work) requeue() outcome {
	return outcome{requeueAfter: w.c.t.Controller.RequeueInterval.D()}
}

// ensureManaged server-side-applies the finalizer and management labels,
// only when missing (the first reconcile), and returns the instance as it
// is now.
func (w *work) ensureManaged(key api.Key, obj *unstructured.Unstructured, g *Graph) (*unstructured.Unstructured, error) {
	if hasFinalizer(obj) {
		return obj, nil
	}
	out, call := w.apply("", key, instanceMeta(obj, g, true, w.sc))
	if call.Err != nil {
		return nil, call.Err
	}
	return out, nil
}

// resolveAll walks the nodes in topological order: each resolvable node is
// watched, then read back with a live GET (a LIST for a collection). It
// returns the nodes and the first that is pending ("" when none is).
func (w *work) resolveAll(obj *unstructured.Unstructured, g *Graph, vars map[string]any) ([]node, string, error) {
	w.memo = w.sc.memoOf()
	nodes := w.sc.nodesOf(len(g.RGD.Resources))
	firstPending := ""
	for _, i := range g.RGD.Order {
		r := g.RGD.Resources[i]
		w.stack.Resource = r.ID
		w.charge(span.Traversal, span.Detail{Step: "walk"}, w.traversal(r))
		outer := w.c.enter("traversal")
		err := w.resolve(obj, g, r, nodes, vars)
		w.c.leave(outer)
		if err != nil {
			return nil, "", err
		}
		if nodes[i].pending && firstPending == "" {
			firstPending = r.ID
		}
	}
	w.stack.Resource = ""
	return nodes, firstPending, nil
}

// allSynced reports whether every node not skipped is observed and ready.
func allSynced(nodes []node) bool {
	for i := range nodes {
		n := &nodes[i]
		if !n.skipped && (!n.observed || !n.ready) {
			return false
		}
	}
	return true
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
func instanceMeta(inst *unstructured.Unstructured, g *Graph, finalizer bool, sc *scratch) *unstructured.Unstructured {
	fin := []any{}
	if finalizer {
		fin = []any{Finalizer}
	}
	patch, md := instancePatch(inst, sc)
	labels := sc.mapOf(2)
	labels[LabelOwned], labels[LabelRGD] = "true", g.RGD.Name
	md["finalizers"], md["labels"] = fin, labels
	return patch
}

// instancePatch is an apply configuration of the instance that sets only
// its metadata fields the caller adds to md, built in the worker's scratch:
// the store copies what it keeps of an applied object.
func instancePatch(inst *unstructured.Unstructured, sc *scratch) (patch *unstructured.Unstructured, md map[string]any) {
	md = sc.mapOf(4)
	instMD, _ := inst.Object["metadata"].(map[string]any)
	md["name"], md["namespace"] = stringAt(instMD, "name"), stringAt(instMD, "namespace")
	top := sc.mapOf(3)
	top["apiVersion"], top["kind"], top["metadata"] = stringAt(inst.Object, "apiVersion"), stringAt(inst.Object, "kind"), md
	return sc.object(top), md
}

// stringAt is m[k] when it holds a string, else "", as unstructured's
// getters (GetName ...) read it, but the value itself: boxing the string
// again would allocate.
func stringAt(m map[string]any, k string) any {
	v := m[k]
	if _, ok := v.(string); ok {
		return v
	}
	return ""
}

// identity is what kro's duplicate check tells objects apart by.
type identity struct {
	gvk       schema.GroupVersionKind
	namespace string
	name      string
}

// ErrDuplicateResource is kro's error for resources that target the same
// object (applyset.ErrDuplicateResource).
var ErrDuplicateResource = errors.New("found resources with conflicts")

// duplicates is kro's duplicate check of the objects a reconcile is about
// to apply, in its order: each object by group, version, kind, namespace
// and name, named by its resource's ID ("id-i" for a collection's i-th
// item), conflicting with the last one seen under the same identity. It
// returns every conflict together, or nil. The identities seen are a list,
// searched from its end: a reconcile applies a few objects, and comparing
// them costs less than hashing each identity's five strings.
func duplicates(g *Graph, nodes []node, sc *scratch) error {
	seen := sc.seenList()
	var conflicts []string
	for _, i := range g.RGD.Order {
		r := g.RGD.Resources[i]
		for ix, d := range nodes[i].desired {
			id := r.ID
			if r.Collection() {
				id = fmt.Sprintf("%s-%d", r.ID, ix)
			}
			key := identity{d.GroupVersionKind(), api.Meta(d, "namespace"), api.Meta(d, "name")}
			if prev, ok := lastSeen(seen, key); ok {
				conflicts = append(conflicts, fmt.Sprintf("resourceID: %s conflicts with resourceID: %s", id, prev))
			}
			seen = append(seen, seenID{key, id})
		}
	}
	if sc != nil {
		sc.seen = seen // grown, for the next reconcile
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("%w: %s", ErrDuplicateResource, strings.Join(conflicts, ", "))
	}
	return nil
}

// seenID is an object's identity and the ID it was seen under.
type seenID struct {
	key identity
	id  string
}

// lastSeen is the ID the last object of identity key in seen was seen under.
func lastSeen(seen []seenID, key identity) (string, bool) {
	for i := len(seen) - 1; i >= 0; i-- {
		if seen[i].key == key {
			return seen[i].id, true
		}
	}
	return "", false
}
