package kro

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ApplySet annotation of the kinds an instance manages (KEP-3659, as kro writes it).
const AnnotationApplySetKinds = "applyset.kubernetes.io/contains-group-kinds"

type schemaGVR = schema.GroupVersionResource

// instanceApplySet is the ApplySet metadata kro server-side-applies to an
// instance in every reconcile: the kinds it manages.
func instanceApplySet(g *Graph, inst *unstructured.Unstructured, kinds map[schemaGVR]bool, sc *scratch) *unstructured.Unstructured {
	names := make([]string, 0, len(kinds))
	for gvr := range kinds {
		names = append(names, g.groupResource(gvr))
	}
	sort.Strings(names)
	patch, md := instancePatch(inst, sc)
	annotations := sc.mapOf(1)
	joined := strings.Join(names, ",")
	if joined != "" && annotation(inst, AnnotationApplySetKinds) == joined {
		// The instance's own value, boxed already: boxing joined allocates.
		md, _ := inst.Object["metadata"].(map[string]any)
		annotations[AnnotationApplySetKinds] = md["annotations"].(map[string]any)[AnnotationApplySetKinds]
	} else {
		annotations[AnnotationApplySetKinds] = joined
	}
	md["annotations"] = annotations
	return patch
}

// annotatedKinds are the kinds an instance's ApplySet annotation names:
// kro's memory of what it manages, which prune and deletion list.
func annotatedKinds(g *Graph, inst *unstructured.Unstructured, sc *scratch) map[schemaGVR]bool {
	kinds := sc.kindsMap()
	list := annotation(inst, AnnotationApplySetKinds)
	if list == "" {
		return kinds
	}
	for name := range strings.SplitSeq(list, ",") {
		for _, gvr := range g.childrenNamed[name] {
			kinds[gvr] = true
		}
	}
	return kinds
}

// annotation is inst.GetAnnotations()[k], read in place.
func annotation(inst *unstructured.Unstructured, k string) string {
	return api.MetaString(inst, "annotations", k)
}

// prune lists the instance's children of every kind it manages (its
// ApplySet memory), concurrently as kro does, and deletes the ones no longer
// desired node by node, the last in topological order first (one of a node
// no longer in the graph before any), a node's all at once. When it deleted
// any, kro shrinks the memory to the kinds applied now. It reports whether
// it deleted anything.
func (w *work) prune(key api.Key, inst *unstructured.Unstructured, g *Graph, nodes []node, kinds map[schemaGVR]bool) (bool, error) {
	want := w.sc.wantMap()
	now := w.sc.nowMap()
	for i, n := range nodes {
		for _, d := range n.desired {
			want[api.Key{GVR: g.gvrs[i], Namespace: api.Meta(d, "namespace"), Name: api.Meta(d, "name")}] = true
			now[g.gvrs[i]] = true
		}
	}
	objs, err := w.listKinds(g, kinds, key.Namespace, g.members(key.Name, key.Namespace))
	if err != nil {
		return false, err
	}
	var orphans []orphan
	for _, o := range objs {
		k := api.Key{GVR: w.c.srv.Store.GVR(o.GetAPIVersion(), o.GetKind()), Namespace: o.GetNamespace(), Name: o.GetName()}
		if !want[k] {
			orphans = append(orphans, orphan{k, g.position(o.GetLabels()[LabelNode])})
		}
	}
	if len(orphans) == 0 {
		return false, nil
	}
	slices.SortStableFunc(orphans, func(a, b orphan) int { return cmp.Compare(b.pos, a.pos) })
	for len(orphans) > 0 {
		n := 1
		for n < len(orphans) && orphans[n].pos == orphans[0].pos {
			n++
		}
		if err := w.deleteAll(orphans[:n]); err != nil {
			return true, err
		}
		orphans = orphans[n:]
	}
	_, call := w.apply("", key, instanceApplySet(g, inst, now, w.sc))
	return true, call.Err
}

// orphan is a child prune deletes and its node's topological position.
type orphan struct {
	key api.Key
	pos int
}

// deleteAll deletes orphans concurrently; one already gone is no error.
func (w *work) deleteAll(orphans []orphan) error {
	if len(orphans) == 1 {
		k := orphans[0].key
		if call := w.api(k.Name, func() api.Call { return w.c.client.Delete(w.p, k) }, 0); call.Err != nil && !isNotFound(call.Err) {
			return call.Err
		}
		return nil
	}
	names := w.sc.namesOf(len(orphans))
	for i, o := range orphans {
		names[i] = o.key.Name
	}
	for _, call := range w.parallel(names, func(i int, p *kernel.Proc) api.Call { return w.c.client.Delete(p, orphans[i].key) }) {
		if call.Err != nil && !isNotFound(call.Err) {
			return call.Err
		}
	}
	return nil
}

// members is the label selector of an instance's children, which prune and
// deletion list: kro selects its ApplySet's members by their
// applyset.kubernetes.io/part-of label, a hash of the instance's name,
// namespace, kind and group. Here the instance's name and namespace labels
// with the RGD's name say the same (an RGD serves one kind, which no other
// RGD may serve): an instance of another RGD with the same name and
// namespace, such as one an RGD nests, does not own these children.
func (g *Graph) members(name, ns string) map[string]string {
	return map[string]string{LabelInstance: name, LabelInstanceNS: ns, LabelRGD: g.RGD.Name}
}

// listKinds LISTs the instance's children of the given kinds concurrently
// and returns them a kind at a time, in the order the LISTs came back: kro
// gathers its candidates as each LIST returns (applyset's listOrphans) and
// deletes a wave's in that order, one after the other.
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
	i := -1
	for range calls {
		i = nextDone(calls, i)
		if call := calls[i]; call.Err != nil {
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

// nextDone returns the call that came back next after calls[after] (the
// first to come back when after is -1); of calls back at the same time, the
// first in the list.
func nextDone(calls []api.Call, after int) int {
	next := -1
	for i := range calls {
		if after >= 0 && !doneBefore(calls, after, i) {
			continue
		}
		if next < 0 || doneBefore(calls, i, next) {
			next = i
		}
	}
	return next
}

// doneBefore says whether calls[i] came back before calls[j].
func doneBefore(calls []api.Call, i, j int) bool {
	return calls[i].Done < calls[j].Done || calls[i].Done == calls[j].Done && i < j
}
