package model_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/cel-go/common/types"

	"github.com/krosim/krosim/model"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// rgd returns an RGD document with a fixed schema, the given status block
// (already indented under schema, may be empty) and resources.
func rgd(status string, resources ...string) string {
	return `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: test
spec:
  schema:
    apiVersion: v1alpha1
    kind: Test
    spec:
      name: string | default=test
      replicas: integer | default=2
      items: '[]string | default=["a", "b"]'
      enabled: boolean | default=true
` + status + "  resources:\n" + strings.Join(resources, "")
}

// cm returns a ConfigMap resource whose data values are the given strings.
func cm(id string, values ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    - id: %s\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        metadata:\n          name: %s\n", id, id)
	if len(values) == 0 {
		b.WriteString("        data: {}\n")
	}
	for i, v := range values {
		if i == 0 {
			b.WriteString("        data:\n")
		}
		fmt.Fprintf(&b, "          k%d: %s\n", i, yamlString(v))
	}
	return b.String()
}

// cmWith is cm with extra resource-level lines (readyWhen, includeWhen, forEach) after the id.
func cmWith(id, extra string, values ...string) string {
	r := cm(id, values...)
	i := strings.Index(r, "\n") + 1
	return r[:i] + extra + r[i:]
}

// conds is a schema status holding only conditions entries.
func conds(exprs ...string) string {
	var b strings.Builder
	b.WriteString("    status:\n      conditions:\n")
	for _, e := range exprs {
		fmt.Fprintf(&b, "        - %s\n", yamlString(e))
	}
	return b.String()
}

// yamlString writes s as a plain scalar when that is safe, else single-quoted.
func yamlString(s string) string {
	if s == "" || strings.ContainsAny(s, `'"#`) || strings.Contains(s, ": ") || strings.ContainsAny(s[:1], "[]{}&*!|>%@`-? ") {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return s
}

func ids(g *model.RGD, idx []int) []string {
	out := make([]string, len(idx))
	for i, x := range idx {
		out[i] = g.Resources[x].ID
	}
	return out
}

func waves(g *model.RGD) [][]string {
	var out [][]string
	for _, w := range g.Waves {
		out = append(out, ids(g, w))
	}
	return out
}

func loadOne(t *testing.T, src string) *model.RGD {
	t.Helper()
	gs, err := model.Load("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Load:\n%s\n\nsource:\n%s", detail(err), src)
	}
	if len(gs) != 1 {
		t.Fatalf("Load returned %d RGDs, want 1", len(gs))
	}
	return gs[0]
}

func detail(err error) string {
	var ps model.Problems
	if errors.As(err, &ps) {
		return ps.Detail()
	}
	return err.Error()
}

func TestLoadTestdata(t *testing.T) {
	files, _ := filepath.Glob("../testdata/rgd/*.yaml")
	if len(files) == 0 {
		t.Fatal("no files in ../testdata/rgd")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			gs, err := model.LoadFile(file)
			if err != nil {
				t.Fatalf("LoadFile:\n%s", detail(err))
			}
			for _, g := range gs {
				if g.File != file || g.Name == "" || g.Kind == "" || len(g.Order) != len(g.Resources) || g.Exprs == 0 {
					t.Errorf("%s: file %q name %q kind %q, %d of %d resources ordered, %d expressions",
						file, g.File, g.Name, g.Kind, len(g.Order), len(g.Resources), g.Exprs)
				}
				if g.Env() == nil || g.Graph == nil {
					t.Errorf("%s: RGD %q has no CEL environment or graph", file, g.Name)
				}
				for _, r := range g.Resources {
					for _, e := range r.Exprs() {
						if e.Program == nil || e.Pos.File != file || e.Pos.Line < 1 {
							t.Errorf("%s: expression %q of %q has no program or position (%v)", file, e.Text, r.ID, e.Pos)
						}
					}
				}
			}
		})
	}
	invalid, _ := filepath.Glob("../testdata/rgd/invalid/*.yaml")
	for _, file := range invalid {
		t.Run("invalid/"+filepath.Base(file), func(t *testing.T) {
			_, err := model.LoadFile(file)
			var ps model.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("LoadFile(%s) = %v, want Problems", file, err)
			}
			for _, p := range ps {
				if p.Pos.File != file || p.Pos.Line < 1 || p.Pos.Col < 1 || p.Line == "" {
					t.Errorf("problem without a usable position: %q", p.Detail())
				}
			}
		})
	}
}

var expectedPos = regexp.MustCompile(`(?m)^# Expected position: line (\d+), column (\d+)`)

// TestInvalidExpectedPositions checks the position each invalid file's
// header comment promises against the first problem reported.
func TestInvalidExpectedPositions(t *testing.T) {
	files, _ := filepath.Glob("../testdata/rgd/invalid/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := expectedPos.FindSubmatch(data)
		if m == nil {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			line, _ := strconv.Atoi(string(m[1]))
			col, _ := strconv.Atoi(string(m[2]))
			_, err := model.Load(file, data)
			var ps model.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load = %v, want Problems", err)
			}
			if got := ps[0].Pos; got.Line != line || got.Col != col {
				t.Errorf("first problem at %d:%d, header says line %d, column %d:\n%s", got.Line, got.Col, line, col, ps.Detail())
			}
		})
	}
}

