package synth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/krosim/krosim/model/synth"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// rgd is what the tests read back from a generated document, found without
// any help from the generator.
type rgd struct {
	name, kind string
	ids        []string
	kinds      []string
	// edges[to] is the set of resources that to's template, forEach or
	// includeWhen reference.
	edges map[string]map[string]bool
	// exprs[id] are the expressions of resource id's template; ready[id] its
	// readyWhen expressions.
	exprs, ready map[string][]string
	status       []string
	schemaSpec   map[string]any
	schemaTypes  map[string]any
}

func (r *rgd) edgeCount() int {
	n := 0
	for _, from := range r.edges {
		n += len(from)
	}
	return n
}

// parse reads a generated document with yaml.v3 and collects its references.
func parse(t *testing.T, data []byte) *rgd {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("output is not YAML: %v", err)
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		t.Fatalf("output holds more than one YAML document")
	}
	if doc["apiVersion"] != "kro.run/v1alpha1" || doc["kind"] != "ResourceGraphDefinition" {
		t.Fatalf("not an RGD: apiVersion %v, kind %v", doc["apiVersion"], doc["kind"])
	}
	spec := doc["spec"].(map[string]any)
	schema := spec["schema"].(map[string]any)
	r := &rgd{
		name:       doc["metadata"].(map[string]any)["name"].(string),
		kind:       schema["kind"].(string),
		edges:      map[string]map[string]bool{},
		exprs:      map[string][]string{},
		ready:      map[string][]string{},
		schemaSpec: schema["spec"].(map[string]any),
	}
	if types, ok := schema["types"].(map[string]any); ok {
		r.schemaTypes = types
	}
	ids := map[string]bool{}
	for _, item := range spec["resources"].([]any) {
		res := item.(map[string]any)
		id := res["id"].(string)
		if ids[id] {
			t.Fatalf("duplicate id %q", id)
		}
		ids[id] = true
		r.ids = append(r.ids, id)
		tmpl, ok := res["template"].(map[string]any)
		if !ok {
			t.Fatalf("resource %s has no template", id)
		}
		r.kinds = append(r.kinds, tmpl["kind"].(string))
		var srcs []string
		strings_(tmpl, &srcs)
		strings_(res["includeWhen"], &srcs)
		strings_(res["forEach"], &srcs)
		for _, s := range srcs {
			r.exprs[id] = append(r.exprs[id], expressions(s)...)
		}
		var ready []string
		strings_(res["readyWhen"], &ready)
		for _, s := range ready {
			r.ready[id] = append(r.ready[id], expressions(s)...)
		}
	}
	var status []string
	strings_(schema["status"], &status)
	for _, s := range status {
		r.status = append(r.status, expressions(s)...)
	}
	for _, id := range r.ids {
		for _, e := range r.exprs[id] {
			for _, ref := range roots(e) {
				if ids[ref] {
					if r.edges[id] == nil {
						r.edges[id] = map[string]bool{}
					}
					r.edges[id][ref] = true
				}
			}
		}
	}
	return r
}

// strings_ appends every string scalar under v to out.
func strings_(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			strings_(v[k], out)
		}
	case []any:
		for _, x := range v {
			strings_(x, out)
		}
	}
}

// expressions returns the text of every ${...} in s. Like kro, it skips braces
// inside double-quoted CEL literals.
func expressions(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return out
		}
		depth, quoted, end := 1, false, -1
		for j := i + 2; j < len(s) && end < 0; j++ {
			switch c := s[j]; {
			case c == '\\' && quoted:
				j++
			case c == '"':
				quoted = !quoted
			case quoted:
			case c == '{':
				depth++
			case c == '}':
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			return append(out, s[i+2:]) // unterminated: let the caller see it
		}
		out = append(out, s[i+2:end])
		s = s[end+1:]
	}
}

