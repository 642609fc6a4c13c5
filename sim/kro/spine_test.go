package kro

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestSpineRendersLikeAWholeClone renders every resource of the example
// RGDs both ways: the spine's copy equals a whole clone, and writing every
// templated field, the namespace and the labels into it leaves the template
// as it was.
func TestSpineRendersLikeAWholeClone(t *testing.T) {
	resources := 0
	for _, c := range exampleResources(t) {
		r := c.r
		before := model.Clone(r.Template)
		s := newSpine(r)
		got := s.render(r, nil)
		if !reflect.DeepEqual(got, before) {
			t.Errorf("%s: the spine's copy differs from a whole clone", c.name)
		}
		for _, fl := range r.Fields {
			fl.Path.Set(got, map[string]any{"written": true})
		}
		obj := &unstructured.Unstructured{Object: got}
		obj.SetNamespace("elsewhere")
		obj.SetLabels(map[string]string{"a": "b"})
		if !reflect.DeepEqual(r.Template, before) {
			t.Errorf("%s: rendering into the spine's copy changed the template", c.name)
		}
		resources++
	}
	if resources < 10 {
		t.Errorf("only %d resources checked", resources)
	}
}

// namedResource is a resource to render in a test, named for messages.
type namedResource struct {
	name string
	r    *model.Resource
}

// exampleResources are the resources of every example RGD.
func exampleResources(t *testing.T) []namedResource {
	t.Helper()
	files, err := filepath.Glob("../../testdata/rgd/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example RGDs: %v", err)
	}
	var out []namedResource
	for _, f := range files {
		rgds, err := model.LoadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range rgds {
			for _, r := range g.Resources {
				out = append(out, namedResource{filepath.Base(f) + ": " + r.ID, r})
			}
		}
	}
	return out
}

// TestLayoutRendersLikePathSet renders every resource of the example RGDs,
// and templates made to trip the layout up, with a distinct value for each
// field: the layout's object equals the spine's copy with Path.Set writing
// every field in order, and the template is left as it was; the layout
// sizes it as api.Size does, before and after kro's labels.
func TestLayoutRendersLikePathSet(t *testing.T) {
	cases := exampleResources(t)
	field := func(p ...any) *model.Value { return &model.Value{Path: model.Path(p)} }
	tmpl := func() map[string]any {
		return map[string]any{
			"kind":     "Thing",
			"metadata": map[string]any{"name": "x", "labels": map[string]any{"a": "b"}},
			"spec": map[string]any{
				"list":   []any{map[string]any{"n": "1"}, "two"},
				"map":    map[string]any{"k": "v"},
				"null":   nil,
				"scalar": "s",
			},
		}
	}
	made := map[string][]*model.Value{
		"prefix":       {field("spec", "map"), field("spec", "map", "k")},
		"missing":      {field("spec", "absent", "deep"), field("metadata", "name")},
		"null":         {field("spec", "null", "x"), field("kind")},
		"mismatch":     {field("spec", "list", "key"), field("spec", "map", 0), field("spec", "scalar", "x")},
		"out of range": {field("spec", "list", 5), field("spec", "list", -1), field("spec", "list", 1)},
		"same path":    {field("spec", "map", "k"), field("spec", "map", "k")},
		"in a list":    {field("spec", "list", 0, "n"), field("spec", "list", 0, "m")},
		"empty path":   {field(), field("metadata", "labels", "c")},
	}
	for name, fields := range made {
		cases = append(cases, namedResource{name, &model.Resource{ID: name, Template: tmpl(), Fields: fields}})
	}
	sized := 0
	for _, c := range cases {
		r := c.r
		before := model.Clone(r.Template)
		vals := make([]any, len(r.Fields))
		for i := range vals {
			vals[i] = map[string]any{"field": int64(i)}
		}
		want := newSpine(r).render(r, nil)
		for i, f := range r.Fields {
			f.Path.Set(want, vals[i])
		}
		lay := newLayout(r)
		got, held := lay.render(r, nil, vals)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the layout renders\n%v\nwhere Path.Set writes\n%v", c.name, got, want)
		}
		if n, walked := lay.size(got, held), api.Size(got); n != walked {
			t.Errorf("%s: the layout sizes the rendered object %d bytes, api.Size %d", c.name, n, walked)
		}
		// kro then writes the namespace and its labels.
		obj := &unstructured.Unstructured{Object: got}
		obj.SetNamespace("ns")
		setChildLabels(obj, obj, &Graph{nodeLabels: []any{"node"}, rgdLabel: "rgd"}, &model.Resource{}, 0, false, nil)
		if n, walked := lay.size(got, held), api.Size(got); n != walked {
			t.Errorf("%s: with kro's labels, the layout sizes it %d bytes, api.Size %d", c.name, n, walked)
		}
		sized++
		if !reflect.DeepEqual(r.Template, before) {
			t.Errorf("%s: rendering changed the template", c.name)
		}
	}
	if len(cases) < 20 || sized != len(cases) {
		t.Errorf("only %d resources checked, %d sized", len(cases), sized)
	}
}