func TestLoadGraph(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		order []string
		edges [][2]string
		waves [][]string
		check func(t *testing.T, g *model.RGD)
	}{
		{
			name:  "no dependencies keep YAML order",
			src:   rgd("", cm("cc"), cm("aa"), cm("bb")),
			order: []string{"cc", "aa", "bb"},
			waves: [][]string{{"cc", "aa", "bb"}},
		},
		{
			name: "diamond",
			src: rgd("", cm("top", "${schema.spec.name}"), cm("left", "${top.metadata.name}"),
				cm("right", "${top.metadata.name}"), cm("bottom", "${left.metadata.name}-${right.metadata.name}")),
			order: []string{"top", "left", "right", "bottom"},
			edges: [][2]string{{"top", "left"}, {"top", "right"}, {"left", "bottom"}, {"right", "bottom"}},
			waves: [][]string{{"bottom"}, {"left", "right"}, {"top"}},
		},
		{
			name:  "declared in reverse",
			src:   rgd("", cm("dd", "${cc.metadata.name}"), cm("cc", "${bb.metadata.name}"), cm("bb", "${aa.metadata.name}"), cm("aa")),
			order: []string{"aa", "bb", "cc", "dd"},
			edges: [][2]string{{"cc", "dd"}, {"bb", "cc"}, {"aa", "bb"}},
			waves: [][]string{{"dd"}, {"cc"}, {"bb"}, {"aa"}},
		},
		{
			// kro takes the ready resource with the lowest index, not the one that became ready first.
			name:  "lowest ready index first",
			src:   rgd("", cm("r0", "${r1.metadata.name}"), cm("r1"), cm("r2")),
			order: []string{"r1", "r0", "r2"},
			edges: [][2]string{{"r1", "r0"}},
			waves: [][]string{{"r0", "r2"}, {"r1"}}, // kro deletes what nothing depends on first
		},
		{
			// base first; then late(1), free(2) and early(3) are all ready and go by index.
			name:  "tie among later levels by index",
			src:   rgd("", cm("base"), cm("late", "${base.metadata.name}"), cm("free"), cm("early", "${base.metadata.name}")),
			order: []string{"base", "late", "free", "early"},
			waves: [][]string{{"late", "free", "early"}, {"base"}},
		},
		{
			name:  "comprehension variables are not dependencies",
			src:   rgd("", cm("d"), cm("deployment"), cm("user", "${string(deployment.data.exists(d, d == 'a'))}")),
			order: []string{"d", "deployment", "user"},
			edges: [][2]string{{"deployment", "user"}},
			check: func(t *testing.T, g *model.RGD) {
				if got := g.Resource("user").Fields[0].Expr.Refs; !reflect.DeepEqual(got, []string{"deployment"}) {
					t.Errorf("refs %v, want [deployment]", got)
				}
			},
		},
		{
			name:  "two-variable comprehension",
			src:   rgd("", cm("k"), cm("v"), cm("user", "${string(schema.spec.items.all(k, v, v != ''))}")),
			order: []string{"k", "v", "user"},
		},
		{
			name:  "namespaced functions are not references",
			src:   rgd("", cm("src"), cm("user", "${base64.encode(hash.fnv64a(schema.spec.name))}", "${json.marshal(src.data)}", "${base64.encode(b'x')}")),
			order: []string{"src", "user"},
			edges: [][2]string{{"src", "user"}},
			check: func(t *testing.T, g *model.RGD) {
				var refs []string
				for _, f := range g.Resource("user").Fields {
					refs = append(refs, fmt.Sprint(f.Expr.Refs))
				}
				if want := []string{"[schema]", "[src]", "[]"}; !reflect.DeepEqual(refs, want) {
					t.Errorf("refs %v, want %v", refs, want)
				}
			},
		},
		{
			name: "forEach iterators",
			src: rgd("",
				cm("tiers", "${schema.spec.name}"),
				cmWith("workers", "      forEach:\n        - region: ${schema.spec.items}\n        - tier: ${[tiers.metadata.name, 'b']}\n",
					"${region}-${tier}"),
				cm("summary", "${string(size(workers))}")),
			order: []string{"tiers", "workers", "summary"},
			edges: [][2]string{{"tiers", "workers"}, {"workers", "summary"}},
			check: func(t *testing.T, g *model.RGD) {
				w := g.Resource("workers")
				if !w.Collection() || len(w.ForEach) != 2 || w.ForEach[0].Name != "region" || w.ForEach[1].Name != "tier" {
					t.Fatalf("forEach = %+v, want region and tier", w.ForEach)
				}
				if got := w.ForEach[1].Expr.Refs; !reflect.DeepEqual(got, []string{"tiers"}) {
					t.Errorf("tier refs %v, want [tiers]", got)
				}
				if got := w.Fields[0].Expr.Refs; !reflect.DeepEqual(got, []string{"region", "tier"}) {
					t.Errorf("data refs %v, want [region tier]", got)
				}
			},
		},
		{
			// kro does not reserve CEL type names as ids; once declared they are variables.
			name:  "resource named like a CEL type",
			src:   rgd("", cm("consumer", "${list.metadata.name}-${map.metadata.name}"), cm("list"), cm("map")),
			order: []string{"list", "map", "consumer"},
			edges: [][2]string{{"list", "consumer"}, {"map", "consumer"}},
		},
		{
			name: "externalRef",
			src: rgd("", `    - id: platform
      externalRef:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.spec.name}-platform
          namespace: platform-system
`, cm("app", "${platform.data.region}")),
			order: []string{"platform", "app"},
			edges: [][2]string{{"platform", "app"}},
			check: func(t *testing.T, g *model.RGD) {
				p := g.Resource("platform")
				if !p.External || p.Kind != "ConfigMap" || p.APIVersion != "v1" || len(p.Fields) != 1 {
					t.Errorf("platform: external %v kind %q apiVersion %q fields %d", p.External, p.Kind, p.APIVersion, len(p.Fields))
				}
				if g.Resource("app").External {
					t.Error("app is external")
				}
			},
		},
		{
			name:  "includeWhen creates an edge",
			src:   rgd("", cm("flags", "on"), cmWith("opt", "      includeWhen:\n        - ${flags.data.k0 == 'on'}\n        - ${schema.spec.enabled}\n")),
			order: []string{"flags", "opt"},
			edges: [][2]string{{"flags", "opt"}},
			check: func(t *testing.T, g *model.RGD) {
				if n := len(g.Resource("opt").IncludeWhen); n != 2 {
					t.Errorf("%d includeWhen expressions, want 2", n)
				}
			},
		},
		{
			name:  "readyWhen on itself adds no edge",
			src:   rgd("", cmWith("first", "      readyWhen:\n        - ${first.data.k0 == 'x'}\n", "x"), cm("second")),
			order: []string{"first", "second"},
			check: func(t *testing.T, g *model.RGD) {
				if n := len(g.Resource("first").ReadyWhen); n != 1 {
					t.Errorf("%d readyWhen expressions, want 1", n)
				}
			},
		},
		{
			name: "status expressions",
			src: rgd("    status:\n      ready: ${bb.data.k0 == 'x'}\n      nested:\n        url: http://${aa.metadata.name}/${schema.spec.name}\n      plain: not an expression\n",
				cm("aa"), cm("bb")),
			order: []string{"aa", "bb"},
			check: func(t *testing.T, g *model.RGD) {
				var got []string
				for _, v := range g.Status {
					got = append(got, fmt.Sprintf("%s standalone=%v refs=%v", v.Path, v.Standalone, v.Expr.Refs))
				}
				want := []string{"status.ready standalone=true refs=[bb]", "status.nested.url standalone=false refs=[aa schema]"}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("status = %q, want %q", got, want)
				}
				if g.Exprs != 2 {
					t.Errorf("%d expressions, want 2", g.Exprs)
				}
			},
		},
		{
			name:  "paths and standalone values",
			src:   rgd("", cm("aa", "${schema.spec.name}", "n-${schema.spec.name}", "plain")),
			order: []string{"aa"},
			check: func(t *testing.T, g *model.RGD) {
				var got []string
				for _, f := range g.Resources[0].Fields {
					got = append(got, fmt.Sprintf("%s %v %q", f.Path, f.Standalone, f.Expr.Source))
				}
				want := []string{`data.k0 true "schema.spec.name"`, `data.k1 false "\"n-\" + (schema.spec.name)"`}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("fields = %q, want %q", got, want)
				}
				if tmpl := g.Resources[0].Template; tmpl["data"].(map[string]any)["k2"] != "plain" {
					t.Errorf("template data = %v", tmpl["data"])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := loadOne(t, tt.src)
			if tt.order != nil {
				if got := ids(g, g.Order); !reflect.DeepEqual(got, tt.order) {
					t.Errorf("order %v, want %v", got, tt.order)
				}
			}
			if tt.edges != nil {
				if got := g.Edges(); !reflect.DeepEqual(got, tt.edges) {
					t.Errorf("edges %v, want %v", got, tt.edges)
				}
			}
			if tt.waves != nil {
				if got := waves(g); !reflect.DeepEqual(got, tt.waves) {
					t.Errorf("waves %v, want %v", got, tt.waves)
				}
			}
			if tt.check != nil {
				tt.check(t, g)
			}
		})
	}
}

