package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileRGDs runs each CEL bomb of testdata/hostile/bombs: the run must end
// quickly with exit 1 and say which expression passed which limit.
func TestHostileRGDs(t *testing.T) {
	cases := []struct{ file, want string }{
		{"nested-all.yaml", "cel: cost limit 1000000 exceeded by expression at ../../testdata/hostile/bombs/nested-all.yaml:21:19 (cost 1000001)"},
		{"string-doubling.yaml", "cel: cost limit 1000000 exceeded by expression at ../../testdata/hostile/bombs/string-doubling.yaml:21:19 (cost "},
		{"json-sharing.yaml", "cel: json.marshal: result over the size limit of 1048576 bytes, in expression at ../../testdata/hostile/bombs/json-sharing.yaml:21:19"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main([]string{"run", "--rgd", "../../testdata/hostile/bombs/" + c.file, "--instances", "1", "--out", t.TempDir()}, &stdout, &stderr)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, stdout.String(), stderr.String())
			}
			for name, out := range map[string]string{"summary": stdout.String(), "error": stderr.String()} {
				if !strings.Contains(out, "nestedall-00000: ") && !strings.Contains(out, "-00000: ") || !strings.Contains(out, c.want) {
					t.Errorf("%s does not name the instance and say %q:\n%s", name, c.want, out)
				}
			}
		})
	}
}

// TestCELCostLimitFlag: --cel-cost-limit replaces the default bound.
func TestCELCostLimitFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dir := t.TempDir()
	code := Main([]string{"run", "--rgd", "../../testdata/hostile/bombs/nested-all.yaml", "--instances", "1", "--cel-cost-limit", "4000", "--out", dir, "--quiet"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "cost limit 4000 exceeded") {
		t.Fatalf("exit %d, want 1 and the limit of 4000:\n%s", code, stderr.String())
	}
}

// TestValidateCostWarnings: validate warns, positioned, about expressions
// estimated over the cost limit, and still succeeds (kro accepts them).
func TestValidateCostWarnings(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main([]string{"validate", "--timings=false", "--cost-warnings", "possible", "../../testdata/hostile/bombs/nested-all.yaml"}, &stdout, &stderr)
	want := "../../testdata/hostile/bombs/nested-all.yaml:21:21: warning: estimated CEL cost up to 11016013 is over the limit of 1000000"
	if code != 0 || !strings.Contains(stderr.String(), want) {
		t.Fatalf("exit %d, want 0 and %q in:\n%s", code, want, stderr.String())
	}
	stderr.Reset()
	if code := Main([]string{"validate", "--timings=false", "../../testdata/hostile/bombs/nested-all.yaml"}, &stdout, &stderr); code != 0 || stderr.Len() != 0 {
		t.Fatalf("default (certain) warnings: exit %d, stderr:\n%s", code, stderr.String())
	}
	stderr.Reset()
	// Certain: every evaluation is over a limit of 10.
	if code := Main([]string{"validate", "--timings=false", "--cel-cost-limit", "10", "../../testdata/hostile/bombs/string-doubling.yaml"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "every evaluation fails") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	// A call cel-go cannot estimate (lists.range of an unknown size) is
	// unbounded, not certain to fail: its run succeeds.
	rgd := writeFile(t, "range.yaml", `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: ranges
spec:
  schema:
    apiVersion: v1alpha1
    kind: Ranges
    spec:
      zones: '[]string | default=["a","b"]'
  resources:
    - id: cm
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.metadata.name}-zones
        data:
          indexes: ${lists.range(size(schema.spec.zones)).map(i, string(i)).join(",")}
`)
	stderr.Reset()
	if code := Main([]string{"validate", "--timings=false", "--cost-warnings", "possible", rgd}, &stdout, &stderr); code != 0 ||
		strings.Contains(stderr.String(), "every evaluation fails") || !strings.Contains(stderr.String(), "unbounded") {
		t.Fatalf("lists.range: exit %d, want 0 and an unbounded warning, stderr:\n%s", code, stderr.String())
	}
}

// TestCELCostLimitStopsAConcatenation: a string template whose joins cost
// more than the limit fails as cel-go fails it, though krosim evaluates
// such templates part by part without cost tracking.
func TestCELCostLimitStopsAConcatenation(t *testing.T) {
	dir := t.TempDir()
	rgd := filepath.Join(dir, "long.yaml")
	long := strings.Repeat("a", 100)
	if err := os.WriteFile(rgd, []byte(`apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: long
spec:
  schema:
    apiVersion: v1alpha1
    kind: Long
    spec:
      name: string | default=`+long+`
  resources:
    - id: cm
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.spec.name}-long
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		limit string
		code  int
	}{{"14", 0}, {"13", 1}} { // cel-go charges 14 for the template: 11 of it for joining 105 runes
		var stdout, stderr bytes.Buffer
		code := Main([]string{"run", "--rgd", rgd, "--instances", "1", "--cel-cost-limit", c.limit, "--out", filepath.Join(dir, c.limit), "--quiet"}, &stdout, &stderr)
		if code != c.code || (code == 1) != strings.Contains(stderr.String(), "cost limit "+c.limit+" exceeded") {
			t.Errorf("limit %s: exit %d, want %d:\n%s", c.limit, code, c.code, stderr.String())
		}
	}
}
