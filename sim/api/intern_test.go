package api

import (
	"fmt"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func deployment(name, image string) map[string]any {
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": "ns", "labels": map[string]any{"app": name}},
		"spec": map[string]any{"replicas": int64(2), "paused": false, "ratio": 0.5, "nothing": nil,
			"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "app", "image": image, "args": []any{}},
			}}}},
	}
}

func mapPtr(m any) uintptr { return reflect.ValueOf(m).Pointer() }

// TestStoreSharesEqualData checks that objects stored with equal subtrees
// share them from the second on (the first keeps its own: see interner),
// that different data stays apart, and that what is stored equals what was
// written.
func TestStoreSharesEqualData(t *testing.T) {
	s := NewStore(func() time.Duration { return 0 })
	gvr := s.GVR("apps/v1", "Deployment")
	var stored []map[string]any
	for _, tc := range []struct{ name, image string }{{"a", "nginx"}, {"b", "nginx"}, {"c", "nginx"}, {"d", "redis"}} {
		want := deployment(tc.name, tc.image)
		got, err := s.Create(Key{gvr, "ns", tc.name}, &unstructured.Unstructured{Object: runtime.DeepCopyJSONValue(want).(map[string]any)})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"apiVersion", "kind", "spec"} {
			if !equal(got.Object[f], want[f]) {
				t.Errorf("%s: stored %s %v, written %v", tc.name, f, got.Object[f], want[f])
			}
		}
		stored = append(stored, got.Object)
	}
	a, b, c := stored[1]["spec"], stored[2]["spec"], stored[3]["spec"]
	if mapPtr(a) != mapPtr(b) {
		t.Error("equal specs of the second and third objects are stored twice")
	}
	if mapPtr(a) == mapPtr(c) {
		t.Error("different specs share one map")
	}
	containers := func(spec any) []any {
		return spec.(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
	}
	if &containers(a)[0] == &containers(c)[0] {
		t.Error("lists of different containers share one backing array")
	}
	if equal(a, c) {
		t.Error("different specs compare equal")
	}
	// Labels differ by name; the metadata maps are each object's own.
	if mapPtr(stored[0]["metadata"]) == mapPtr(stored[1]["metadata"]) {
		t.Error("two objects share their metadata")
	}
}

// TestInternerKeepsTypesApart checks that equal-looking values of
// different JSON types, nil and empty containers are never merged.
func TestInternerKeepsTypesApart(t *testing.T) {
	in := newInterner()
	vals := []any{int64(1), float64(1), "1", true, nil,
		map[string]any(nil), map[string]any{}, []any(nil), []any{},
		map[string]any{"k": int64(1)}, map[string]any{"k": float64(1)}, map[string]any{"k": "1"},
		[]any{int64(1), "1"}, []any{"1", int64(1)}}
	var got []any
	for _, v := range vals {
		in.value(runtime.DeepCopyJSONValue(v), true) // seen once: not interned yet
		c, _, _ := in.value(runtime.DeepCopyJSONValue(v), true)
		got = append(got, c)
	}
	for i := range vals {
		if !reflect.DeepEqual(got[i], vals[i]) {
			t.Errorf("interned %#v as %#v", vals[i], got[i])
		}
		again, _, _ := in.value(runtime.DeepCopyJSONValue(vals[i]), false)
		if !same(again, got[i]) {
			t.Errorf("%#v interned twice is not the same value", vals[i])
		}
	}
}

// TestInternerResetBoundsTables checks that the tables are forgotten once
// they outgrow the objects stored, and kept while they do not.
func TestInternerResetBoundsTables(t *testing.T) {
	in := newInterner()
	for i := range 1<<16 + 10 {
		s := string(rune('a'+i%26)) + time.Duration(i).String()
		in.value(s, true)
		in.value(s, true) // interned when seen again
	}
	in.reset(1 << 20)
	if len(in.strs) == 0 {
		t.Fatal("reset forgot tables smaller than the objects stored")
	}
	in.reset(0)
	if len(in.strs) != 0 || in.size != 0 {
		t.Errorf("reset kept %d strings and %d values", len(in.strs), in.size)
	}
}