// roots returns the identifiers an expression starts a selection from: not
// field names (after a dot), not function or macro names (before a '('), and
// nothing inside string literals.
func roots(expr string) []string {
	var out []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			j := i
			for j < len(expr) && (expr[j] == '_' || 'a' <= expr[j] && expr[j] <= 'z' || 'A' <= expr[j] && expr[j] <= 'Z' || '0' <= expr[j] && expr[j] <= '9') {
				j++
			}
			prev := strings.TrimRight(expr[:i], " ")
			next := strings.TrimLeft(expr[j:], " ")
			if !strings.HasSuffix(prev, ".") && !strings.HasPrefix(next, "(") {
				out = append(out, expr[i:j])
			}
			i = j
		case '0' <= c && c <= '9':
			for i < len(expr) && ('0' <= expr[i] && expr[i] <= '9' || expr[i] == '.') {
				i++
			}
		default:
			i++
		}
	}
	return out
}

var (
	idRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	// Comprehension variables the generator binds and the literals CEL knows.
	bound = map[string]bool{"i": true, "t": true, "c": true, "true": true, "false": true, "null": true}
)

// check asserts what must hold for every generated RGD.
func check(t *testing.T, o synth.Options, data []byte) *rgd {
	t.Helper()
	r := parse(t, data)
	if len(r.ids) != o.Nodes {
		t.Errorf("got %d resources, want %d", len(r.ids), o.Nodes)
	}
	wantEdges := o.Edges
	if wantEdges == 0 {
		wantEdges, _ = synth.NaturalEdges(o.Shape, o.Nodes)
	}
	if got := r.edgeCount(); got != wantEdges {
		t.Errorf("got %d edges, want %d", got, wantEdges)
	}
	if !regexp.MustCompile(`^[A-Z][a-zA-Z0-9]*$`).MatchString(r.kind) {
		t.Errorf("schema kind %q is not UpperCamelCase", r.kind)
	}
	pos := map[string]int{}
	for i, id := range r.ids {
		pos[id] = i
		if !idRE.MatchString(id) {
			t.Errorf("id %q is not lowerCamelCase", id)
		}
	}
	for i, id := range r.ids {
		// References go backwards only: emission order is a topological
		// order, so the graph is acyclic and has no self references.
		for dep := range r.edges[id] {
			if pos[dep] >= i {
				t.Errorf("%s references %s, which does not come before it", id, dep)
			}
		}
		for _, e := range r.exprs[id] {
			for _, root := range roots(e) {
				if _, ok := pos[root]; !ok && root != "schema" && !bound[root] {
					t.Errorf("%s: ${%s} references unknown identifier %q", id, e, root)
				}
			}
		}
		if r.kinds[i] == "Deployment" && len(r.ready[id]) == 0 {
			t.Errorf("Deployment %s has no readyWhen", id)
		}
		for _, e := range r.ready[id] {
			for _, root := range roots(e) {
				if root != id && !bound[root] {
					t.Errorf("%s: readyWhen ${%s} references %q", id, e, root)
				}
			}
		}
	}
	if len(r.status) < 2 {
		t.Errorf("schema.status has %d expressions, want at least 2", len(r.status))
	}
	for _, e := range r.status {
		for _, root := range roots(e) {
			if _, ok := pos[root]; !ok && root != "schema" && !bound[root] {
				t.Errorf("status ${%s} references unknown identifier %q", e, root)
			}
		}
	}
	return r
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name string
		o    synth.Options
	}{
		{"chain", synth.Options{Shape: synth.Chain, Nodes: 5}},
		{"chain/one node", synth.Options{Shape: synth.Chain, Nodes: 1}},
		{"chain/explicit edges", synth.Options{Shape: synth.Chain, Nodes: 12, Edges: 11}},
		{"fanout", synth.Options{Shape: synth.Fanout, Nodes: 8}},
		{"fanout/two nodes", synth.Options{Shape: synth.Fanout, Nodes: 2}},
		{"fanin", synth.Options{Shape: synth.Fanin, Nodes: 8}},
		{"diamond", synth.Options{Shape: synth.Diamond, Nodes: 7}},
		{"diamond/smallest", synth.Options{Shape: synth.Diamond, Nodes: 4, Edges: 4}},
		{"layered/natural", synth.Options{Shape: synth.Layered, Nodes: 20}},
		{"layered/one node", synth.Options{Shape: synth.Layered, Nodes: 1}},
		{"layered/tree", synth.Options{Shape: synth.Layered, Nodes: 40, Edges: 39}},
		{"layered/complete", synth.Options{Shape: synth.Layered, Nodes: 12, Edges: 66}},
		{"layered/dense", synth.Options{Shape: synth.Layered, Nodes: 30, Edges: 400}},
		{"report/small 5x4", synth.Options{Shape: synth.Layered, Nodes: 5, Edges: 4}},
		{"report/medium 15x25", synth.Options{Shape: synth.Layered, Nodes: 15, Edges: 25}},
		{"report/large 30x45", synth.Options{Shape: synth.Layered, Nodes: 30, Edges: 45}},
		{"report/very large 100x200", synth.Options{Shape: synth.Layered, Nodes: 100, Edges: 200}},
		{"report/1000x3000", synth.Options{Shape: synth.Layered, Nodes: 1000, Edges: 3000}},
		{"report/1000x3000 very-complex", synth.Options{Shape: synth.Layered, Nodes: 1000, Edges: 3000, Complexity: synth.VeryComplex}},
	}
	for _, s := range synth.Shapes() {
		for _, c := range synth.Complexities() {
			tests = append(tests, struct {
				name string
				o    synth.Options
			}{fmt.Sprintf("%s/%s", s, c), synth.Options{Shape: s, Nodes: 13, Complexity: c, Seed: 3}})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := synth.Generate(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			r := check(t, tt.o, out)
			if tt.o.Nodes >= 6 {
				for _, k := range []string{"Deployment", "Service", "ConfigMap", "Secret", "Ingress", "Widget"} {
					if !slices.Contains(r.kinds, k) {
						t.Errorf("no resource of kind %s", k)
					}
				}
			}
		})
	}
}

