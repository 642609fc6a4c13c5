package model_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/krosim/krosim/model"
)

// typedRGD is an RGD with a Deployment, a Service reading it, and a Widget
// (a custom kind); each %s is a field value under test.
func typedRGD(replicas, port, size string) string {
	return `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: typed
spec:
  schema:
    apiVersion: v1alpha1
    kind: Typed
    spec:
      name: string | default=web
      replicas: integer | default=1
      labels: map[string]string
  resources:
  - id: deployment
    template:
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: ${schema.spec.name}
        labels: ${schema.spec.labels}
      spec:
        replicas: ` + replicas + `
        template:
          spec:
            containers:
            - name: app
              image: nginx
  - id: service
    template:
      apiVersion: v1
      kind: Service
      metadata:
        name: ${deployment.metadata.name}
      spec:
        ports:
        - port: ` + port + `
  - id: widget
    template:
      apiVersion: example.com/v1
      kind: Widget
      metadata:
        name: w
      spec:
        size: ` + size + `
        extra:
          anything: ${schema.spec.name}
`
}

func TestTypedResources(t *testing.T) {
	crds, err := model.LoadCRDFile(filepath.Join("..", "testdata", "crd", "widget.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withCRD := model.DefaultLimits
	withCRD.CRDs = crds
	ok := func(r, p, s string) string { return typedRGD(r, p, s) }
	tests := []struct {
		name    string
		lim     model.Limits
		src     string
		problem string // "" when the RGD loads
		untyped []string
	}{
		{name: "integer into replicas", src: ok("${schema.spec.replicas}", "80", "1"), untyped: []string{"example.com/v1/Widget"}},
		{name: "string into replicas", src: ok("${schema.spec.name}", "80", "1"),
			problem: "resource deployment: spec.replicas: expression type string is not assignable to integer"},
		{name: "string template into replicas", src: ok("n-${schema.spec.name}", "80", "1"),
			problem: "resource deployment: spec.replicas: expression type string is not assignable to integer"},
		{name: "a typed reference to another resource", src: ok("1", "${deployment.spec.replicas + 8080}", "1"), untyped: []string{"example.com/v1/Widget"}},
		{name: "a typed reference of the wrong type", src: ok("1", "${deployment.metadata.name}", "1"),
			problem: "resource service: spec.ports[0].port: expression type string is not assignable to integer"},
		{name: "a field the schema lacks", src: ok("1", "${deployment.spec.nope}", "1"), problem: "undefined field 'nope'"},
		{name: "untyped kinds stay dyn", src: ok("1", "80", "${schema.spec.name}"), untyped: []string{"example.com/v1/Widget"}},
		{name: "CRD-typed field accepts its type", lim: withCRD, src: ok("1", "80", "${schema.spec.replicas}")},
		{name: "CRD-typed field rejects another", lim: withCRD, src: ok("1", "80", "${schema.spec.name}"),
			problem: "resource widget: spec.size: expression type string is not assignable to integer"},
		{name: "CRD in the same stream", src: ok("1", "80", "${schema.spec.name}") + "---\n" + widgetCRD(t),
			problem: "resource widget: spec.size: expression type string is not assignable to integer"},
		{name: "map into labels", lim: withCRD, src: ok("1", "80", "1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := tt.lim
			if lim.Resources == 0 {
				lim = model.DefaultLimits
			}
			rgds, err := lim.Load("t.yaml", []byte(tt.src))
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got := rgds[0].Untyped; len(got)+len(tt.untyped) > 0 && !reflect.DeepEqual(got, tt.untyped) {
					t.Errorf("Untyped = %v, want %v", got, tt.untyped)
				}
				return
			}
			var ps model.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load = %v, want problems", err)
			}
			if !strings.Contains(ps.Detail(), tt.problem) {
				t.Errorf("problems:\n%s\nwant one containing %q", ps.Detail(), tt.problem)
			}
		})
	}
}

func widgetCRD(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "crd", "widget.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
