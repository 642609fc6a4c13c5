package api

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

// IndexLabel is the label LISTs are indexed by: kro selects an instance's children with it.
const IndexLabel = "kro.run/instance-name"

// Key names one object.
type Key struct {
	GVR       schema.GroupVersionResource
	Namespace string
	Name      string
}

func (k Key) String() string {
	return fmt.Sprintf("%s/%s/%s", k.GVR.Resource, k.Namespace, k.Name)
}

// Event is a watch event, delivered to handlers after the target's watch delay.
type Event struct {
	Type          string // ADDED, MODIFIED, DELETED
	Key           Key
	Labels        map[string]string
	Generation    int64
	OldGeneration int64
	Object        *unstructured.Unstructured // the object after the write (before, for DELETED)
}

// Store holds the cluster's objects in client-go's fake dynamic client and
// keeps what a real server adds: resource versions, generations, graceful
// deletion with finalizers, a label index for LIST, and watch events.
// Its methods take no virtual time; Client charges time around them.
type Store struct {
	dyn      *dynamicfake.FakeDynamicClient
	rv       int64
	uid      int64
	index    map[indexKey]map[string]bool
	onWrite  []func(Event)
	admit    []func(verb string, obj *unstructured.Unstructured)
	now      func() time.Duration
	objects  int
	maxObjs  int
	ctx      context.Context
	gvrCache map[schema.GroupVersionKind]schema.GroupVersionResource
}

type indexKey struct {
	gvr   schema.GroupVersionResource
	ns    string
	value string
}

// NewStore returns an empty store whose timestamps come from now.
func NewStore(now func() time.Duration) *Store {
	return &Store{
		dyn:      dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()),
		index:    map[indexKey]map[string]bool{},
		now:      now,
		ctx:      context.Background(),
		gvrCache: map[schema.GroupVersionKind]schema.GroupVersionResource{},
	}
}

// OnWrite registers a handler for every successful write, called synchronously.
func (s *Store) OnWrite(fn func(Event)) { s.onWrite = append(s.onWrite, fn) }

// Admit registers a mutating admission hook run on create and update.
func (s *Store) Admit(fn func(verb string, obj *unstructured.Unstructured)) {
	s.admit = append(s.admit, fn)
}

// Objects is the number of objects stored; MaxObjects the most ever stored at once.
func (s *Store) Objects() int    { return s.objects }
func (s *Store) MaxObjects() int { return s.maxObjs }

// GVR maps a kind to its resource the way the API server names them.
func (s *Store) GVR(apiVersion, kind string) schema.GroupVersionResource {
	gv, _ := schema.ParseGroupVersion(apiVersion)
	gvk := gv.WithKind(kind)
	if r, ok := s.gvrCache[gvk]; ok {
		return r
	}
	r := gv.WithResource(Plural(kind))
	s.gvrCache[gvk] = r
	return r
}

// Plural is the lower-case plural resource name of a kind.
func Plural(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(k, "s"), strings.HasSuffix(k, "x"), strings.HasSuffix(k, "ch"), strings.HasSuffix(k, "sh"):
		return k + "es"
	case strings.HasSuffix(k, "y") && len(k) > 1 && !strings.ContainsRune("aeiou", rune(k[len(k)-2])):
		return k[:len(k)-1] + "ies"
	}
	return k + "s"
}

func (s *Store) res(k Key) dynamicResource {
	return s.dyn.Resource(k.GVR).Namespace(k.Namespace)
}

type dynamicResource interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*unstructured.Unstructured, error)
	Create(ctx context.Context, obj *unstructured.Unstructured, opts metav1.CreateOptions, sub ...string) (*unstructured.Unstructured, error)
	Update(ctx context.Context, obj *unstructured.Unstructured, opts metav1.UpdateOptions, sub ...string) (*unstructured.Unstructured, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions, sub ...string) error
}

// Get returns a copy of the object.
func (s *Store) Get(k Key) (*unstructured.Unstructured, error) {
	obj, err := s.res(k).Get(s.ctx, k.Name, metav1.GetOptions{})
	s.dyn.ClearActions()
	return obj, err
}

