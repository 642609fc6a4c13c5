package cluster

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestExternalsAreCreatedOnce: items sharing an external (an externalRef's
// object) create it once per run, as the simulated workload does; the items
// that wait for it share its outcome, and another object is made apart.
func TestExternalsAreCreatedOnce(t *testing.T) {
	obj := func(name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("standin.krosim.dev/v1")
		u.SetKind("StandinConfigMap")
		u.SetNamespace("krosim-shared")
		u.SetName(name)
		return u
	}
	var x externals
	var made atomic.Int32
	fail := errors.New("refused")
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = x.create(obj("platform"), func() error { made.Add(1); return fail })
		}()
	}
	wg.Wait()
	if n := made.Load(); n != 1 {
		t.Errorf("the shared external was made %d times, want once", n)
	}
	for i, err := range errs {
		if !errors.Is(err, fail) {
			t.Errorf("item %d: %v, want the creation's error", i, err)
		}
	}
	if err := x.create(obj("other"), func() error { made.Add(1); return nil }); err != nil || made.Load() != 2 {
		t.Errorf("another external: %v, made %d times in all, want 2", err, made.Load())
	}
}
