package kro

import (
	"fmt"

	"github.com/krosim/krosim/model"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// expand evaluates a collection's forEach lists and returns their
// cartesian product, one map of iterator variables per item, the last
// iterator varying fastest. It fails over the --rgd-max-collection-size.
func (w *work) expand(r *model.Resource, vars map[string]any) ([]map[string]any, bool, error) {
	lists := make([][]any, len(r.ForEach))
	for i, it := range r.ForEach {
		v, pending, err := w.eval(it.Expr, vars, "")
		if err != nil || pending {
			return nil, pending, err
		}
		native, err := it.Expr.Native(v)
		if err != nil {
			return nil, false, fmt.Errorf("%s: forEach %s: %w", it.Expr.Pos, it.Name, err)
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
	combos := make([]map[string]any, 0, size)
	for ix := 0; ix < size; ix++ {
		m := map[string]any{}
		rest := ix
		for i := len(lists) - 1; i >= 0; i-- {
			m[r.ForEach[i].Name] = lists[i][rest%len(lists[i])]
			rest /= len(lists[i])
		}
		combos = append(combos, m)
	}
	return combos, false, nil
}

// observeCollection reads a collection's items with a LIST by label, after
// asking for the events of its node's objects. It is observed once it holds
// as many items as desired.
func (w *work) observeCollection(inst *unstructured.Unstructured, g *Graph, r *model.Resource, n *node, desired int) ([]*unstructured.Unstructured, error) {
	gvr := g.gvrs[r.Index]
	w.c.watchChild(w.in, w.c.nodeReq(gvr, inst.GetNamespace(), r.ID))
	// kro selects the items by the instance's UID and the node: an instance
	// of another RGD of the same name owns none (the name labels keep the
	// LIST on the store's index).
	sel := map[string]string{LabelInstance: inst.GetName(), LabelInstanceNS: inst.GetNamespace(),
		LabelInstanceID: string(inst.GetUID()), LabelNode: r.ID}
	objs, call := w.list(r.ID, gvr, inst.GetNamespace(), sel)
	if call.Err != nil {
		return nil, call.Err
	}
	n.observed = len(objs) >= desired
	return objs, nil
}
