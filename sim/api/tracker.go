package api

import (
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"
)

// tracker is the store's client-go testing.ObjectTracker and the only place
// its objects live: each object once, immutable. It takes ownership of what
// Create, Update and Patch hand it (the store hands it objects it built and
// never modifies again; a write replaces an object, sharing unchanged
// subtrees with the one before), so it stores them without copying. Get and
// List give out deep copies, as client-go's tracker does, because callers of
// the ObjectTracker interface (client-go's fake reactor chain) may modify
// what they get; the store itself reads the shared objects directly.
type tracker struct {
	objs map[slot]stored
	gvr  func(apiVersion, kind string) schema.GroupVersionResource
	// The resources and namespaces seen, numbered: a slot names them by
	// number, 24 bytes in all where a Key is 80, and every stored object
	// has one.
	gvrs Numbers[schema.GroupVersionResource]
	nss  Numbers[string]
}

// slot is where an object is stored: its resource's and namespace's
// numbers and its name.
type slot struct {
	gvr, ns int32
	name    string
}

// stored is an object and its encoded size (see Size), measured when it is
// stored: every read's cost is charged by it. status is what the status
// entry adds to size (0 without one), so that a write of the status alone,
// the most common, sizes the new status only (see Store.update). Both fit
// in the word an int took: an object is far below 2 GiB.
type stored struct {
	obj          *unstructured.Unstructured
	size, status int32
}

// measured is u stored, sized by walking it.
func measured(u *unstructured.Unstructured) stored {
	st := stored{obj: u, size: SizeBrackets}
	for k, v := range u.Object {
		e := int32(SizeEntry(k, Size(v)))
		st.size += e
		if k == "status" {
			st.status = e
		}
	}
	return st
}

// stored is u stored as m measured it, when m sized all of it; else
// measured(u).
func (m measure) stored(u *unstructured.Unstructured) stored {
	if m.total < 0 || m.status < 0 {
		return measured(u)
	}
	return stored{obj: u, size: int32(m.total), status: int32(m.status)}
}

// withStatus is u stored in place of st's object, from which it differs
// in its status and metadata's resource version at most (a status write):
// sized from st's size by walking those alone. status is the size of u's
// status entry when known (interning it measured it), else -1.
func (st stored) withStatus(u *unstructured.Unstructured, status int) stored {
	next := stored{obj: u, size: st.size - st.status}
	if status >= 0 {
		next.status = int32(status)
	} else if v, ok := u.Object["status"]; ok {
		next.status = int32(SizeEntry("status", Size(v)))
	}
	next.size += next.status
	oldMD, _ := st.obj.Object["metadata"].(map[string]any)
	md, _ := u.Object["metadata"].(map[string]any)
	next.size += entrySize(md, "resourceVersion") - entrySize(oldMD, "resourceVersion")
	return next
}

// entrySize is what m's entry k adds to m's size (0 without one).
func entrySize(m map[string]any, k string) int32 {
	v, ok := m[k]
	if !ok {
		return 0
	}
	return int32(SizeEntry(k, Size(v)))
}

// slot is k's slot; ok is false when no object of k's resource and
// namespace was ever stored.
func (t *tracker) slot(k Key) (slot, bool) {
	i, ok := t.gvrs.Lookup(k.GVR)
	if !ok {
		return slot{}, false
	}
	n, ok := t.nss.Lookup(k.Namespace)
	return slot{i, n, k.Name}, ok
}

// newSlot is k's slot, numbering its resource and namespace if new.
func (t *tracker) newSlot(k Key) slot {
	return slot{t.gvrs.Of(k.GVR), t.nss.Of(k.Namespace), k.Name}
}

// get returns the object at k.
func (t *tracker) get(k Key) (stored, bool) {
	sl, ok := t.slot(k)
	if !ok {
		return stored{}, false
	}
	st, ok := t.objs[sl]
	return st, ok
}

// key is the Key of a slot.
func (t *tracker) key(sl slot) Key { return Key{t.gvrs.At(sl.gvr), t.nss.At(sl.ns), sl.name} }

var _ k8stesting.ObjectTracker = (*tracker)(nil)

func newTracker(gvr func(apiVersion, kind string) schema.GroupVersionResource) *tracker {
	return &tracker{objs: map[slot]stored{}, gvr: gvr}
}

// object is the unstructured object behind obj, which must be one.
func object(obj runtime.Object) (*unstructured.Unstructured, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("the simulated store holds unstructured objects only, got %T", obj)
	}
	return u, nil
}