// TestShapes checks the structure of the fixed shapes, edge by edge.
func TestShapes(t *testing.T) {
	tests := []struct {
		shape synth.Shape
		nodes int
		// want reports whether resource i (in emission order) references j.
		want func(i, j, n int) bool
	}{
		{synth.Chain, 6, func(i, j, n int) bool { return j == i-1 }},
		{synth.Fanout, 6, func(i, j, n int) bool { return j == 0 && i > 0 }},
		{synth.Fanin, 6, func(i, j, n int) bool { return i == n-1 && j < i }},
		{synth.Diamond, 6, func(i, j, n int) bool { return j == 0 && i > 0 && i < n-1 || i == n-1 && j > 0 && j < i }},
	}
	for _, tt := range tests {
		t.Run(string(tt.shape), func(t *testing.T) {
			o := synth.Options{Shape: tt.shape, Nodes: tt.nodes}
			out, err := synth.Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			r := check(t, o, out)
			for i, to := range r.ids {
				for j, from := range r.ids {
					if got, want := r.edges[to][from], tt.want(i, j, tt.nodes); got != want {
						t.Errorf("%s references %s: %v, want %v", to, from, got, want)
					}
				}
			}
		})
	}
}

// TestLayeredDepth checks that layered graphs are deeper than one level and
// have a single root, as the spanning tree over layers promises.
func TestLayeredDepth(t *testing.T) {
	o := synth.Options{Shape: synth.Layered, Nodes: 100, Edges: 200, Seed: 9}
	out, err := synth.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	r := check(t, o, out)
	depth := map[string]int{}
	roots := 0
	deepest := 0
	for _, id := range r.ids {
		if len(r.edges[id]) == 0 {
			roots++
		}
		for dep := range r.edges[id] {
			depth[id] = max(depth[id], depth[dep]+1)
		}
		deepest = max(deepest, depth[id])
	}
	if roots != 1 {
		t.Errorf("got %d roots, want 1", roots)
	}
	if deepest != 9 { // ceil(sqrt(100)) = 10 layers
		t.Errorf("longest dependency chain has %d edges, want 9", deepest)
	}
}