func TestLoadDocuments(t *testing.T) {
	one := rgd("", cm("aa"))
	two := strings.Replace(rgd("", cm("bb", "${schema.spec.name}")), "name: test", "name: second", 1)
	tests := []struct {
		name  string
		src   string
		names []string
	}{
		{name: "two documents", src: one + "---\n" + two, names: []string{"test", "second"}},
		{name: "leading separator and comments", src: "# RGDs\n---\n" + one + "---\n# nothing here\n---\n" + two, names: []string{"test", "second"}},
		// kubectl accepts a trailing separator; it starts an empty document.
		{name: "trailing separator", src: one + "---\n", names: []string{"test"}},
		{name: "empty document between", src: one + "---\n---\n" + two, names: []string{"test", "second"}},
		{name: "document end marker", src: one + "...\n", names: []string{"test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs, err := model.Load("t.yaml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Load:\n%s", detail(err))
			}
			var names []string
			for _, g := range gs {
				names = append(names, g.Name)
			}
			if !reflect.DeepEqual(names, tt.names) {
				t.Errorf("names %v, want %v", names, tt.names)
			}
		})
	}
}

// A problem is expected where the text `at` first occurs in the source,
// plus delta runes, with a message starting with msg.
type wantProblem struct {
	at    string
	delta int
	msg   string
}

