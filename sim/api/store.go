package api

import (
	"fmt"
	"iter"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/krosim/krosim/sim/verb"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
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
	Generation    int64
	OldGeneration int64
	Object        *unstructured.Unstructured // the object after the write (before, for DELETED)
}

// Label is the value of the object's label k ("" without one).
func (e Event) Label(k string) string {
	v, _ := label(e.Object, k)
	return v
}

// Meta is obj's metadata.<field> as its getter reads it (GetName for
// "name", GetNamespace, GetResourceVersion, ...), in place: "" when
// metadata is not a map or the field is absent or not a string. The getters
// go through unstructured.NestedString, whose path walk costs more than
// the read on the paths every request takes.
func Meta(obj *unstructured.Unstructured, field string) string {
	md, _ := obj.Object["metadata"].(map[string]any)
	s, _ := md[field].(string)
	return s
}

// Generation is obj.GetGeneration() read in place: metadata.generation
// when it is an int64, else 0.
func Generation(obj *unstructured.Unstructured) int64 {
	md, _ := obj.Object["metadata"].(map[string]any)
	g, _ := md["generation"].(int64)
	return g
}

// label reads obj's label k without copying its labels (GetLabels would).
func label(obj *unstructured.Unstructured, k string) (string, bool) {
	if obj == nil {
		return "", false
	}
	md, _ := obj.Object["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	v, ok := labels[k].(string)
	return v, ok
}

// Store holds the cluster's objects in a client-go testing.ObjectTracker,
// behind client-go's fake reactor chain, and keeps what a real server adds:
// resource versions, generations, graceful deletion with finalizers, a label
// index for LIST, and watch events. Every write goes through the tracker,
// which keeps each object once; the store reads the tracker's objects
// directly, because reading through the fake interface deep-copies every
// object and would cap the simulator at a fraction of its speed. Stored
// objects are immutable: a write replaces them (sharing unchanged subtrees),
// and equal data of different objects is kept once (interned), so what Get
// returns must not be modified. Its methods take no virtual time;
// Client charges time around them.
type Store struct {
	tr       *tracker
	intern   *interner
	fake     *k8stesting.Fake
	rv       int64
	uid      int64
	uids     uids
	index    map[indexKey][]string // names, sorted
	onWrite  []func(Event)
	admit    []func(v verb.Verb, obj *unstructured.Unstructured)
	now      func() time.Duration
	maxObjs  int
	gvrCache map[schema.GroupVersionKind]schema.GroupVersionResource
	held     func(Key) int // see Hold
}

type indexKey struct {
	gvr, ns int32 // the tracker's numbers
	value   string
}

// NewStore returns an empty store whose timestamps come from now.
func NewStore(now func() time.Duration) *Store {
	s := &Store{
		index:    map[indexKey][]string{},
		now:      now,
		gvrCache: map[schema.GroupVersionKind]schema.GroupVersionResource{},
		intern:   newInterner(),
	}
	s.tr = newTracker(s.GVR)
	s.fake = &k8stesting.Fake{}
	s.fake.AddReactor("*", "*", k8stesting.ObjectReaction(s.tr))
	return s
}

// OnWrite registers a handler for every successful write, called synchronously.
func (s *Store) OnWrite(fn func(Event)) { s.onWrite = append(s.onWrite, fn) }

// Admit registers a mutating admission hook run on create and update. The
// object's top level and metadata are the hook's to modify; what is below
// may be the caller's, so the hook replaces it rather than modify it.
func (s *Store) Admit(fn func(v verb.Verb, obj *unstructured.Unstructured)) {
	s.admit = append(s.admit, fn)
}

// Objects is the number of objects stored; MaxObjects the most ever stored at once.
func (s *Store) Objects() int    { return len(s.tr.objs) }
func (s *Store) MaxObjects() int { return s.maxObjs }

// Tracker is the object tracker that holds the cluster state.
func (s *Store) Tracker() k8stesting.ObjectTracker { return s.tr }

// Fake is client-go's fake whose reactor chain serves actions from the
// tracker: what a client-go fake clientset of this cluster would see.
func (s *Store) Fake() *k8stesting.Fake { return s.fake }

// All is every stored object with its key, in no order: for what does not
// depend on it, without sorting a million keys (see Keys). The objects
// must not be modified.
func (s *Store) All() iter.Seq2[Key, *unstructured.Unstructured] {
	return func(yield func(Key, *unstructured.Unstructured) bool) {
		for sl, st := range s.tr.objs {
			if !yield(s.tr.key(sl), st.obj) {
				return
			}
		}
	}
}

// MetaString is obj's metadata.<field>[k] (field "labels" or "annotations")
// as GetLabels()[k] or GetAnnotations()[k] reads it, in place: "" when
// absent or null, and when a value is not a string (they fail then).
func MetaString(obj *unstructured.Unstructured, field, k string) string {
	md, _ := obj.Object["metadata"].(map[string]any)
	all, _ := md[field].(map[string]any)
	for _, v := range all {
		if _, ok := v.(string); !ok && v != nil {
			return ""
		}
	}
	v, _ := all[k].(string)
	return v
}

// Keys returns the key of every stored object, sorted.
func (s *Store) Keys() []Key {
	type named struct {
		k Key
		s string
	}
	all := make([]named, 0, len(s.tr.objs))
	for sl := range s.tr.objs {
		k := s.tr.key(sl)
		all = append(all, named{k, k.String()})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s < all[j].s })
	keys := make([]Key, len(all))
	for i, n := range all {
		keys[i] = n.k
	}
	return keys
}

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