// TestInternerTablesWhatIsSeenAgain checks that a value seen once stays
// out of the tables and is the caller's own (copied when not owned), and
// that the second sighting interns it and the third shares it.
func TestInternerTablesWhatIsSeenAgain(t *testing.T) {
	in := newInterner()
	v := map[string]any{"k": "v", "l": []any{int64(1)}}
	first, _, _ := in.value(v, false)
	if in.size != 0 || len(in.strs) != 0 {
		t.Fatalf("a value seen once was tabled: %d maps and lists, %d strings", in.size, len(in.strs))
	}
	if !equal(first, v) || mapPtr(first) == mapPtr(v) {
		t.Error("a value seen once, not owned, is not an equal copy")
	}
	second, _, _ := in.value(runtime.DeepCopyJSONValue(v), false)
	third, _, _ := in.value(runtime.DeepCopyJSONValue(v), false)
	if in.size != 2 || len(in.strs) != 1 { // the map, its list and "v" (keys are not values)
		t.Errorf("seen again: %d maps and lists, %d strings tabled, want 2 and 1", in.size, len(in.strs))
	}
	if mapPtr(second) != mapPtr(third) || mapPtr(first) == mapPtr(second) {
		t.Error("the second and third sightings are not one shared value apart from the first")
	}
}

// TestStoreKeepsNothingOfTheCallers checks that what a caller writes is
// copied where new, so modifying it afterwards (as a caller may: the store
// documents that obj is not retained) changes nothing stored.
func TestStoreKeepsNothingOfTheCallers(t *testing.T) {
	s := NewStore(func() time.Duration { return 0 })
	gvr := s.GVR("apps/v1", "Deployment")
	for i, write := range []func(obj *unstructured.Unstructured) error{
		func(obj *unstructured.Unstructured) error { _, err := s.Create(Key{gvr, "ns", "a"}, obj); return err },
		func(obj *unstructured.Unstructured) error {
			_, err := s.Update(Key{gvr, "ns", "a"}, obj, false)
			return err
		},
		func(obj *unstructured.Unstructured) error {
			_, err := s.Update(Key{gvr, "ns", "a"}, obj, true)
			return err
		},
	} {
		obj := &unstructured.Unstructured{Object: deployment("a", fmt.Sprintf("image-%d", i))}
		obj.Object["status"] = map[string]any{"replicas": int64(i), "conditions": []any{map[string]any{"type": "x"}}}
		if err := write(obj); err != nil {
			t.Fatal(err)
		}
		stored, _ := s.Get(Key{gvr, "ns", "a"})
		before := runtime.DeepCopyJSONValue(stored.Object)
		spec := obj.Object["spec"].(map[string]any)
		spec["replicas"] = int64(99)
		spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"] = "changed"
		obj.Object["status"].(map[string]any)["conditions"].([]any)[0].(map[string]any)["type"] = "changed"
		if after, _ := s.Get(Key{gvr, "ns", "a"}); !equal(after.Object, before) {
			t.Errorf("write %d: modifying the caller's object changed the stored one", i)
		}
	}
}

// TestHashStringTellsStringsApart checks that strings differing in one
// byte, or only in trailing zero bytes (which a word of the tail reads the
// same), hash apart.
func TestHashStringTellsStringsApart(t *testing.T) {
	seen := map[uint64]string{}
	add := func(s string) {
		h := hashString(seedString, s)
		if prev, ok := seen[h]; ok && prev != s {
			t.Errorf("%q and %q hash alike", prev, s)
		}
		seen[h] = s
	}
	for n := 0; n <= 24; n++ {
		b := make([]byte, n)
		add(string(b))
		for i := range b {
			c := append([]byte(nil), b...)
			c[i] = 'x'
			add(string(c))
		}
	}
}

