package api

import (
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