func TestComplexity(t *testing.T) {
	var (
		ternary = regexp.MustCompile(` \? `)
		deep    = regexp.MustCompile(`\[0\]|\["`)
		nested  = regexp.MustCompile(`\.(all|exists|filter)\(i, .*\.(all|exists)\(t, `)
	)
	tests := []struct {
		c                        synth.Complexity
		ternary, deep, quantlist bool // whether expressions of each form appear
	}{
		{synth.Simple, false, false, false},
		{synth.Medium, true, false, false},
		{synth.Complex, true, true, false},
		{synth.VeryComplex, false, true, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.c), func(t *testing.T) {
			o := synth.Options{Shape: synth.Layered, Nodes: 24, Edges: 40, Complexity: tt.c, Seed: 5}
			out, err := synth.Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			r := check(t, o, out)
			count := map[*regexp.Regexp]int{}
			for _, id := range r.ids {
				for _, e := range r.exprs[id] {
					for _, re := range []*regexp.Regexp{ternary, deep, nested} {
						if re.MatchString(e) {
							count[re]++
						}
					}
				}
			}
			if got := count[ternary] > 0; got != tt.ternary && tt.c != synth.VeryComplex {
				t.Errorf("ternaries: %v, want %v", got, tt.ternary)
			}
			if got := count[deep] > 0; got != tt.deep {
				t.Errorf("deep paths: %v, want %v", got, tt.deep)
			}
			if got := count[nested] > 0; got != tt.quantlist {
				t.Errorf("nested quantifiers: %v, want %v", got, tt.quantlist)
			}
			if !tt.deep {
				return
			}
			// Every dependency is read through at least one deep path.
			for _, id := range r.ids {
				for dep := range r.edges[id] {
					found := false
					for _, e := range r.exprs[id] {
						found = found || deep.MatchString(e) && slices.Contains(roots(e), dep)
					}
					if !found {
						t.Errorf("%s reads %s through no deep path", id, dep)
					}
				}
			}
		})
	}
}

func TestVeryComplexSchema(t *testing.T) {
	out, err := synth.Generate(synth.Options{Shape: synth.Chain, Nodes: 3, Complexity: synth.VeryComplex})
	if err != nil {
		t.Fatal(err)
	}
	r := parse(t, out)
	item, ok := r.schemaTypes["item"].(map[string]any)
	if !ok || item["name"] != "string" || item["tags"] != "[]string" {
		t.Fatalf("spec.schema.types.item = %v, want {name: string, tags: '[]string'}", r.schemaTypes["item"])
	}
	field, _ := r.schemaSpec["items"].(string)
	def, ok := strings.CutPrefix(field, "[]item | default=")
	if !ok {
		t.Fatalf("spec.items = %.40q, want a []item with a default", field)
	}
	if strings.ContainsAny(def, " \n") {
		t.Errorf("items default is not compact JSON")
	}
	var items []struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(def), &items); err != nil {
		t.Fatalf("items default: %v", err)
	}
	if len(items) != 100 {
		t.Errorf("items default has %d items, want 100", len(items))
	}
	for _, it := range items {
		if len(it.Tags) != 5 {
			t.Fatalf("item %s has %d tags, want 5", it.Name, len(it.Tags))
		}
	}
	// Every other field has a default, so an instance can be made from defaults.
	var fields []string
	strings_(r.schemaSpec, &fields)
	for _, f := range fields {
		if !strings.Contains(f, "default=") {
			t.Errorf("schema field %q has no default", f)
		}
	}
}