// Get returns the object. It is shared and must not be modified.
func (s *Store) Get(k Key) (*unstructured.Unstructured, error) {
	if st, ok := s.tr.get(k); ok {
		return st.obj, nil
	}
	return nil, apierrors.NewNotFound(k.GVR.GroupResource(), k.Name)
}

// List returns the objects in namespace ns whose labels match selector,
// which must include IndexLabel, sorted by name. They must not be modified.
func (s *Store) List(gvr schema.GroupVersionResource, ns string, selector map[string]string) ([]*unstructured.Unstructured, error) {
	v, ok := selector[IndexLabel]
	if !ok {
		return nil, fmt.Errorf("list %s: the model indexes LISTs by %s; selector %v lacks it", gvr.Resource, IndexLabel, selector)
	}
	var out []*unstructured.Unstructured
	for _, n := range s.indexed(gvr, ns, v) {
		obj, _ := s.Get(Key{gvr, ns, n})
		if matches(obj, selector) {
			out = append(out, obj)
		}
	}
	return out, nil
}

func matches(obj *unstructured.Unstructured, selector map[string]string) bool {
	for k, v := range selector {
		if l, _ := label(obj, k); l != v {
			return false
		}
	}
	return true
}

// SizeOf is the encoded size of the object at k, in bytes (0 when absent).
func (s *Store) SizeOf(k Key) int {
	st, ok := s.tr.get(k)
	if !ok {
		return 0
	}
	if s.held != nil {
		return int(st.size) + s.held(k)
	}
	return int(st.size)
}

// Hold makes SizeOf count held(k) bytes more of every stored object: what
// a real server holds on it beyond what the store renders (target's
// server.instance_bytes and server.object_bytes).
func (s *Store) Hold(held func(k Key) int) { s.held = held }

// SizeOfStatusWrite is the encoded size of next, a copy of cur with
// another status (a status write's body), in bytes: from cur's stored
// size when cur is the object stored at k, walking next's status alone;
// else by walking next.
func (s *Store) SizeOfStatusWrite(k Key, cur, next *unstructured.Unstructured) int {
	if st, ok := s.tr.get(k); ok && st.obj == cur {
		return int(st.withStatus(next, -1).size)
	}
	return Size(next.Object)
}

// Count is the number of objects a LIST with selector's index label would scan.
func (s *Store) Count(gvr schema.GroupVersionResource, ns string, selector map[string]string) int {
	return len(s.indexed(gvr, ns, selector[IndexLabel]))
}

// indexed are the names of the objects of gvr in ns whose IndexLabel is
// value, sorted. They must not be modified.
func (s *Store) indexed(gvr schema.GroupVersionResource, ns, value string) []string {
	sl, ok := s.tr.slot(Key{GVR: gvr, Namespace: ns})
	if !ok {
		return nil
	}
	return s.index[indexKey{sl.gvr, sl.ns, value}]
}

