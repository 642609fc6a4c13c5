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
	objs map[Key]*unstructured.Unstructured
	gvr  func(apiVersion, kind string) schema.GroupVersionResource
}

var _ k8stesting.ObjectTracker = (*tracker)(nil)

func newTracker(gvr func(apiVersion, kind string) schema.GroupVersionResource) *tracker {
	return &tracker{objs: map[Key]*unstructured.Unstructured{}, gvr: gvr}
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
	o, ok := t.objs[Key{gvr, ns, name}]
	if !ok {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	return o.DeepCopy(), nil
}

// Create stores obj, which it then owns, under its name in ns.
func (t *tracker) Create(gvr schema.GroupVersionResource, obj runtime.Object, ns string, _ ...metav1.CreateOptions) error {
	u, err := object(obj)
	if err != nil {
		return err
	}
	k := Key{gvr, ns, u.GetName()}
	if _, ok := t.objs[k]; ok {
		return apierrors.NewAlreadyExists(gvr.GroupResource(), k.Name)
	}
	t.objs[k] = u
	return nil
}

// Update replaces the object named like obj, which it then owns.
func (t *tracker) Update(gvr schema.GroupVersionResource, obj runtime.Object, ns string, _ ...metav1.UpdateOptions) error {
	u, err := object(obj)
	if err != nil {
		return err
	}
	k := Key{gvr, ns, u.GetName()}
	if _, ok := t.objs[k]; !ok {
		return apierrors.NewNotFound(gvr.GroupResource(), k.Name)
	}
	t.objs[k] = u
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
	var keys []Key
	for k := range t.objs {
		if k.GVR == gvr && (ns == "" || k.Namespace == ns) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Namespace != keys[j].Namespace {
			return keys[i].Namespace < keys[j].Namespace
		}
		return keys[i].Name < keys[j].Name
	})
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion(gvk.GroupVersion().String())
	list.SetKind(gvk.Kind + "List")
	for _, k := range keys {
		list.Items = append(list.Items, *t.objs[k].DeepCopy())
	}
	return list, nil
}

// Delete removes the object.
func (t *tracker) Delete(gvr schema.GroupVersionResource, ns, name string, _ ...metav1.DeleteOptions) error {
	k := Key{gvr, ns, name}
	if _, ok := t.objs[k]; !ok {
		return apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	delete(t.objs, k)
	return nil
}

// Watch is not the tracker's: the store tells of every write through
// Store.OnWrite, in virtual time.
func (t *tracker) Watch(gvr schema.GroupVersionResource, _ string, _ ...metav1.ListOptions) (watch.Interface, error) {
	return nil, apierrors.NewMethodNotSupported(gvr.GroupResource(), "watch through the tracker (the store's OnWrite watches)")
}