func TestDeterminism(t *testing.T) {
	for _, s := range synth.Shapes() {
		t.Run(string(s), func(t *testing.T) {
			o := synth.Options{Shape: s, Nodes: 40, Complexity: synth.VeryComplex, Seed: 11}
			a, err := synth.Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := synth.Generate(o)
			if !bytes.Equal(a, b) {
				t.Fatal("same options gave different bytes")
			}
		})
	}
	t.Run("layered/seed", func(t *testing.T) {
		o := synth.Options{Shape: synth.Layered, Nodes: 30, Edges: 45, Seed: 1}
		a, _ := synth.Generate(o)
		o.Seed = 2
		b, _ := synth.Generate(o)
		ea, eb := parse(t, a).edges, parse(t, b).edges
		if fmt.Sprint(ea) == fmt.Sprint(eb) {
			t.Error("seeds 1 and 2 gave the same layered graph")
		}
	})
}

func TestGolden(t *testing.T) {
	tests := []struct {
		file string
		o    synth.Options
	}{
		{"chain-3-simple.yaml", synth.Options{Shape: synth.Chain, Nodes: 3, Seed: 1}},
		{"layered-8-12-medium.yaml", synth.Options{Shape: synth.Layered, Nodes: 8, Edges: 12, Complexity: synth.Medium, Seed: 1}},
		{"diamond-6-complex.yaml", synth.Options{Shape: synth.Diamond, Nodes: 6, Complexity: synth.Complex, Seed: 1, Name: "diamond.synth.krosim.dev"}},
		{"fanin-4-very-complex.yaml", synth.Options{Shape: synth.Fanin, Nodes: 4, Complexity: synth.VeryComplex, Seed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := synth.Generate(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run go test -update after checking the change)", path)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name   string
		o      synth.Options
		option string // the Options field the error names
		msg    string
	}{
		{"unknown shape", synth.Options{Shape: "ring", Nodes: 5}, "shape", `unknown shape "ring"`},
		{"no shape", synth.Options{Nodes: 5}, "shape", `unknown shape ""`},
		{"unknown complexity", synth.Options{Shape: synth.Chain, Nodes: 5, Complexity: "extreme"}, "complexity", `unknown complexity "extreme"`},
		{"zero nodes", synth.Options{Shape: synth.Layered}, "nodes", "needs 1 to 10000 nodes, got 0"},
		{"too many nodes", synth.Options{Shape: synth.Chain, Nodes: synth.MaxNodes + 1}, "nodes", "got 10001"},
		{"fanout of one", synth.Options{Shape: synth.Fanout, Nodes: 1}, "nodes", "a fanout graph needs 2"},
		{"diamond of three", synth.Options{Shape: synth.Diamond, Nodes: 3}, "nodes", "a diamond graph needs 4"},
		{"chain with extra edge", synth.Options{Shape: synth.Chain, Nodes: 5, Edges: 5}, "edges", "a chain graph of 5 nodes has exactly 4 edges, got 5"},
		{"fanin with missing edge", synth.Options{Shape: synth.Fanin, Nodes: 5, Edges: 3}, "edges", "has exactly 4 edges, got 3"},
		{"diamond edges", synth.Options{Shape: synth.Diamond, Nodes: 6, Edges: 5}, "edges", "a diamond graph of 6 nodes has exactly 8 edges, got 5"},
		{"layered disconnected", synth.Options{Shape: synth.Layered, Nodes: 30, Edges: 28}, "edges", "needs at least 29 edges, got 28"},
		{"layered beyond a DAG", synth.Options{Shape: synth.Layered, Nodes: 5, Edges: 11}, "edges", "a DAG of 5 nodes has at most 10 edges, got 11"},
		{"negative edges", synth.Options{Shape: synth.Layered, Nodes: 5, Edges: -1}, "edges", "must not be negative"},
		{"too many edges", synth.Options{Shape: synth.Layered, Nodes: 1000, Edges: synth.MaxEdges + 1}, "edges", "at most 100000 edges"},
		{"bad name", synth.Options{Shape: synth.Chain, Nodes: 5, Name: "My_Graph"}, "name", `"My_Graph" is not a lower-case DNS subdomain`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := synth.Generate(tt.o)
			if err == nil {
				t.Fatalf("no error; generated %d bytes", len(out))
			}
			var e *synth.Error
			if !errors.As(err, &e) || e.Option != tt.option {
				t.Errorf("error %q does not blame option %q", err, tt.option)
			}
			if !strings.HasPrefix(err.Error(), "synth: "+tt.option+": ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want synth: %s: ...%s...", err, tt.option, tt.msg)
			}
		})
	}
	t.Run("every problem", func(t *testing.T) {
		_, err := synth.Generate(synth.Options{Shape: "ring", Complexity: "extreme", Name: "_"})
		for _, opt := range []string{"shape", "complexity", "name"} {
			if !strings.Contains(err.Error(), "synth: "+opt+": ") {
				t.Errorf("error %q does not report the %s", err, opt)
			}
		}
	})
}

