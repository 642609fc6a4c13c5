package kro

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/krosim/krosim/model"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestSpineRendersLikeAWholeClone renders every resource of the example
// RGDs both ways: the spine's copy equals a whole clone, and writing every
// templated field, the namespace and the labels into it leaves the template
// as it was.
func TestSpineRendersLikeAWholeClone(t *testing.T) {
	files, err := filepath.Glob("../../testdata/rgd/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example RGDs: %v", err)
	}
	resources := 0
	for _, f := range files {
		rgds, err := model.LoadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range rgds {
			for _, r := range g.Resources {
				before := model.Clone(r.Template)
				s := newSpine(r)
				got := s.render(r, nil)
				if !reflect.DeepEqual(got, before) {
					t.Errorf("%s: %s: the spine's copy differs from a whole clone", f, r.ID)
				}
				for _, fl := range r.Fields {
					fl.Path.Set(got, map[string]any{"written": true})
				}
				obj := &unstructured.Unstructured{Object: got}
				obj.SetNamespace("elsewhere")
				obj.SetLabels(map[string]string{"a": "b"})
				if !reflect.DeepEqual(r.Template, before) {
					t.Errorf("%s: %s: rendering into the spine's copy changed the template", f, r.ID)
				}
				resources++
			}
		}
	}
	if resources < 10 {
		t.Errorf("only %d resources checked", resources)
	}
}