// position returns the 1-based line and column (in runes) of the first occurrence of needle.
func position(t *testing.T, src, needle string) (line, col int) {
	t.Helper()
	i := strings.Index(src, needle)
	if i < 0 {
		t.Fatalf("%q is not in the source", needle)
	}
	start := strings.LastIndexByte(src[:i], '\n') + 1
	return strings.Count(src[:i], "\n") + 1, utf8.RuneCountInString(src[start:i]) + 1
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantProblem
	}{
		{
			name: "cycle",
			src:  rgd("", cm("aa", "${bb.metadata.name}"), cm("bb", "${aa.metadata.name}")),
			want: []wantProblem{{"id: aa", 0, "graph contains a cycle: aa -> bb -> aa"}},
		},
		{
			// kro walks dependencies (aa depends on cc) from the first resource.
			name: "cycle of three names it in dependency order",
			src:  rgd("", cm("aa", "${cc.metadata.name}"), cm("bb", "${aa.metadata.name}"), cm("cc", "${bb.metadata.name}")),
			want: []wantProblem{{"id: aa", 0, "graph contains a cycle: aa -> cc -> bb -> aa"}},
		},
		{
			name: "cycle after an independent resource",
			src:  rgd("", cm("zz"), cm("pp", "${qq.metadata.name}"), cm("qq", "${pp.metadata.name}")),
			want: []wantProblem{{"id: pp", 0, "graph contains a cycle: pp -> qq -> pp"}},
		},
		{
			name: "self reference",
			src:  rgd("", cm("aa", "x-${aa.metadata.name}")),
			want: []wantProblem{{"${aa.", 2, `resource "aa": self references are not allowed`}},
		},
		{
			name: "self reference in includeWhen",
			src:  rgd("", cmWith("aa", "      includeWhen:\n        - ${aa.data.k0 == 'x'}\n")),
			want: []wantProblem{{"${aa.", 2, `resource "aa": self references are not allowed`}},
		},
		{
			name: "unknown identifier",
			src:  rgd("", cm("aa", "${x}")),
			want: []wantProblem{{"${x}", 2, "references unknown identifiers: [x]"}},
		},
		{
			name: "unknown identifiers sorted",
			src:  rgd("", cm("aa", "${schema.spec.name + zz + yy}")),
			want: []wantProblem{{"yy}", 0, "references unknown identifiers: [yy zz]"}},
		},
		{
			name: "another resource's iterator",
			src:  rgd("", cmWith("aa", "      forEach:\n        - it: ${schema.spec.items}\n", "${it}"), cm("bb", "x-${it}")),
			want: []wantProblem{{"x-${it}", 4, "references unknown identifiers: [it]"}},
		},
		{
			name: "iterator in its own forEach",
			src:  rgd("", cmWith("aa", "      forEach:\n        - it: ${[it]}\n")),
			want: []wantProblem{{"${[it]}", 3, "references unknown identifiers: [it]"}},
		},
		{
			name: "readyWhen referencing another resource",
			src:  rgd("", cm("bb"), cmWith("aa", "      readyWhen:\n        - ${aa.data.k0 == bb.data.k0}\n", "x")),
			want: []wantProblem{{"bb.data.k0}", 0, `resource "aa": readyWhen may only reference the resource itself, not [bb]`}},
		},
		{
			name: "readyWhen must be bool",
			src:  rgd("", cmWith("aa", "      readyWhen:\n        - ${size(aa.data)}\n")),
			want: []wantProblem{{"${size", 2, "readyWhen must be a bool expression, got int"}},
		},
		{
			name: "readyWhen may not read the schema",
			src:  rgd("", cmWith("aa", "      readyWhen:\n        - ${schema.spec.enabled}\n")),
			want: []wantProblem{{"${schema", 2, `resource "aa": readyWhen may only reference the resource itself, not [schema]`}},
		},
		{
			// A concatenation of lists is a list, so only the standalone check catches this.
			name: "forEach must be one expression",
			src:  rgd("", cmWith("aa", "      forEach:\n        - it: ${schema.spec.items}${schema.spec.items}\n")),
			want: []wantProblem{{"${schema", 0, `resource "aa": forEach entry "${schema.spec.items}${schema.spec.items}" must be a single ${expression}`}},
		},
		{
			name: "includeWhen must be bool",
			src:  rgd("", cmWith("aa", "      includeWhen:\n        - ${schema.spec.name}\n")),
			want: []wantProblem{{"${schema", 2, "includeWhen must be a bool expression, got string"}},
		},
		{
			name: "forEach must be a list",
			src:  rgd("", cmWith("aa", "      forEach:\n        - it: ${schema.spec.name}\n")),
			want: []wantProblem{{"${schema.spec.name}", 2, "forEach must be a list expression, got string"}},
		},
		{
			name: "forEach name shadows a resource",
			src:  rgd("", cm("bb"), cmWith("aa", "      forEach:\n        - bb: ${schema.spec.items}\n")),
			want: []wantProblem{{"- bb:", 2, `forEach name "bb" shadows a resource id or schema`}},
		},
		{
			name: "undefined schema field",
			src:  rgd("", cm("aa", "${schema.spec.nope}")),
			want: []wantProblem{{".nope}", 0, "undefined field 'nope'"}},
		},
		{
			name: "string concatenation of an integer",
			src:  rgd("", cm("aa", "n-${schema.spec.replicas}")),
			want: []wantProblem{{"${schema", 2, "found no matching overload for '_+_' applied to '(string, int)'"}},
		},
		{
			name: "duplicate id",
			src:  rgd("", cm("aa"), cm("aa")),
			want: []wantProblem{{"aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        metadata:\n          name: aa\n        data: {}\n    - id: aa", len("aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        metadata:\n          name: aa\n        data: {}\n    - id: "), `duplicate resource id "aa" (first defined at line 15)`}},
		},
		{
			name: "reserved id",
			src:  rgd("", cm("schema")),
			want: []wantProblem{{"id: schema", 4, `resource id "schema" is reserved`}},
		},
		{
			// kro reserves more words than schema and each (pkg/graph/validation.go).
			name: "kro reserved id",
			src:  rgd("", cm("self")),
			want: []wantProblem{{"id: self", 4, `resource id "self" is reserved`}},
		},
		// kro v0.9.4 rejects examples/gcp/gemma-on-tpu/rgd.yaml this way: its
		// name sits beside metadata, not under it (model/krodiff).
		{
			name: "externalRef without a name",
			src:  rgd("", "    - id: aa\n      externalRef:\n        apiVersion: v1\n        kind: ConfigMap\n        metadata:\n        name: x\n"),
			want: []wantProblem{{"externalRef:\n        apiVersion", 21, `resource "aa": externalRef.metadata: exactly one of name or selector must be provided`}},
		},
		{
			name: "externalRef with a name and a selector",
			src:  rgd("", "    - id: aa\n      externalRef:\n        apiVersion: v1\n        kind: ConfigMap\n        metadata:\n          name: x\n          selector: {}\n"),
			want: []wantProblem{{"name: x", 0, `resource "aa": externalRef.metadata: exactly one of name or selector must be provided`}},
		},
		{
			name: "externalRef selector of the wrong shape",
			src:  rgd("", "    - id: aa\n      externalRef:\n        apiVersion: v1\n        kind: ConfigMap\n        metadata:\n          selector: app=x\n"),
			want: []wantProblem{{"app=x", 0, `resource "aa": externalRef.metadata.selector must be a Kubernetes LabelSelector object`}},
		},
		{
			name: "both template and externalRef",
			src:  rgd("", "    - id: aa\n      externalRef:\n        apiVersion: v1\n        kind: ConfigMap\n"+cm("zz")[len("    - id: zz\n"):]),
			want: []wantProblem{{"id: aa", 0, `resource "aa" has both template and externalRef; want exactly one`}},
		},
		{
			name: "expression in a key",
			src:  rgd("", "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        data:\n          ${schema.spec.name}: v\n"),
			want: []wantProblem{{"${schema.spec.name}: v", 0, "expressions are not allowed in keys"}},
		},
		{
			name: "empty expression",
			src:  rgd("", cm("aa", "a-${ }")),
			want: []wantProblem{{"${ }", 0, "empty expression ${}"}},
		},
		{
			name: "unterminated expression",
			src:  rgd("", cm("aa", "a-${schema.spec.name")),
			want: []wantProblem{{"${schema", 0, "unterminated expression: missing closing }"}},
		},
		{
			name: "CEL syntax error inside an embedded expression",
			src:  rgd("", cm("aa", "x-${schema.spec.name}-${schema.spec.name +* 1}-y")),
			want: []wantProblem{{"+* 1}", 1, "Syntax error: extraneous input '*'"}},
		},
		{
			// The user's extra ')' closes the parentheses the concatenation adds.
			name: "extra closing parenthesis in an embedded expression",
			src:  rgd("", cm("aa", "x-${string(schema.spec.replicas))}-y")),
			want: []wantProblem{{"))}", 1, "Syntax error:"}},
		},
		{
			// Each embedded expression must parse on its own, so parentheses cannot
			// reach across the literal text between two of them.
			name: "parentheses across embedded expressions",
			src:  rgd("", cm("aa", "x-${schema.spec.name) + (schema.spec.name}")),
			want: []wantProblem{{") + (", 0, "Syntax error:"}},
		},
		{
			name: "CEL syntax error in a literal block scalar",
			src:  rgd("", "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        data:\n          script: |\n            echo start\n              run ${schema.spec.name +* 1}\n"),
			want: []wantProblem{{"+* 1}", 1, "Syntax error: extraneous input '*'"}},
		},
		{
			name: "CEL syntax error in a double-quoted value",
			src:  rgd("", "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        data:\n          k: \"a-${schema.spec.name +* 1}\"\n"),
			want: []wantProblem{{"+* 1}", 1, "Syntax error: extraneous input '*'"}},
		},
		{
			name: "CEL syntax error in a double-quoted value after an escape",
			src:  rgd("", "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        data:\n          k: \"say \\\"hi\\\" ${schema.spec.name +* 1}\"\n"),
			want: []wantProblem{{"+* 1}", 1, "Syntax error: extraneous input '*'"}},
		},
		{
			name: "CEL syntax error in a single-quoted value after an escape",
			src:  rgd("", "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        data:\n          k: 'it''s ${schema.spec.name +* 1}'\n"),
			want: []wantProblem{{"+* 1}", 1, "Syntax error: extraneous input '*'"}},
		},
		{
			name: "CEL syntax error in a folded block scalar",
			src:  rgd("", "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        data:\n          k: >\n            first line\n            a-${schema.spec.name +* 1}\n"),
			want: []wantProblem{{"+* 1}", 1, "Syntax error: extraneous input '*'"}},
		},
		{
			name: "CEL syntax error in a multi-line plain value",
			src:  rgd("", "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        data:\n          k: first line\n            a-${schema.spec.name +* 1}\n"),
			want: []wantProblem{{"+* 1}", 1, "Syntax error: extraneous input '*'"}},
		},
		{
			name: "every problem of a file at once",
			src: rgd("    status:\n      bad: ${nothere}\n",
				cm("aa", "${x1}"), cm("bb", "${schema.spec.name +* 1}"), cmWith("cc", "      readyWhen:\n        - ${aa.data.k0 == 'x'}\n"), cm("dd", "${dd.metadata.name}")),
			want: []wantProblem{
				{"${nothere}", 2, "references unknown identifiers: [nothere]"},
				{"${x1}", 2, "references unknown identifiers: [x1]"},
				{"+* 1}", 1, "Syntax error: extraneous input '*'"},
				{"${aa.data.k0 == 'x'}", 2, `resource "cc": readyWhen may only reference the resource itself, not [aa]`},
				{"${dd.", 2, `resource "dd": self references are not allowed`},
			},
		},
		{
			name: "problems in two documents",
			src:  rgd("", cm("aa", "${x1}")) + "---\n" + strings.Replace(rgd("", cm("bb", "${x2}")), "name: test", "name: two", 1),
			want: []wantProblem{
				{"${x1}", 2, "references unknown identifiers: [x1]"},
				{"${x2}", 2, "references unknown identifiers: [x2]"},
			},
		},
		// kro v0.9.4 (pkg/graph/builder.go): omit() needs the CELOmitFunction
		// gate, off by default (website docs, advanced/02-feature-gates.md).
		{
			name: "omit() with the gate off",
			src:  rgd("", cm("aa", "${schema.spec.enabled ? 'x' : omit()}")),
			want: []wantProblem{{"omit()", 4, "omit() requires the CELOmitFunction feature gate to be enabled"}},
		},
		{
			name: "omit() outside templates",
			src:  rgd("", cmWith("aa", "      includeWhen:\n        - ${omit() == null}\n")),
			want: []wantProblem{{"omit()", 4, "omit() can only be used in resource template expressions"}},
		},
		// The runtime variable exists only in schema.status.conditions
		// (website docs, concepts/rgd/06-status-conditions.md).
		{
			name: "runtime in a template",
			src:  rgd("", cm("aa", "${runtime.condition(schema, 'Ready').status}")),
			want: []wantProblem{{"runtime.", 0, "runtime is only available in status.conditions expressions"}},
		},
		{
			name: "runtime in a status field",
			src:  rgd("    status:\n      ok: ${runtime.condition(aa, 'Ready').status}\n", cm("aa")),
			want: []wantProblem{{"runtime.", 0, "runtime is only available in status.conditions expressions"}},
		},
		{
			// dyn passes, as in kro; a string (a ConfigMap's name) does not.
			name: "a condition must return a condition",
			src:  rgd("    status:\n      conditions:\n        - ${json.unmarshal(aa.metadata.name)}\n        - ${aa.metadata.name + 'x'}\n", cm("aa")),
			want: []wantProblem{{"${aa.metadata.name + ", 2, `condition expressions must return runtime.newCondition(...) or a list of them, got "string"`}},
		},
		{
			name: "newCondition needs a status",
			src:  rgd(conds("${runtime.newCondition({type: 'A'})}"), cm("aa")),
			want: []wantProblem{{"{type", 0, "runtime.newCondition: 'status' is required"}},
		},
		{
			name: "newCondition literal status",
			src:  rgd(conds("${runtime.newCondition({type: 'A', status: 'Yes'})}"), cm("aa")),
			want: []wantProblem{{"${runtime", 0, `runtime.newCondition: status must be one of True, False, Unknown (got "Yes")`}},
		},
		{
			name: "two entries declare one type",
			src:  rgd(conds("${runtime.newCondition({type: 'A', status: 'True'})}", "${runtime.newCondition({type: 'A', status: 'False'})}"), cm("aa")),
			want: []wantProblem{{"- '${runtime.newCondition({type: ''A'', status: ''False''", 2, `condition type "A" is declared by more than one conditions entry`}},
		},
		{
			name: "conditions may not read each other from schema",
			src:  rgd(conds("${runtime.newCondition({type: 'A', status: 'True'})}", "${runtime.newCondition({type: 'B', status: runtime.condition(schema, 'A').status})}"), cm("aa")),
			want: []wantProblem{{"- '${runtime.newCondition({type: ''B''", 3, `runtime.condition(schema, "A"): custom conditions cannot reference each other`}},
		},
		{
			name: "unknown type read from schema",
			src:  rgd(conds("${runtime.newCondition({type: 'B', status: runtime.condition(schema, 'Typo').status})}"), cm("aa")),
			want: []wantProblem{{"${runtime", 0, `runtime.condition(schema, "Typo"): unknown condition type`}},
		},
		{
			name: "lists.setAtIndex keeps the element type",
			src:  rgd("", cm("aa", "${string(lists.setAtIndex(schema.spec.items, 0, 1))}")),
			want: []wantProblem{{"lists.setAtIndex(", 16, "found no matching overload for 'lists.setAtIndex'"}},
		},
		{
			name: "not an RGD",
			src:  "apiVersion: v1\nkind: ConfigMap\n",
			want: []wantProblem{{"apiVersion", 0, `want apiVersion kro.run/v1alpha1, kind ResourceGraphDefinition; got "v1", "ConfigMap"`}},
		},
		{
			name: "nothing",
			src:  "# only a comment\n",
			want: []wantProblem{{"#", 0, "no ResourceGraphDefinition found"}},
		},
		{
			name: "invalid YAML",
			src:  "a: [1, 2\nb: 3\n",
			want: []wantProblem{{"b: 3", 0, "invalid YAML: did not find expected ',' or ']'"}},
		},
		{
			name: "unknown schema type",
			src:  strings.Replace(rgd("", cm("aa")), "replicas: integer", "replicas: integr", 1),
			want: []wantProblem{{"integr |", 0, `spec.replicas: unknown type "integr"`}},
		},
		{
			name: "kind must be PascalCase",
			src:  strings.Replace(rgd("", cm("aa")), "kind: Test", "kind: test", 1),
			want: []wantProblem{{"kind: test", 6, `spec.schema.kind "test" must be PascalCase`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := model.Load("t.yaml", []byte(tt.src))
			var ps model.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load = %v, want Problems\nsource:\n%s", err, tt.src)
			}
			var want []string
			for _, w := range tt.want {
				line, col := position(t, tt.src, w.at)
				if strings.Contains(w.at, "\n") {
					// The problem is delta bytes into a multi-line needle.
					i := strings.Index(tt.src, w.at) + w.delta
					line = strings.Count(tt.src[:i], "\n") + 1
					col = utf8.RuneCountInString(tt.src[strings.LastIndexByte(tt.src[:i], '\n')+1:i]) + 1
				} else {
					col += w.delta
				}
				want = append(want, fmt.Sprintf("t.yaml:%d:%d: %s", line, col, w.msg))
			}
			ok := len(ps) == len(want)
			for i := 0; ok && i < len(ps); i++ {
				ok = strings.HasPrefix(ps[i].Error(), want[i])
			}
			if !ok {
				t.Errorf("problems:\n%s\n\nwant (prefixes):\n%s", ps.Detail(), strings.Join(want, "\n"))
			}
		})
	}
}