func TestEdgeRange(t *testing.T) {
	tests := []struct {
		shape           synth.Shape
		nodes           int
		lo, hi, natural int
	}{
		{synth.Chain, 1, 0, 0, 0},
		{synth.Chain, 10, 9, 9, 9},
		{synth.Fanout, 10, 9, 9, 9},
		{synth.Fanin, 10, 9, 9, 9},
		{synth.Diamond, 10, 16, 16, 16},
		{synth.Layered, 1, 0, 0, 0},
		{synth.Layered, 3, 2, 3, 3},
		{synth.Layered, 5, 4, 10, 10},
		{synth.Layered, 30, 29, 435, 60},
		{synth.Layered, 1000, 999, 499500, 2000},
		{synth.Layered, 10000, 9999, 49995000, 20000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.shape, tt.nodes), func(t *testing.T) {
			lo, hi, err := synth.EdgeRange(tt.shape, tt.nodes)
			if err != nil || lo != tt.lo || hi != tt.hi {
				t.Errorf("EdgeRange = %d, %d, %v; want %d, %d", lo, hi, err, tt.lo, tt.hi)
			}
			if n, err := synth.NaturalEdges(tt.shape, tt.nodes); err != nil || n != tt.natural {
				t.Errorf("NaturalEdges = %d, %v; want %d", n, err, tt.natural)
			}
		})
	}
}

func ExampleGenerate() {
	out, err := synth.Generate(synth.Options{Shape: synth.Chain, Nodes: 3, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "id:") || strings.Contains(line, "dep-") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// - id: deploy0001
	// - id: svc0002
	// synth.krosim.dev/dep-deploy0001: ${deploy0001.metadata.name}
	// - id: config0003
	// dep-svc0002: ${svc0002.metadata.name}
}

func ExampleEdgeRange() {
	for _, s := range synth.Shapes() {
		lo, hi, _ := synth.EdgeRange(s, 10)
		natural, _ := synth.NaturalEdges(s, 10)
		fmt.Printf("%s: %d..%d edges, natural %d\n", s, lo, hi, natural)
	}
	// Output:
	// chain: 9..9 edges, natural 9
	// fanout: 9..9 edges, natural 9
	// fanin: 9..9 edges, natural 9
	// diamond: 16..16 edges, natural 16
	// layered: 9..45 edges, natural 20
}

func BenchmarkGenerate(b *testing.B) {
	sizes := []struct{ nodes, edges int }{{5, 4}, {15, 25}, {30, 45}, {100, 200}, {1000, 3000}}
	for _, c := range []synth.Complexity{synth.Simple, synth.VeryComplex} {
		for _, s := range sizes {
			o := synth.Options{Shape: synth.Layered, Nodes: s.nodes, Edges: s.edges, Complexity: c, Seed: 1}
			b.Run(fmt.Sprintf("%s/%dx%d", c, s.nodes, s.edges), func(b *testing.B) {
				for b.Loop() {
					if _, err := synth.Generate(o); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
