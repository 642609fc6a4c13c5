package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const widgetRGD = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: widgets.kro.run
spec:
  schema:
    apiVersion: v1alpha1
    kind: Shop
    spec:
      name: string | default=w
  resources:
    - id: widget
      template:
        apiVersion: example.com/v1
        kind: Widget
        metadata:
          name: ${schema.spec.name}
        spec:
          size: ${schema.spec.name}
`

// TestValidateTyped checks what typing resources shows on the command line:
// an untyped kind is noted on stderr and in -o json, and --crd types it, so
// the string into its integer field is then rejected with a position.
func TestValidateTyped(t *testing.T) {
	rgd := writeFile(t, "rgd.yaml", widgetRGD)
	crd := filepath.Join("..", "..", "testdata", "crd", "widget.yaml")

	code, stdout, stderr := run("validate", "-o", "json", rgd)
	if code != 0 {
		t.Fatalf("validate without --crd: exit %d\n%s", code, stderr)
	}
	if want := "no schema for example.com/v1/Widget"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want a note containing %q", stderr, want)
	}
	var out struct {
		RGDs []struct {
			UntypedKinds []string `json:"untyped_kinds"`
		} `json:"rgds"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if got := out.RGDs[0].UntypedKinds; len(got) != 1 || got[0] != "example.com/v1/Widget" {
		t.Errorf("untyped_kinds = %v, want [example.com/v1/Widget]", got)
	}

	code, _, stderr = run("validate", "--crd", crd, rgd)
	if code != 1 {
		t.Fatalf("validate --crd: exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{
		rgd + ":19:17: resource widget: spec.size: expression type string is not assignable to integer",
		"size: ${schema.spec.name}",
		"^",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr:\n%s\nwant %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "no schema for") {
		t.Errorf("a kind typed by --crd is still noted as untyped:\n%s", stderr)
	}
}
