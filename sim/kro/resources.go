package kro

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/span"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// node is one resource's state during a reconcile.
type node struct {
	skipped  bool
	pending  bool // data or dependencies not there yet
	observed bool // read back from the API in this reconcile
	ready    bool
	desired  []*unstructured.Unstructured
	live     []*unstructured.Unstructured // as read before the apply, sorted by name
	conflict bool                         // another instance's ApplySet owns its object: not applied
	// one holds a single resource's desired and live objects: desired and
	// live are slices of it then, not lists of their own.
	one [2]*unstructured.Unstructured
}

// changedBy reports whether out, an apply's response, differs from the
// object of its name read before the apply: it was not read, or its
// resource version moved. An apply that changes nothing answers with the
// stored object, most often the very one read, which needs no look.
func (n *node) changedBy(out *unstructured.Unstructured) bool {
	if len(n.live) == 1 && n.live[0] == out {
		return false
	}
	rv, ok := n.liveRV(api.Meta(out, "name"))
	return !ok || rv != api.Meta(out, "resourceVersion")
}

// liveRV is the resource version of the object named name as read before
// the apply, and whether it was read.
func (n *node) liveRV(name string) (string, bool) {
	i := sort.Search(len(n.live), func(i int) bool { return api.Meta(n.live[i], "name") >= name })
	if i < len(n.live) && api.Meta(n.live[i], "name") == name {
		return api.Meta(n.live[i], "resourceVersion"), true
	}
	return "", false
}

// traversal is the CPU of visiting one node and checking its dependencies.
func (w *work) traversal(r *model.Resource) time.Duration {
	cost := w.c.t.Cost
	return time.Duration(cost.NodeNS + cost.EdgeNS*float64(len(r.Deps)+len(r.Dependents)))
}