func TestLoadLimits(t *testing.T) {
	deep := "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        data:\n          a:\n            b:\n              c:\n                d: e\n"
	aliases := "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        metadata:\n          labels: &labels\n            app: x\n        data:\n          a: *labels\n          b: *labels\n          c: *labels\n"
	tests := []struct {
		name  string
		limit func(*model.Limits)
		src   string
		want  string
	}{
		{name: "file size", limit: func(l *model.Limits) { l.FileBytes = 100 }, src: rgd("", cm("aa")), want: "file is over the limit of 100 bytes"},
		{name: "documents", limit: func(l *model.Limits) { l.Documents = 1 }, src: rgd("", cm("aa")) + "---\n" + rgd("", cm("aa")), want: "more than 1 YAML documents"},
		{name: "resources", limit: func(l *model.Limits) { l.Resources = 2 }, src: rgd("", cm("aa"), cm("bb"), cm("cc")), want: "3 resources, over the limit of 2"},
		{name: "expression bytes", limit: func(l *model.Limits) { l.ExprBytes = 10 }, src: rgd("", cm("aa", "${schema.spec.name}")), want: "expression is 19 bytes, over the limit of 10"},
		{name: "template depth", limit: func(l *model.Limits) { l.Depth = 3 }, src: rgd("", deep), want: "nested deeper than 3"},
		{name: "schema depth", limit: func(l *model.Limits) { l.Depth = 1 }, src: strings.Replace(rgd("", cm("aa")), "      enabled:", "      db:\n        pool:\n          size: integer\n      enabled:", 1), want: "schema nested deeper than 1"},
		{name: "aliases", limit: func(l *model.Limits) { l.Aliases = 2 }, src: rgd("", aliases), want: "more than 2 YAML alias uses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := model.Load("t.yaml", []byte(tt.src)); err != nil {
				t.Fatalf("under the default limits: %s", detail(err))
			}
			lim := model.DefaultLimits
			tt.limit(&lim)
			_, err := lim.Load("t.yaml", []byte(tt.src))
			var ps model.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load = %v, want Problems", err)
			}
			if !strings.Contains(ps.Error(), tt.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", ps.Detail(), tt.want)
			}
			if len(ps) > 3 {
				t.Errorf("one exceeded limit gave %d problems:\n%s", len(ps), ps.Detail())
			}
		})
	}
}

