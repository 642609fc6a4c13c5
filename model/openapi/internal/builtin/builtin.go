// Package builtin generates the built-in kinds' schemas from the client-go
// module in the module cache.
package builtin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/krosim/krosim/model/openapi"
	"github.com/krosim/krosim/model/openapi/internal/smd"
)

const module = "k8s.io/client-go"

// Generate returns the encoded set for the client-go version in go.mod.
func Generate() ([]byte, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", module).Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m %s: %v", module, err)
	}
	dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	src, err := os.ReadFile(filepath.Join(dir, "applyconfigurations", "internal", "internal.go"))
	if err != nil {
		return nil, err
	}
	y, err := smd.Extract(src)
	if err != nil {
		return nil, err
	}
	set, err := smd.Convert(module+"@"+version+" applyconfigurations/internal", y, kinds(), scalars())
	if err != nil {
		return nil, err
	}
	return openapi.Encode(set)
}

// kinds maps every kind client-go's scheme registers to its schema type name,
// which is the Go package path under k8s.io/api reversed into a dotted name.
func kinds() map[string]string {
	m := map[string]string{}
	for gvk, t := range scheme.Scheme.AllKnownTypes() {
		pkg, ok := strings.CutPrefix(t.PkgPath(), "k8s.io/api/")
		if !ok || strings.HasSuffix(gvk.Kind, "List") {
			continue
		}
		m[openapi.KindKey(gvk.GroupVersion().String(), gvk.Kind)] = "io.k8s.api." + strings.ReplaceAll(pkg, "/", ".") + "." + t.Name()
	}
	return m
}

// scalars types apimachinery's untyped scalars from their own OpenAPI methods:
// times are date-time strings (CEL timestamps in kro); quantities and
// int-or-strings are one-ofs, which kro leaves dyn.
func scalars() map[string]*openapi.Schema {
	m := map[string]*openapi.Schema{}
	for _, v := range []any{metav1.Time{}, metav1.MicroTime{}, resource.Quantity{}, intstr.IntOrString{}} {
		t := reflect.TypeOf(v)
		name := "io.k8s." + strings.ReplaceAll(strings.TrimPrefix(t.PkgPath(), "k8s.io/"), "/", ".") + "." + t.Name()
		// As kube-openapi renders them in the API server's /openapi/v3.
		sc := &openapi.Schema{}
		if o, ok := v.(interface{ OpenAPIV3OneOfTypes() []string }); ok {
			for _, typ := range o.OpenAPIV3OneOfTypes() {
				sc.OneOf = append(sc.OneOf, &openapi.Schema{Type: typ})
			}
		} else if o, ok := v.(interface{ OpenAPISchemaType() []string }); ok {
			sc.Type = o.OpenAPISchemaType()[0]
		}
		if f, ok := v.(interface{ OpenAPISchemaFormat() string }); ok {
			sc.Format = f.OpenAPISchemaFormat()
		}
		m[name] = sc
	}
	return m
}