// resolve decides one node: skipped, pending, or rendered and read back.
func (w *work) resolve(inst *unstructured.Unstructured, g *Graph, r *model.Resource, nodes []node, vars map[string]any) error {
	n := &nodes[r.Index]
	if ok, err := w.included(r, nodes, vars); err != nil || !ok {
		return err
	}
	desired, pending, err := w.render(inst, g, r, vars, n.one[0:0:1])
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
	if r.Collection() {
		live, err = w.observeCollection(inst, g, r, n, len(desired))
	} else {
		live, err = w.observe(g, r, n, desired[0], n.one[1:1:2])
	}
	if err != nil {
		return err
	}
	n.live = live // a GET's one object, or a LIST's, sorted by name
	if n.observed {
		vars[r.ID] = observedVar(r, live)
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

// included decides whether a node goes on to be rendered: not when a
// dependency is skipped or an includeWhen is false (skipped), nor while an
// includeWhen's data or a dependency is not there yet (pending).
func (w *work) included(r *model.Resource, nodes []node, vars map[string]any) (bool, error) {
	n := &nodes[r.Index]
	for _, d := range r.Deps {
		if nodes[d].skipped {
			n.skipped = true
			return false, nil
		}
	}
	for _, e := range r.IncludeWhen {
		v, pending, err := w.eval(e, vars, "")
		if err != nil {
			return false, err
		}
		if pending {
			n.pending = true
			return false, nil
		}
		if b, ok := v.(types.Bool); ok && !bool(b) {
			n.skipped = true
			return false, nil
		}
	}
	for _, d := range r.Deps {
		if !nodes[d].observed || !nodes[d].ready {
			n.pending = true
			return false, nil
		}
	}
	return true, nil
}

// observe reads one object's current state with a live GET, after asking
// for its events; an object not found is not observed. An external
// reference is read the same way (kro's resources_external.go), under its
// own name.
func (w *work) observe(g *Graph, r *model.Resource, n *node, d *unstructured.Unstructured, into []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	k := api.Key{GVR: g.gvrs[r.Index], Namespace: api.Meta(d, "namespace"), Name: api.Meta(d, "name")}
	w.c.watchChild(w.in, w.c.childReq(k))
	obj, call := w.get(r.ID, k)
	switch {
	case call.Err == nil:
		n.observed = true
		return append(into, obj), nil
	case !isNotFound(call.Err):
		return nil, call.Err
	}
	return nil, nil
}

// observedVar is what expressions see of an observed resource: the object,
// or a collection's list of items.
func observedVar(r *model.Resource, live []*unstructured.Unstructured) any {
	if !r.Collection() {
		return live[0].Object
	}
	items := make([]any, len(live))
	for i, o := range live {
		items[i] = o.Object
	}
	return items
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

// render evaluates a resource's template into the objects kro would apply:
// one, or one per item of a collection.
func (w *work) render(inst *unstructured.Unstructured, g *Graph, r *model.Resource, vars map[string]any, into []*unstructured.Unstructured) ([]*unstructured.Unstructured, bool, error) {
	combos := []map[string]any{nil}
	if r.Collection() {
		var pending bool
		var err error
		if combos, pending, err = w.expand(r, vars); err != nil || pending {
			return nil, pending, err
		}
	}
	out := into
	for ix, iter := range combos {
		obj, pending, err := w.renderItem(inst, g, r, vars, ix, iter)
		if err != nil || pending {
			return nil, pending, err
		}
		out = append(out, obj)
	}
	return out, false, nil
}

// renderItem renders one object: the template's fields evaluated in vars
// plus a collection item's iterator variables (iter, nil for a single
// resource), and kro's labels.
func (w *work) renderItem(inst *unstructured.Unstructured, g *Graph, r *model.Resource, vars map[string]any, ix int, iter map[string]any) (*unstructured.Unstructured, bool, error) {
	scope := vars
	memoKey := ""
	if iter != nil {
		scope = make(map[string]any, len(vars)+len(iter))
		for k, v := range vars {
			scope[k] = v
		}
		for k, v := range iter {
			scope[k] = v
		}
		memoKey = strconv.Itoa(ix)
	}
	// Every field is evaluated before the object is built (the evaluations
	// read only the scope), so that a pending one builds nothing.
	vals := w.sc.values(len(r.Fields))
	for i, f := range r.Fields {
		v, pending, err := w.eval(f.Expr, scope, memoKey)
		if err != nil || pending {
			return nil, pending, err
		}
		native, err := f.Expr.Native(v)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %s: %w", f.Expr.Pos, f.Path, err)
		}
		if !f.Standalone {
			if _, ok := native.(string); !ok {
				native = fmt.Sprint(native)
			}
		}
		vals[i] = native
	}
	lay := g.layouts[r.Index]
	rendered, held := lay.render(r, w.sc, vals)
	obj := w.sc.object(rendered)
	if api.Meta(obj, "namespace") == "" {
		// The instance's namespace value as stored (SetNamespace boxes it anew).
		instMD, _ := inst.Object["metadata"].(map[string]any)
		if md, ok := obj.Object["metadata"].(map[string]any); ok && stringAt(instMD, "namespace") != "" {
			md["namespace"] = instMD["namespace"]
		} else {
			obj.SetNamespace(inst.GetNamespace())
		}
	}
	if !r.External {
		setChildLabels(obj, inst, g, r, ix, iter != nil, w.sc)
	}
	w.charge(span.Other, span.Detail{Step: "render"}, time.Duration(float64(lay.size(obj.Object, held))*w.c.t.Cost.EncodeByteNS))
	return obj, false, nil
}

// setChildLabels sets an object's labels to its own plus those kro puts on
// what it manages: what obj.SetLabels of obj.GetLabels() plus kro's did,
// built as the map stored, without converting twice.
func setChildLabels(obj, inst *unstructured.Unstructured, g *Graph, r *model.Resource, ix int, item bool, sc *scratch) {
	md, ok := obj.Object["metadata"].(map[string]any)
	if _, present := obj.Object["metadata"]; present && !ok {
		return // SetLabels cannot set labels under metadata that is not a map
	}
	if md == nil {
		md = map[string]any{}
		obj.Object["metadata"] = md
	}
	own, _ := md["labels"].(map[string]any)
	for _, v := range own {
		if _, isString := v.(string); !isString && v != nil {
			own = nil // GetLabels fails on a label that is not a string
			break
		}
	}
	// Sized for what it will hold: a hint above 8 entries makes a Go map a
	// table, slower to fill, iterate and clear than a map of one group, and
	// the store compares the labels of every object applied.
	n := len(own) + 6
	if item {
		n++
	}
	labels := sc.mapOf(n)
	for k, v := range own {
		if v == nil {
			v = "" // GetLabels reads null as ""
		}
		labels[k] = v
	}
	instMD, _ := inst.Object["metadata"].(map[string]any)
	labels[LabelOwned] = "true"
	labels[LabelInstance] = stringAt(instMD, "name")
	labels[LabelInstanceNS] = stringAt(instMD, "namespace")
	labels[LabelInstanceID] = stringAt(instMD, "uid")
	labels[LabelNode] = g.nodeLabels[r.Index]
	labels[LabelRGD] = g.rgdLabel
	if item {
		labels[LabelCollectionIx] = strconv.Itoa(ix)
	}
	md["labels"] = labels
}

// applyResources server-side-applies every resolved resource concurrently
// and re-checks readiness on the responses. It reports whether an apply
// created or changed an object (it mutated the cluster: kro then requeues
// to read the result back), and the first apply error.
func (w *work) applyResources(g *Graph, nodes []node, vars map[string]any) (bool, error) {
	n := desiredCount(nodes)
	names, all, responses := w.sc.namesOf(n), w.sc.appliesOf(n), w.sc.responsesOf(n)
	j := 0
	var applyErr error
	for _, i := range g.RGD.Order {
		r := g.RGD.Resources[i]
		if err := applySetConflict(r, &nodes[i]); err != nil {
			// kro refuses the object without a request: the node fails,
			// the others apply, and the reconcile requeues.
			nodes[i].conflict, nodes[i].ready = true, false
			if applyErr == nil {
				applyErr = fmt.Errorf("apply %s: %w", r.ID, err)
			}
			continue
		}
		for _, d := range nodes[i].desired {
			names[j], all[j] = r.ID, desired{i, d}
			j++
		}
	}
	names, all, responses = names[:j], all[:j], responses[:j]
	calls := w.parallel(names, func(j int, p *kernel.Proc) api.Call {
		d := all[j]
		k := api.Key{GVR: g.gvrs[d.idx], Namespace: api.Meta(d.obj, "namespace"), Name: api.Meta(d.obj, "name")}
		out, call := w.c.client.Apply(p, k, d.obj)
		responses[j] = out
		return call
	})
	mutated := false
	for j, d := range all {
		if err := calls[j].Err; err != nil {
			if applyErr == nil {
				applyErr = fmt.Errorf("apply %s: %w", names[j], err)
			}
			continue
		}
		out := responses[j]
		if nodes[d.idx].changedBy(out) {
			mutated = true
		}
	}
	// A resource's objects are consecutive in all (in order): its readiness
	// is checked when every one of them applied.
	next := 0
	for _, i := range g.RGD.Order {
		if nodes[i].conflict {
			continue
		}
		first := next
		next += len(nodes[i].desired)
		objs := responses[first:next]
		if len(objs) == 0 || slices.ContainsFunc(calls[first:next], func(c api.Call) bool { return c.Err != nil }) {
			continue
		}
		r := g.RGD.Resources[i]
		w.stack.Resource = r.ID
		nodes[i].observed = true
		nodes[i].ready = w.ready(r, objs, vars)
	}
	w.stack.Resource = ""
	return mutated, applyErr
}

// applySetConflict is kro's ApplySet membership check before an apply
// (applyset.applyResource): a single resource whose object, as read before
// the apply, is a member of another instance's ApplySet is not applied.
// kro names an ApplySet by its parent's name, namespace and kind
// (applyset.kubernetes.io/part-of); here a child names its parent by UID
// (kro.run/instance-id), which only the parent's labeling writes: the RGD
// label of a nested instance is its own RGD's management label. (A parent
// deleted and made again under its name would adopt its old children in
// kro; its children are gone by then.) Collections are listed by their own
// instance's labels, so kro sees no other owner there.
func applySetConflict(r *model.Resource, n *node) error {
	if r.Collection() || len(n.live) != 1 || len(n.desired) != 1 {
		return nil
	}
	live, want := n.live[0], n.desired[0]
	owner := api.MetaString(live, "labels", LabelInstanceID)
	if owner == "" || owner == api.MetaString(want, "labels", LabelInstanceID) {
		return nil // not kro's (the apply adopts it), or this instance's
	}
	return fmt.Errorf("%w: %s/%s belongs to the ApplySet of %s/%s", errApplySetConflict,
		live.GetNamespace(), live.GetName(), api.MetaString(live, "labels", LabelInstanceNS), api.MetaString(live, "labels", LabelInstance))
}

// errApplySetConflict is kro's applyset.ErrApplySetConflict.
var errApplySetConflict = errors.New("resource belongs to a different ApplySet")

// desired is an object to apply and the index of its resource.
type desired struct {
	idx int
	obj *unstructured.Unstructured
}

// desiredCount is how many objects the nodes render, every collection item
// counted.
func desiredCount(nodes []node) int {
	n := 0
	for i := range nodes {
		n += len(nodes[i].desired)
	}
	return n
}