// List returns copies of the objects in namespace ns whose labels match
// selector, which must include IndexLabel. Objects come sorted by name.
func (s *Store) List(gvr schema.GroupVersionResource, ns string, selector map[string]string) ([]*unstructured.Unstructured, error) {
	v, ok := selector[IndexLabel]
	if !ok {
		return nil, fmt.Errorf("list %s: the model indexes LISTs by %s; selector %v lacks it", gvr.Resource, IndexLabel, selector)
	}
	names := make([]string, 0, len(s.index[indexKey{gvr, ns, v}]))
	for n := range s.index[indexKey{gvr, ns, v}] {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*unstructured.Unstructured
	for _, n := range names {
		obj, err := s.Get(Key{gvr, ns, n})
		if err != nil {
			return nil, err
		}
		if matches(obj.GetLabels(), selector) {
			out = append(out, obj)
		}
	}
	return out, nil
}

func matches(labels, selector map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Create stores a new object.
func (s *Store) Create(k Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	obj = obj.DeepCopy()
	obj.SetNamespace(k.Namespace)
	obj.SetName(k.Name)
	for _, fn := range s.admit {
		fn("create", obj)
	}
	s.uid++
	obj.SetUID(uidOf(s.uid))
	obj.SetGeneration(1)
	s.stamp(obj)
	obj.SetCreationTimestamp(metav1.NewTime(epoch.Add(s.now())))
	out, err := s.res(k).Create(s.ctx, obj, metav1.CreateOptions{})
	s.dyn.ClearActions()
	if err != nil {
		return nil, err
	}
	s.objects++
	s.maxObjs = max(s.maxObjs, s.objects)
	s.reindex(k, nil, out.GetLabels())
	s.emit(Event{Type: "ADDED", Key: k, Labels: out.GetLabels(), Generation: 1, Object: out})
	return out, nil
}

// epoch is virtual time zero as a wall-clock date, for timestamps in objects.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func uidOf(n int64) types.UID { return types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", n)) }

func (s *Store) stamp(obj *unstructured.Unstructured) {
	s.rv++
	obj.SetResourceVersion(strconv.FormatInt(s.rv, 10))
}

// Update replaces an object. The generation moves when anything but
// metadata and status changes; an update that changes nothing writes nothing.
// Removing the last finalizer of an object being deleted deletes it.
func (s *Store) Update(k Key, obj *unstructured.Unstructured, status bool) (*unstructured.Unstructured, error) {
	old, err := s.Get(k)
	if err != nil {
		return nil, err
	}
	obj = obj.DeepCopy()
	if status {
		// The status subresource writes only status.
		st, hasStatus := obj.Object["status"]
		obj = old.DeepCopy()
		if hasStatus {
			obj.Object["status"] = st
		} else {
			delete(obj.Object, "status")
		}
	} else {
		for _, fn := range s.admit {
			fn("update", obj)
		}
		// A main-resource write cannot change status.
		if st, ok := old.Object["status"]; ok {
			obj.Object["status"] = st
		} else {
			delete(obj.Object, "status")
		}
	}
	obj.SetUID(old.GetUID())
	obj.SetCreationTimestamp(old.GetCreationTimestamp())
	obj.SetDeletionTimestamp(old.GetDeletionTimestamp())
	obj.SetResourceVersion(old.GetResourceVersion())
	obj.SetGeneration(old.GetGeneration())
	if !specEqual(old.Object, obj.Object) {
		obj.SetGeneration(old.GetGeneration() + 1)
	}
	if reflect.DeepEqual(old.Object, obj.Object) {
		return old, nil
	}
	if old.GetDeletionTimestamp() != nil && len(obj.GetFinalizers()) == 0 {
		return obj, s.remove(k, old)
	}
	s.stamp(obj)
	out, err := s.res(k).Update(s.ctx, obj, metav1.UpdateOptions{})
	s.dyn.ClearActions()
	if err != nil {
		return nil, err
	}
	s.reindex(k, old.GetLabels(), out.GetLabels())
	s.emit(Event{Type: "MODIFIED", Key: k, Labels: out.GetLabels(), Generation: out.GetGeneration(),
		OldGeneration: old.GetGeneration(), Object: out})
	return out, nil
}

// specEqual compares everything but metadata and status.
func specEqual(a, b map[string]any) bool {
	for k, v := range a {
		if k == "metadata" || k == "status" {
			continue
		}
		if !reflect.DeepEqual(v, b[k]) {
			return false
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && k != "metadata" && k != "status" {
			return false
		}
	}
	return true
}

// Delete deletes an object, or marks it deleting while it has finalizers.
func (s *Store) Delete(k Key) error {
	old, err := s.Get(k)
	if err != nil {
		return err
	}
	if len(old.GetFinalizers()) == 0 {
		return s.remove(k, old)
	}
	if old.GetDeletionTimestamp() != nil {
		return nil
	}
	obj := old.DeepCopy()
	t := metav1.NewTime(epoch.Add(s.now()))
	obj.SetDeletionTimestamp(&t)
	obj.SetGeneration(old.GetGeneration() + 1) // as the API server does for graceful deletion
	s.stamp(obj)
	out, err := s.res(k).Update(s.ctx, obj, metav1.UpdateOptions{})
	s.dyn.ClearActions()
	if err != nil {
		return err
	}
	s.emit(Event{Type: "MODIFIED", Key: k, Labels: out.GetLabels(), Generation: out.GetGeneration(),
		OldGeneration: old.GetGeneration(), Object: out})
	return nil
}

func (s *Store) remove(k Key, old *unstructured.Unstructured) error {
	err := s.res(k).Delete(s.ctx, k.Name, metav1.DeleteOptions{})
	s.dyn.ClearActions()
	if err != nil {
		return err
	}
	s.objects--
	s.reindex(k, old.GetLabels(), nil)
	s.emit(Event{Type: "DELETED", Key: k, Labels: old.GetLabels(), Generation: old.GetGeneration(),
		OldGeneration: old.GetGeneration(), Object: old})
	return nil
}

func (s *Store) reindex(k Key, oldLabels, newLabels map[string]string) {
	if v, ok := oldLabels[IndexLabel]; ok {
		ik := indexKey{k.GVR, k.Namespace, v}
		delete(s.index[ik], k.Name)
		if len(s.index[ik]) == 0 {
			delete(s.index, ik)
		}
	}
	if v, ok := newLabels[IndexLabel]; ok {
		ik := indexKey{k.GVR, k.Namespace, v}
		if s.index[ik] == nil {
			s.index[ik] = map[string]bool{}
		}
		s.index[ik][k.Name] = true
	}
}

func (s *Store) emit(e Event) {
	for _, fn := range s.onWrite {
		fn(e)
	}
}

// Apply is server-side apply as the model does it: create the object, or
// merge the desired fields into the live one: maps merge key by key, lists
// and scalars are replaced, and fields others set (a Service's clusterIP, the
// status) stay. Applying what is already there writes nothing.
func (s *Store) Apply(k Key, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	live, err := s.Get(k)
	if apierrors.IsNotFound(err) {
		return s.Create(k, desired)
	}
	if err != nil {
		return nil, err
	}
	merged := live.DeepCopy()
	for key, v := range desired.Object {
		if key == "metadata" || key == "status" {
			continue
		}
		merged.Object[key] = mergeValue(merged.Object[key], v)
	}
	merged.SetLabels(union(live.GetLabels(), desired.GetLabels()))
	merged.SetAnnotations(union(live.GetAnnotations(), desired.GetAnnotations()))
	if f, ok, _ := unstructured.NestedStringSlice(desired.Object, "metadata", "finalizers"); ok {
		merged.SetFinalizers(f)
	}
	return s.Update(k, merged, false)
}

func union(a, b map[string]string) map[string]string {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// mergeValue merges desired into live: maps recursively, anything else replaced.
func mergeValue(live, desired any) any {
	dm, ok1 := desired.(map[string]any)
	lm, ok2 := live.(map[string]any)
	if !ok1 || !ok2 {
		return runtime.DeepCopyJSONValue(desired)
	}
	for k, v := range dm {
		lm[k] = mergeValue(lm[k], v)
	}
	return lm
}