func TestLoadAliases(t *testing.T) {
	src := rgd("", "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        metadata:\n          labels: &labels\n            app: ${schema.spec.name}\n        data:\n          copy: *labels\n")
	g := loadOne(t, src)
	data := g.Resources[0].Template["data"].(map[string]any)
	if !reflect.DeepEqual(data["copy"], map[string]any{"app": "${schema.spec.name}"}) {
		t.Errorf("alias expanded to %#v", data["copy"])
	}
	var paths []string
	for _, f := range g.Resources[0].Fields {
		paths = append(paths, f.Path.String())
	}
	if want := []string{"metadata.labels.app", "data.copy.app"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("expression paths %v, want %v", paths, want)
	}
}

func TestLoadMergeKey(t *testing.T) {
	// Kubernetes YAML (sigs.k8s.io/yaml) resolves merge keys, so kro never sees "<<".
	const anchors = "        metadata:\n          labels: &a\n            x: a\n            y: a\n          annotations: &b\n            y: b\n            z: b\n"
	tests := []struct {
		name string
		data string // the ConfigMap's data mapping, indented by 10
		want map[string]any
	}{
		{name: "one mapping", data: "          <<: *a\n          own: o\n", want: map[string]any{"x": "a", "y": "a", "own": "o"}},
		{name: "explicit keys win", data: "          x: own\n          <<: *a\n", want: map[string]any{"x": "own", "y": "a"}},
		// YAML 1.1 merge: "keys in mapping nodes earlier in the sequence override keys specified in later mapping nodes".
		{name: "earlier mappings in a list win", data: "          <<: [*a, *b]\n", want: map[string]any{"x": "a", "y": "a", "z": "b"}},
		{name: "explicit key over a list", data: "          <<: [*b, *a]\n          z: own\n", want: map[string]any{"x": "a", "y": "b", "z": "own"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := rgd("", "    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n"+anchors+"        data:\n"+tt.data)
			g := loadOne(t, src)
			if got := g.Resources[0].Template["data"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("data = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("    - id: aa\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        data:\n          l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "          l%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	start := time.Now()
	_, err := model.Load("t.yaml", []byte(rgd("", b.String())))
	elapsed := time.Since(start)
	var ps model.Problems
	if !errors.As(err, &ps) || !strings.Contains(ps.Error(), "YAML alias uses") {
		t.Errorf("Load of 9^10 expansions = %v, want an alias limit problem", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("Load of an alias bomb took %v", elapsed)
	}
}

// TestEval runs compiled expressions against data to show that `schema` is
// typed from the SimpleSchema at compile time and read from plain maps at run time.
func TestEval(t *testing.T) {
	src := rgd("", cm("aa"), "    - id: bb\n      template:\n        apiVersion: apps/v1\n        kind: Deployment\n        metadata:\n          name: ${schema.spec.name}-${aa.metadata.name}\n        spec:\n          replicas: ${schema.spec.replicas * 2}\n          paused: ${!schema.spec.enabled}\n          first: ${schema.spec.items[0]}\n          zone: ${aa.data.?zone.orValue('none')}\n          hash: ${hash.fnv64a(schema.spec.name)}\n")
	g := loadOne(t, src)
	vars := map[string]any{
		"schema": map[string]any{"spec": map[string]any{"name": "web", "replicas": int64(3), "enabled": true, "items": []any{"x", "y"}}},
		"aa":     map[string]any{"metadata": map[string]any{"name": "cfg"}, "data": map[string]any{}},
	}
	want := map[string]any{
		"metadata.name": "web-cfg",
		"spec.replicas": int64(6),
		"spec.paused":   false,
		"spec.first":    "x",
		"spec.zone":     "none",
		"spec.hash":     "XqDhGUhyHvE=", // base64 of the FNV-1a 64 hash of "web"
	}
	for _, f := range g.Resource("bb").Fields {
		out, _, err := f.Expr.Program.Eval(vars)
		if err != nil {
			t.Errorf("%s: Eval(%q): %v", f.Path, f.Expr.Source, err)
			continue
		}
		got, err := model.Native(out)
		if err != nil {
			t.Errorf("%s: Native(%v): %v", f.Path, out, err)
			continue
		}
		if w, ok := want[f.Path.String()]; !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f.Path, got, w)
		}
	}
	// A field the instance has not set yet is "no such key": kro's data-pending signal.
	replicas := g.Resource("bb").Fields[1].Expr
	_, _, err := replicas.Program.Eval(map[string]any{"schema": map[string]any{"spec": map[string]any{}}})
	if err == nil || !strings.Contains(err.Error(), "no such key") {
		t.Errorf("Eval without spec.replicas = %v, want a no such key error", err)
	}
	// The output type of a standalone expression is the schema's type.
	ast, iss := g.Env().Compile("schema.spec.replicas")
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	if ast.OutputType() != types.IntType {
		t.Errorf("schema.spec.replicas has type %v, want int", ast.OutputType())
	}
	if _, iss := g.Env().Compile("schema.spec.nope"); iss.Err() == nil || !strings.Contains(iss.Err().Error(), "undefined field 'nope'") {
		t.Errorf("compiling schema.spec.nope: %v, want undefined field", iss.Err())
	}
}

// TestTestdataREADME checks the hand-computed orders, sizes and levels that
// testdata/rgd/README.md states for each file against what Load builds.
func TestTestdataREADME(t *testing.T) {
	readme, err := os.ReadFile("../testdata/rgd/README.md")
	if err != nil {
		t.Fatal(err)
	}
	type doc struct{ kind, order, resources, edges, levels string }
	want := map[string][]doc{}
	row := regexp.MustCompile(`(?m)^\| (\S+\.yaml) \| ([^|]+)\| ([^|]+)\| ([^|]+)\| ([^|]+)\|`)
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		split := func(s string) []string {
			return strings.FieldsFunc(s, func(r rune) bool { return r == '+' || r == ',' || r == ' ' })
		}
		kinds, res, edges, levels := split(m[2]), split(m[3]), split(m[4]), split(m[5])
		for i := range kinds {
			if i >= len(res) || i >= len(edges) || i >= len(levels) {
				t.Fatalf("README row for %s does not give every number per document: %q", m[1], m[0])
			}
			want[m[1]] = append(want[m[1]], doc{kind: kinds[i], resources: res[i], edges: edges[i], levels: levels[i]})
		}
	}
	orders := regexp.MustCompile(`(?m)^- ([a-z-]+): (.+)$`)
	for _, m := range orders.FindAllStringSubmatch(string(readme), -1) {
		docs := want[m[1]+".yaml"]
		for i, o := range strings.Split(m[2], ";") {
			if i < len(docs) {
				docs[i].order = strings.TrimSpace(o)
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("no table rows found in the README")
	}
	for file, docs := range want {
		t.Run(file, func(t *testing.T) {
			gs, err := model.LoadFile("../testdata/rgd/" + file)
			if err != nil {
				t.Fatalf("LoadFile:\n%s", detail(err))
			}
			if len(gs) != len(docs) {
				t.Fatalf("%d RGDs, README says %d", len(gs), len(docs))
			}
			for i, g := range gs {
				levels := 0
				for _, r := range g.Resources {
					levels = max(levels, r.Level+1)
				}
				got := doc{kind: g.Kind, order: strings.Join(ids(g, g.Order), " "), resources: strconv.Itoa(len(g.Resources)),
					edges: strconv.Itoa(len(g.Edges())), levels: strconv.Itoa(levels)}
				if got != docs[i] {
					t.Errorf("document %d:\n got %+v\nwant %+v", i+1, got, docs[i])
				}
			}
		})
	}
}
