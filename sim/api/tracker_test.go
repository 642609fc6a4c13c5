package api

import (
	"math/rand/v2"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8stesting "k8s.io/client-go/testing"
)

// TestTrackerHoldsEachObjectOnce checks that the store keeps one copy of an
// object, in its tracker, and that client-go's fake reactor chain reads it
// through the tracker as copies a caller may modify.
func TestTrackerHoldsEachObjectOnce(t *testing.T) {
	s := NewStore(func() time.Duration { return 0 })
	key := Key{cmGVR, "ns", "a"}
	stored, err := s.Create(key, configMap("a", map[string]any{IndexLabel: "inst"}, map[string]any{"k": "v"}))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(key)
	if got != stored || s.tr.objs[slot{0, 0, "a"}].obj != stored {
		t.Error("the store's read and the tracker hold different copies")
	}
	ret, err := s.Fake().Invokes(k8stesting.NewGetAction(cmGVR, "ns", "a"), nil)
	if err != nil {
		t.Fatalf("get through the fake's reactor chain: %v", err)
	}
	u := ret.(*unstructured.Unstructured)
	if u.GetResourceVersion() != stored.GetResourceVersion() || u.Object["data"].(map[string]any)["k"] != "v" {
		t.Errorf("the fake read %v, want the stored object", u.Object)
	}
	u.Object["data"].(map[string]any)["k"] = "changed"
	if stored.Object["data"].(map[string]any)["k"] != "v" {
		t.Error("modifying what the fake returned changed the stored object")
	}
	list, err := s.Fake().Invokes(k8stesting.NewListAction(cmGVR, cmGVR.GroupVersion().WithKind("ConfigMap"), "ns", metav1.ListOptions{}), nil)
	if err != nil {
		t.Fatalf("list through the fake's reactor chain: %v", err)
	}
	if items := list.(*unstructured.UnstructuredList).Items; len(items) != 1 || items[0].GetName() != "a" {
		t.Errorf("the fake listed %d objects, want a", len(items))
	}
	if err := s.Delete(key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fake().Invokes(k8stesting.NewGetAction(cmGVR, "ns", "a"), nil); err == nil {
		t.Error("the fake still reads the deleted object")
	}
}

// TestStoredSizeIsTheWalkedSize writes random objects through the store,
// as creates, status and main-resource updates, applies and deletions,
// and checks after each write that the size the tracker keeps (derived
// from the previous version's on an update) is what walking the stored
// object gives, and before a status update that SizeOfStatusWrite is too.
func TestStoredSizeIsTheWalkedSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string { return []string{"a", "bb", "ccc", "a-much-longer-value"}[rng.IntN(4)] }
	var value func(depth int) any
	value = func(depth int) any {
		switch n := rng.IntN(7); {
		case n == 0 && depth < 3:
			m := map[string]any{}
			for range rng.IntN(4) {
				m[word()] = value(depth + 1)
			}
			return m
		case n == 1 && depth < 3:
			l := make([]any, rng.IntN(3))
			for i := range l {
				l[i] = value(depth + 1)
			}
			return l
		case n == 2:
			return int64(rng.IntN(1000))
		case n == 3:
			return nil
		case n == 4:
			return rng.IntN(2) == 0
		}
		return word()
	}
	object := func(name string) *unstructured.Unstructured {
		u := configMap(name, map[string]any{IndexLabel: word(), word(): word()}, map[string]any{word(): value(0)})
		if rng.IntN(2) == 0 {
			u.Object["spec"] = value(0)
		}
		if rng.IntN(3) == 0 {
			u.SetFinalizers([]string{"f"})
		}
		return u
	}
	s := NewStore(func() time.Duration { return 0 })
	names := []string{"a", "b", "c"}
	for i := 0; i < 2000; i++ {
		k := Key{cmGVR, "ns", names[rng.IntN(len(names))]}
		if rng.IntN(4) == 0 {
			s.rv = rng.Int64N(1 << 40) // resource versions of every length
		}
		live, err := s.Get(k)
		switch op := rng.IntN(5); {
		case err != nil:
			_, err = s.Create(k, object(k.Name))
		case op == 0:
			next := shallow(live)
			if rng.IntN(4) == 0 {
				delete(next.Object, "status")
			} else {
				next.Object["status"] = value(0)
			}
			if n := s.SizeOfStatusWrite(k, live, next); n != Size(next.Object) {
				t.Fatalf("write %d: SizeOfStatusWrite is %d, walked %d", i, n, Size(next.Object))
			}
			_, err = s.Update(k, next, true)
		case op == 1:
			next := shallow(live)
			next.Object["data"] = map[string]any{word(): value(0)}
			if rng.IntN(2) == 0 {
				next.SetLabels(map[string]string{IndexLabel: word()})
			}
			if rng.IntN(3) == 0 {
				next.SetFinalizers(nil)
			}
			_, err = s.Update(k, next, false)
		case op == 2:
			_, err = s.Apply(k, object(k.Name))
		case op == 3:
			err = s.Delete(k)
		default:
			_, err = s.Update(k, object(k.Name), false)
		}
		if err != nil {
			t.Fatalf("write %d to %s: %v", i, k, err)
		}
		for _, n := range names {
			k := Key{cmGVR, "ns", n}
			if obj, err := s.Get(k); err == nil && s.SizeOf(k) != Size(obj.Object) {
				t.Fatalf("after write %d: %s is stored at size %d, walked %d", i, k, s.SizeOf(k), Size(obj.Object))
			}
		}
	}
}