// Create stores a new object.
func (s *Store) Create(k Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if _, ok := s.tr.get(k); ok {
		return nil, apierrors.NewAlreadyExists(k.GVR.GroupResource(), k.Name)
	}
	obj = shallow(obj) // what is below its metadata is interned, never kept
	obj.SetNamespace(k.Namespace)
	obj.SetName(k.Name)
	for _, fn := range s.admit {
		fn(verb.Create, obj)
	}
	s.uid++
	if md, ok := obj.Object["metadata"].(map[string]any); ok {
		md["uid"] = s.uids.next(s.uid)
	} else {
		obj.SetUID(types.UID(uidOf(s.uid)))
	}
	obj.SetGeneration(1)
	s.stamp(obj)
	obj.SetCreationTimestamp(metav1.NewTime(epoch.Add(s.now())))
	m := s.share(obj, nil, false)
	// The tables below key it by its stored name, shared with the objects
	// of the same name (see interner) rather than the caller's copy.
	k.Name = Meta(obj, "name")
	if err := s.tr.create(k.GVR, obj, k.Namespace, m.stored(obj)); err != nil {
		return nil, err
	}
	s.maxObjs = max(s.maxObjs, len(s.tr.objs))
	s.reindex(k, nil, obj)
	s.emit(Event{Type: "ADDED", Key: k, Generation: 1, Object: obj})
	return obj, nil
}

// epoch is virtual time zero as a wall-clock date, for timestamps in objects.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// uidOf is the UID of the n-th object created: what
// fmt.Sprintf("00000000-0000-0000-0000-%012d", n) formats.
func uidOf(n int64) string { return string(appendUID(nil, n)) }

// share makes obj, about to be stored, share its data with the objects
// stored before (see interner); prev is the version it replaces (nil for
// none), whose data obj may hold already. It returns what it measured of
// obj.
func (s *Store) share(obj, prev *unstructured.Unstructured, owned bool) measure {
	s.intern.reset(len(s.tr.objs))
	var p map[string]any
	if prev != nil {
		p = prev.Object
	}
	var m measure
	obj.Object, m = s.intern.object(obj.Object, p, owned)
	return m
}

// Shared is the store's shared copy of v (see interner), or v when it has
// none: a caller keeping a string equal to stored data (a name, in a
// table of its own) keeps one copy of it with this.
func (s *Store) Shared(v string) string {
	if b, ok := s.intern.strs[v]; ok {
		return b.(string)
	}
	return v
}

// SharedBytes is Shared(string(b)), without making the string when the
// store has it: a string a caller builds again and again (a name a
// template renders in every reconcile) is then the stored one, which costs
// no allocation.
func (s *Store) SharedBytes(b []byte) string {
	if v, ok := s.intern.strs[string(b)]; ok {
		return v.(string)
	}
	return string(b)
}

// Revision is the store's newest revision (etcd's): every write moves it.
func (s *Store) Revision() int64 { return s.rv }

func (s *Store) stamp(obj *unstructured.Unstructured) {
	s.rv++
	obj.SetResourceVersion(strconv.FormatInt(s.rv, 10))
}

// Update replaces an object (status false) or only its status (status true).
// The generation moves when anything but metadata and status changes; an
// update that changes nothing writes nothing. Removing the last finalizer of
// an object being deleted deletes it. obj is not retained.
func (s *Store) Update(k Key, obj *unstructured.Unstructured, status bool) (*unstructured.Unstructured, error) {
	return s.update(k, obj, status, false)
}

