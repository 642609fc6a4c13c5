package openapi_test

import (
	"bytes"
	"testing"

	"github.com/krosim/krosim/model/openapi"
	"github.com/krosim/krosim/model/openapi/internal/builtin"
)

// TestBuiltinUpToDate regenerates the built-in schemas from the client-go
// module go.mod requires and requires the embedded file to match: run
// `go generate ./model/openapi` after changing client-go's version.
func TestBuiltinUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the module cache")
	}
	want, err := builtin.Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := openapi.Encode(openapi.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("builtin.json.gz is out of date with client-go in go.mod: run go generate ./model/openapi")
	}
}

func TestBuiltinKinds(t *testing.T) {
	s := openapi.Builtin()
	for _, c := range []struct {
		apiVersion, kind, field, typ string
	}{
		{"apps/v1", "Deployment", "spec", ""},
		{"v1", "ConfigMap", "data", "object"},
		{"v1", "Service", "spec", ""},
		{"networking.k8s.io/v1", "Ingress", "spec", ""},
	} {
		root := s.Resolve(s.Kind(c.apiVersion, c.kind))
		if root == nil {
			t.Errorf("%s %s: no schema", c.apiVersion, c.kind)
			continue
		}
		f := s.Resolve(root.Properties[c.field])
		if f == nil || f.Type != "object" {
			t.Errorf("%s %s: field %s = %+v, want an object", c.apiVersion, c.kind, c.field, f)
		}
	}
	spec := s.Resolve(s.Resolve(s.Kind("apps/v1", "Deployment")).Properties["spec"])
	if got := spec.Properties["replicas"].Type; got != "integer" {
		t.Errorf("Deployment spec.replicas is %q, want integer", got)
	}
	if s.Kind("example.com/v1", "Widget") != nil {
		t.Error("an unknown kind has a schema")
	}
}