// TestSharedBytesIsTheStoredString checks that SharedBytes returns the
// store's copy of a string it holds, and a string of the bytes otherwise.
func TestSharedBytesIsTheStoredString(t *testing.T) {
	s := NewStore(func() time.Duration { return 0 })
	gvr := s.GVR("apps/v1", "Deployment")
	for _, name := range []string{"a", "b"} {
		image := string([]byte("nginx:shared")) // each object's own copy
		if _, err := s.Create(Key{gvr, "ns", name}, &unstructured.Unstructured{Object: deployment(name, image)}); err != nil {
			t.Fatal(err)
		}
	}
	stored, _ := s.Get(Key{gvr, "ns", "b"})
	image := stored.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"].(string)
	got := s.SharedBytes([]byte("nginx:shared"))
	if got != image || unsafe.StringData(got) != unsafe.StringData(image) {
		t.Errorf("SharedBytes gave %q at %p, the store holds %q at %p", got, unsafe.StringData(got), image, unsafe.StringData(image))
	}
	if got := s.SharedBytes([]byte("never stored")); got != "never stored" {
		t.Errorf("SharedBytes of a string the store lacks gave %q", got)
	}
}

// TestInternMeasuresAsSize checks that interning an object sizes it as
// Size does: the whole object when nothing is kept from the version
// before, its status entry whenever that is interned anew, and nothing it
// kept (-1).
func TestInternMeasuresAsSize(t *testing.T) {
	withStatus := func(name string, status any) map[string]any {
		obj := deployment(name, "nginx")
		obj["metadata"].(map[string]any)["uid"] = "u-" + name
		obj["metadata"].(map[string]any)["resourceVersion"] = "7"
		obj["status"] = status
		obj["other"] = int32(3) // not JSON data: sized as Size does
		return obj
	}
	statusEntry := func(obj map[string]any) int {
		if st, ok := obj["status"]; ok {
			return SizeEntry("status", Size(st))
		}
		return 0
	}
	in := newInterner()
	var prev map[string]any
	for i, tc := range []struct {
		name   string
		obj    map[string]any
		noPrev bool
	}{
		{"new", withStatus("a", map[string]any{"ready": true, "n": int64(2), "x": nil}), true},
		{"seen again", withStatus("a", map[string]any{"ready": true, "n": int64(2), "x": nil}), true},
		{"no status", deployment("b", "redis"), true},
		{"empty maps and lists", map[string]any{"metadata": map[string]any{}, "spec": map[string]any{"l": []any{}, "m": map[string]any{}, "nl": []any(nil)}}, true},
		{"status list", withStatus("c", []any{map[string]any{"type": "Ready"}, 1.5, "s"}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := Size(tc.obj)
			out, m := in.object(shallowMap(tc.obj), nil, false)
			if m.total != want || Size(out) != want {
				t.Errorf("object %d measured %d, stored %d bytes; want %d", i, m.total, Size(out), want)
			}
			if m.status != statusEntry(tc.obj) {
				t.Errorf("object %d's status measured %d, want %d", i, m.status, statusEntry(tc.obj))
			}
			prev = out
		})
	}
	// A status write: the rest is the stored version's, kept unwalked.
	next := shallowMap(prev)
	next["status"] = []any{"new"}
	_, m := in.object(next, prev, false)
	if m.total != -1 || m.status != statusEntry(next) {
		t.Errorf("status write measured %+v, want total -1 and status %d", m, statusEntry(next))
	}
	// A write that keeps the status.
	next = shallowMap(prev)
	next["spec"] = map[string]any{"replicas": int64(3)}
	if _, m := in.object(next, prev, false); m.total != -1 || m.status != -1 {
		t.Errorf("spec write measured %+v, want -1 for both", m)
	}
}

// shallowMap is what shallow makes of an object's data: its own top level
// and metadata maps.
func shallowMap(obj map[string]any) map[string]any {
	return shallow(&unstructured.Unstructured{Object: obj}).Object
}