// update is Update; owned says obj is the store's own, fresh object, which
// it may keep without copying.
func (s *Store) update(k Key, obj *unstructured.Unstructured, status, owned bool) (*unstructured.Unstructured, error) {
	old, err := s.Get(k)
	if err != nil {
		return nil, err
	}
	var next *unstructured.Unstructured
	if status {
		st, hasStatus := obj.Object["status"]
		if equal(st, old.Object["status"]) {
			return old, nil
		}
		next = shallow(old)
		owned = false // the status is the caller's
		if hasStatus {
			next.Object["status"] = st
		} else {
			delete(next.Object, "status")
		}
	} else {
		next = obj
		if !owned {
			next = shallow(obj) // what is below its metadata is interned, never kept
		}
		for _, fn := range s.admit {
			fn(verb.Update, next)
		}
		// A main-resource write cannot change status.
		if st, ok := old.Object["status"]; ok {
			next.Object["status"] = st
		} else {
			delete(next.Object, "status")
		}
		keepMeta(next, old)
		if !specEqual(old.Object, next.Object) {
			next.SetGeneration(Generation(old) + 1)
		} else if equal(old.Object["metadata"], next.Object["metadata"]) {
			return old, nil
		}
	}
	if Deleting(old) && len(next.GetFinalizers()) == 0 {
		return next, s.remove(k, old)
	}
	return s.commit(k, old, next, owned, status)
}

// commit stores next in place of old and tells the watchers. owned says
// what is below next's metadata is the store's own to keep (see share);
// status that next is old with another status (see tracker.update).
func (s *Store) commit(k Key, old, next *unstructured.Unstructured, owned, status bool) (*unstructured.Unstructured, error) {
	s.stamp(next)
	m := s.share(next, old, owned)
	if err := s.tr.update(k.GVR, k.Namespace, next, status, m); err != nil {
		return nil, err
	}
	s.reindex(k, old, next)
	s.emit(Event{Type: "MODIFIED", Key: k, Generation: Generation(next),
		OldGeneration: Generation(old), Object: next})
	return next, nil
}

// keepMeta sets next's UID, timestamps, resource version and generation to
// old's: what next.SetUID(old.GetUID()) and the same for the others do.
// A value old stores as its getter reads it (a string; an int64) is copied
// as stored: nothing boxed again, no path walked, and the creation
// timestamp (which Create wrote in its canonical form) not parsed and
// formatted again; nothing is parsed when old is not deleting (parsing
// nothing allocates too). next's metadata is the store's copy.
func keepMeta(next, old *unstructured.Unstructured) {
	oldMD, _ := old.Object["metadata"].(map[string]any)
	md, _ := next.Object["metadata"].(map[string]any)
	if _, ok := oldMD["uid"].(string); !keepStored(md, oldMD, "uid", ok) {
		next.SetUID(old.GetUID())
	}
	if _, ok := oldMD["creationTimestamp"].(string); !keepStored(md, oldMD, "creationTimestamp", ok) {
		next.SetCreationTimestamp(old.GetCreationTimestamp())
	}
	if oldMD["deletionTimestamp"] != nil {
		next.SetDeletionTimestamp(old.GetDeletionTimestamp())
	} else {
		next.SetDeletionTimestamp(nil)
	}
	if _, ok := oldMD["resourceVersion"].(string); !keepStored(md, oldMD, "resourceVersion", ok) {
		next.SetResourceVersion(Meta(old, "resourceVersion"))
	}
	if _, ok := oldMD["generation"].(int64); !keepStored(md, oldMD, "generation", ok) {
		next.SetGeneration(Generation(old))
	}
}

// keepStored sets md[field] to oldMD[field] when that is what the field's
// getter reads (typed) and md is a map, and reports whether it did.
func keepStored(md, oldMD map[string]any, field string, typed bool) bool {
	if !typed || md == nil {
		return false
	}
	md[field] = oldMD[field]
	return true
}

// Deleting reports whether obj.GetDeletionTimestamp() != nil, without its
// allocation when the object has none (the common case: it returns a
// new *metav1.Time, or nil after parsing nothing).
func Deleting(obj *unstructured.Unstructured) bool {
	if md, ok := obj.Object["metadata"].(map[string]any); ok && md["deletionTimestamp"] == nil {
		return false
	}
	return obj.GetDeletionTimestamp() != nil
}

// shallow copies an object's top level and metadata, sharing everything else.
func shallow(o *unstructured.Unstructured) *unstructured.Unstructured {
	top := make(map[string]any, len(o.Object))
	for k, v := range o.Object {
		top[k] = v
	}
	if md, ok := o.Object["metadata"].(map[string]any); ok {
		m := make(map[string]any, len(md))
		for k, v := range md {
			m[k] = v
		}
		top["metadata"] = m
	}
	return &unstructured.Unstructured{Object: top}
}