// Add stores obj under the resource its kind maps to.
func (t *tracker) Add(obj runtime.Object) error {
	u, err := object(obj)
	if err != nil {
		return err
	}
	return t.Create(t.gvr(u.GetAPIVersion(), u.GetKind()), u, u.GetNamespace())
}

// Get returns a deep copy of the object.
func (t *tracker) Get(gvr schema.GroupVersionResource, ns, name string, _ ...metav1.GetOptions) (runtime.Object, error) {
	st, ok := t.get(Key{gvr, ns, name})
	if !ok {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	return st.obj.DeepCopy(), nil
}

// Create stores obj, which it then owns, under its name in ns.
func (t *tracker) Create(gvr schema.GroupVersionResource, obj runtime.Object, ns string, _ ...metav1.CreateOptions) error {
	u, err := object(obj)
	if err != nil {
		return err
	}
	return t.create(gvr, u, ns, measured(u))
}

// create stores u, sized as st, under its name in ns.
func (t *tracker) create(gvr schema.GroupVersionResource, u *unstructured.Unstructured, ns string, st stored) error {
	sl := t.newSlot(Key{gvr, ns, Meta(u, "name")})
	if _, ok := t.objs[sl]; ok {
		return apierrors.NewAlreadyExists(gvr.GroupResource(), sl.name)
	}
	t.objs[sl] = st
	return nil
}

// Update replaces the object named like obj, which it then owns.
func (t *tracker) Update(gvr schema.GroupVersionResource, obj runtime.Object, ns string, _ ...metav1.UpdateOptions) error {
	u, err := object(obj)
	if err != nil {
		return err
	}
	return t.update(gvr, ns, u, false, measure{-1, -1})
}

// update stores u in place of the object of its name. statusOnly says u
// differs from it in its status and resource version at most (see
// withStatus), which are then all that is sized. m is what interning u
// measured of it (see measure).
func (t *tracker) update(gvr schema.GroupVersionResource, ns string, u *unstructured.Unstructured, statusOnly bool, m measure) error {
	sl, ok := t.slot(Key{gvr, ns, Meta(u, "name")})
	prev, found := t.objs[sl]
	if !ok || !found {
		return apierrors.NewNotFound(gvr.GroupResource(), sl.name)
	}
	if statusOnly {
		t.objs[sl] = prev.withStatus(u, m.status)
	} else {
		t.objs[sl] = m.stored(u)
	}
	return nil
}

// Patch stores the patched object, as client-go's tracker does: an update.
func (t *tracker) Patch(gvr schema.GroupVersionResource, obj runtime.Object, ns string, _ ...metav1.PatchOptions) error {
	return t.Update(gvr, obj, ns)
}

// Apply is not the tracker's: server-side apply with the API server's
// semantics is Store.Apply.
func (t *tracker) Apply(gvr schema.GroupVersionResource, _ runtime.Object, _ string, _ ...metav1.PatchOptions) error {
	return apierrors.NewMethodNotSupported(gvr.GroupResource(), "apply through the tracker (the store's Apply applies)")
}

// List returns deep copies of the objects of gvr in ns ("" for every
// namespace), sorted by namespace and name.
func (t *tracker) List(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, ns string, _ ...metav1.ListOptions) (runtime.Object, error) {
	var slots []slot
	if i, ok := t.gvrs.Lookup(gvr); ok {
		for sl := range t.objs {
			if sl.gvr == i && (ns == "" || t.nss.At(sl.ns) == ns) {
				slots = append(slots, sl)
			}
		}
	}
	sort.Slice(slots, func(i, j int) bool {
		if a, b := t.nss.At(slots[i].ns), t.nss.At(slots[j].ns); a != b {
			return a < b
		}
		return slots[i].name < slots[j].name
	})
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion(gvk.GroupVersion().String())
	list.SetKind(gvk.Kind + "List")
	for _, sl := range slots {
		list.Items = append(list.Items, *t.objs[sl].obj.DeepCopy())
	}
	return list, nil
}

// Delete removes the object.
func (t *tracker) Delete(gvr schema.GroupVersionResource, ns, name string, _ ...metav1.DeleteOptions) error {
	sl, ok := t.slot(Key{gvr, ns, name})
	if _, stored := t.objs[sl]; !ok || !stored {
		return apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	delete(t.objs, sl)
	return nil
}

// Watch is not the tracker's: the store tells of every write through
// Store.OnWrite, in virtual time.
func (t *tracker) Watch(gvr schema.GroupVersionResource, _ string, _ ...metav1.ListOptions) (watch.Interface, error) {
	return nil, apierrors.NewMethodNotSupported(gvr.GroupResource(), "watch through the tracker (the store's OnWrite watches)")
}