// specEqual compares everything but metadata and status.
func specEqual(a, b map[string]any) bool {
	for k, v := range a {
		if k == "metadata" || k == "status" {
			continue
		}
		if !equal(v, b[k]) {
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
	if Deleting(old) {
		return nil
	}
	next := shallow(old)
	t := metav1.NewTime(epoch.Add(s.now()))
	next.SetDeletionTimestamp(&t)
	next.SetGeneration(Generation(old) + 1) // as the API server does for graceful deletion
	_, err = s.commit(k, old, next, true, false)
	return err
}

func (s *Store) remove(k Key, old *unstructured.Unstructured) error {
	if err := s.tr.Delete(k.GVR, k.Namespace, k.Name); err != nil {
		return err
	}
	s.rv++ // a deletion is a revision too
	s.reindex(k, old, nil)
	s.emit(Event{Type: "DELETED", Key: k, Generation: Generation(old),
		OldGeneration: Generation(old), Object: old})
	return nil
}

// reindex moves k in the label index from old's IndexLabel to next's (either nil).
func (s *Store) reindex(k Key, old, next *unstructured.Unstructured) {
	ov, oldOK := label(old, IndexLabel)
	nv, newOK := label(next, IndexLabel)
	if oldOK && newOK && ov == nv {
		return
	}
	sl := s.tr.newSlot(k)
	if oldOK {
		ik := indexKey{sl.gvr, sl.ns, ov}
		names := s.index[ik]
		if i, found := slices.BinarySearch(names, k.Name); found {
			names = slices.Delete(names, i, i+1)
		}
		if len(names) == 0 {
			delete(s.index, ik)
		} else {
			s.index[ik] = names
		}
	}
	if newOK {
		ik := indexKey{sl.gvr, sl.ns, nv}
		names := s.index[ik]
		if i, found := slices.BinarySearch(names, k.Name); !found {
			s.index[ik] = slices.Insert(names, i, k.Name)
		}
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
	st, ok := s.tr.get(k)
	if !ok {
		return s.Create(k, desired)
	}
	live := st.obj
	var fin []string
	hasFin := false
	if md, _ := desired.Object["metadata"].(map[string]any); md["finalizers"] != nil {
		fin, hasFin, _ = unstructured.NestedStringSlice(desired.Object, "metadata", "finalizers")
	}
	if !applyChanges(live, desired, fin, hasFin) {
		return live, nil
	}
	// live is stored, so immutable: the merge copies the maps it writes to
	// and shares the rest, which the store then need not intern again.
	merged := shallow(live)
	for key, v := range desired.Object {
		if key == "metadata" || key == "status" {
			continue
		}
		merged.Object[key] = mergeValue(live.Object[key], v)
	}
	for _, f := range [...]string{"labels", "annotations"} {
		mergeStringMap(merged, live, desired, f)
	}
	if hasFin {
		merged.SetFinalizers(fin)
	}
	return s.update(k, merged, false, true)
}

// applyChanges reports whether applying desired would change live.
func applyChanges(live, desired *unstructured.Unstructured, fin []string, hasFin bool) bool {
	for key, v := range desired.Object {
		if key == "metadata" || key == "status" {
			continue
		}
		if changes(live.Object[key], v) {
			return true
		}
	}
	if hasFin && !equal(live.GetFinalizers(), fin) && !(len(fin) == 0 && len(live.GetFinalizers()) == 0) {
		return true
	}
	// What unstructured.NestedFieldNoCopy(obj, "metadata", f) reads, in place.
	wantMD, _ := desired.Object["metadata"].(map[string]any)
	haveMD, _ := live.Object["metadata"].(map[string]any)
	return changes(haveMD["labels"], wantMD["labels"]) || changes(haveMD["annotations"], wantMD["annotations"])
}

// changes reports whether merging desired into live changes live.
func changes(live, desired any) bool {
	dm, ok1 := desired.(map[string]any)
	lm, ok2 := live.(map[string]any)
	if ok1 && ok2 {
		for k, v := range dm {
			if changes(lm[k], v) {
				return true
			}
		}
		return false
	}
	if desired == nil {
		return false
	}
	return !equal(live, desired)
}

// mergeStringMap sets merged's metadata.<field> (labels or annotations) to
// the union of live's and desired's, desired's winning: what
// merged.SetLabels(union(live.GetLabels(), desired.GetLabels())) does, and
// the same for annotations, without converting to map[string]string and
// back (a null value reads as "", and a map holding a value that is not a
// string reads as none). merged's metadata is the store's copy. The union is
// sized exactly: the store keeps it.
func mergeStringMap(merged, live, desired *unstructured.Unstructured, field string) {
	md, ok := merged.Object["metadata"].(map[string]any)
	a, aOK := stringMap(live, field)
	b, bOK := stringMap(desired, field)
	if !ok || !aOK || !bOK {
		get := (*unstructured.Unstructured).GetLabels
		set := (*unstructured.Unstructured).SetLabels
		if field == "annotations" {
			get, set = (*unstructured.Unstructured).GetAnnotations, (*unstructured.Unstructured).SetAnnotations
		}
		set(merged, union(get(live), get(desired)))
		return
	}
	n := len(a)
	for k := range b {
		if _, ok := a[k]; !ok {
			n++
		}
	}
	if n == 0 {
		delete(md, field)
		return
	}
	out := make(map[string]any, n)
	for _, m := range []map[string]any{a, b} {
		for k, v := range m {
			if v == nil {
				v = ""
			}
			out[k] = v
		}
	}
	md[field] = out
}

// stringMap is obj's metadata.<field> when it is a map of strings (or
// nulls) or absent (nil), and false when GetLabels would not read it so:
// a value that is not a string, or metadata that is not a map.
func stringMap(obj *unstructured.Unstructured, field string) (map[string]any, bool) {
	raw, present := obj.Object["metadata"]
	if !present || raw == nil {
		return nil, true
	}
	md, ok := raw.(map[string]any)
	if !ok {
		return nil, false
	}
	v := md[field]
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	for _, e := range m {
		if _, isString := e.(string); !isString && e != nil {
			return nil, false
		}
	}
	return m, true
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

// mergeValue merges desired into live: maps recursively, anything else
// replaced. It never modifies live: the maps it writes to are copies, the
// rest is shared; what comes from desired is a deep copy.
func mergeValue(live, desired any) any {
	dm, ok1 := desired.(map[string]any)
	lm, ok2 := live.(map[string]any)
	if !ok1 || !ok2 {
		return runtime.DeepCopyJSONValue(desired)
	}
	n := len(lm) // sized exactly: the store may keep it
	for k := range dm {
		if _, ok := lm[k]; !ok {
			n++
		}
	}
	out := make(map[string]any, n)
	for k, v := range lm {
		out[k] = v
	}
	for k, v := range dm {
		out[k] = mergeValue(lm[k], v)
	}
	return out
}

// Equal compares unstructured data as JSON values: on the types
// unstructured objects hold it is what equality.Semantic.DeepEqual says
// (a nil map or list equals an empty one), without reflection.
func Equal(a, b any) bool { return equal(a, b) }

// equal is Equal; it is reflect.DeepEqual for the types unstructured
// objects hold, without reflection.
func equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		if identical(a, b) {
			return true // the same map: the store shares what it interns
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		if len(x) > 0 && &x[0] == &y[0] {
			return true
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case nil:
		return b == nil
	}
	return reflect.DeepEqual(a, b)
}

// How Size counts a map or list: its brackets, each entry's key, quotes,
// colon and comma with the size of its value, each item's comma with its
// size. Sizing a map or list piece by piece adds these up the same way.
const SizeBrackets = 2

// SizeEntry is what a map entry of key k and a value of size v adds.
func SizeEntry(k string, v int) int { return len(k) + 4 + v }

// SizeItem is what a list item of size v adds.
func SizeItem(v int) int { return 1 + v }

// Size estimates the JSON size of unstructured data in bytes: the unit of a
// client's encoding cost.
func Size(x any) int {
	switch v := x.(type) {
	case map[string]any:
		n := SizeBrackets
		for k, e := range v {
			n += SizeEntry(k, Size(e))
		}
		return n
	case []any:
		n := SizeBrackets
		for _, e := range v {
			n += SizeItem(Size(e))
		}
		return n
	case string:
		return len(v) + 2
	case nil:
		return 4
	case bool:
		return 5
	}
	return 8
}
