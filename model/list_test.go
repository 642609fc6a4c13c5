package model_test

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/krosim/krosim/model"
)

// asList writes documents as the items of a kind: List, as kubectl get -o yaml does.
func asList(docs ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n")
	for _, d := range docs {
		for i, line := range strings.Split(strings.TrimRight(d, "\n"), "\n") {
			prefix := "  "
			if i == 0 {
				prefix = "- "
			}
			if strings.TrimSpace(line) == "" {
				prefix = ""
			}
			b.WriteString(prefix + line + "\n")
		}
	}
	return b.String()
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("../testdata/rgd/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// summary is what a loaded RGD is, position aside: its name, kind, order and edges.
func summary(gs []*model.RGD) []string {
	var out []string
	for _, g := range gs {
		var order []string
		for _, i := range g.Order {
			order = append(order, g.Resources[i].ID)
		}
		out = append(out, g.Name+" "+g.Kind+" "+strings.Join(order, ",")+" "+strings.Join(edges(g), ","))
	}
	return out
}

func edges(g *model.RGD) []string {
	var out []string
	for _, e := range g.Edges() {
		out = append(out, e[0]+">"+e[1])
	}
	return out
}

// TestLoadList checks that a List of RGDs loads as the same RGDs written
// as YAML documents, items and documents mixed, nested Lists flattened.
func TestLoadList(t *testing.T) {
	chain, webapp := readTestdata(t, "chain.yaml"), readTestdata(t, "webapp.yaml")
	docs, err := model.Load("docs.yaml", []byte(chain+"\n---\n"+webapp))
	if err != nil {
		t.Fatal(detail(err))
	}
	want := summary(docs)
	if len(want) != 2 {
		t.Fatalf("%d RGDs from two documents", len(want))
	}
	for _, tt := range []struct{ name, src string }{
		{"List", asList(chain, webapp)},
		{"typed List", strings.Replace(asList(chain, webapp), "kind: List", "kind: ResourceGraphDefinitionList", 1)},
		{"List then a document", asList(chain) + "---\n" + webapp},
		{"nested List", asList(asList(chain), webapp)},
		{"empty List among documents", chain + "\n---\n" + "apiVersion: v1\nkind: List\nitems: []\n---\n" + webapp},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gs, err := model.Load("list.yaml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Load:\n%s\n%s", detail(err), tt.src)
			}
			if got := summary(gs); !reflect.DeepEqual(got, want) {
				t.Errorf("got %v\nwant %v", got, want)
			}
		})
	}
}

// TestLoadListProblems checks that problems inside a List item are
// positioned in the file, on the item's own lines.
func TestLoadListProblems(t *testing.T) {
	good := readTestdata(t, "chain.yaml")
	bad := strings.Replace(good, "${settings.data.greeting}", "${settings.data.greeting + nothere}", 1)
	src := asList(good, bad)
	line, col := position(t, src, "nothere}")
	// The second occurrence: the first item has no such text, so the first is it.
	_, err := model.Load("list.yaml", []byte(src))
	var ps model.Problems
	if !errors.As(err, &ps) || len(ps) != 1 {
		t.Fatalf("err = %v, want one problem", err)
	}
	p := ps[0]
	if p.Pos.File != "list.yaml" || p.Pos.Line != line || p.Pos.Col != col || !strings.Contains(p.Msg, "nothere") {
		t.Errorf("problem %s, want list.yaml:%d:%d about nothere", p.Error(), line, col)
	}
	if !strings.Contains(ps.Detail(), "token: ${settings.data.greeting + nothere}\n") {
		t.Errorf("detail does not show the item's line:\n%s", ps.Detail())
	}

	for _, tt := range []struct {
		name, src string
		want      wantProblem
	}{
		{"items not a list", "apiVersion: v1\nkind: List\nitems: {a: 1}\n", wantProblem{at: "{a: 1}", msg: "List: items must be a list"}},
		{"an item that is no RGD", asList("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"), wantProblem{at: "apiVersion: v1\n  kind: ConfigMap", msg: "want apiVersion kro.run/v1alpha1"}},
		{"List of nothing", "apiVersion: v1\nkind: List\nitems: []\n", wantProblem{at: "apiVersion", msg: "no ResourceGraphDefinition found"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := model.Load("l.yaml", []byte(tt.src))
			var ps model.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			line, col := position(t, tt.src, tt.want.at)
			if p := ps[0]; p.Pos.Line != line || p.Pos.Col != col+tt.want.delta || !strings.HasPrefix(p.Msg, tt.want.msg) {
				t.Errorf("problem %s, want l.yaml:%d:%d: %s...", p.Error(), line, col+tt.want.delta, tt.want.msg)
			}
		})
	}
}

// TestLoadReader checks that input read from standard input is named <stdin>.
func TestLoadReader(t *testing.T) {
	src := strings.Replace(readTestdata(t, "chain.yaml"), "${settings.data.greeting}", "${nothere}", 1)
	_, err := model.DefaultLimits.LoadReader(model.Stdin, strings.NewReader(src))
	line, col := position(t, src, "nothere}")
	if err == nil || !strings.HasPrefix(err.Error(), "<stdin>:"+strconv.Itoa(line)+":"+strconv.Itoa(col)+": ") {
		t.Errorf("err = %v, want it at <stdin>:%d:%d", err, line, col)
	}
	gs, err := model.DefaultLimits.LoadReader(model.Stdin, strings.NewReader(readTestdata(t, "chain.yaml")))
	if err != nil || len(gs) != 1 || gs[0].File != "<stdin>" {
		t.Errorf("LoadReader: %v, %d RGDs", err, len(gs))
	}
	_, err = model.Limits{FileBytes: 10, Documents: 1, Nodes: 100}.LoadReader(model.Stdin, strings.NewReader(src))
	if err == nil || !strings.Contains(err.Error(), "over the limit of 10 bytes") {
		t.Errorf("over the size limit: %v", err)
	}
}

// TestObject checks that an RGD's Object is its own document, also as an
// item of a List: what real mode applies to a cluster.
func TestObject(t *testing.T) {
	chain, webapp := readTestdata(t, "chain.yaml"), readTestdata(t, "webapp.yaml")
	gs, err := model.Load("list.yaml", []byte(asList(chain, webapp)))
	if err != nil {
		t.Fatal(detail(err))
	}
	for i, g := range gs {
		obj, err := g.Object()
		if err != nil {
			t.Fatal(err)
		}
		md, _ := obj["metadata"].(map[string]any)
		if obj["kind"] != "ResourceGraphDefinition" || md["name"] != g.Name {
			t.Errorf("item %d: object of kind %v named %v, want %s", i, obj["kind"], md["name"], g.Name)
		}
		if _, err := json.Marshal(obj); err != nil {
			t.Errorf("item %d: not JSON: %v", i, err)
		}
	}
}

// TestLoadCRDList checks that a List of CRDs (kubectl get crd -o yaml) types their kinds.
func TestLoadCRDList(t *testing.T) {
	data, err := os.ReadFile("../testdata/realapi/standins.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, d := range strings.Split(string(data), "\n---\n") {
		if strings.Contains(d, "kind: CustomResourceDefinition") {
			docs = append(docs, d)
		}
	}
	plain, err := model.LoadCRDs("crds.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	list, err := model.LoadCRDs("list.yaml", []byte(asList(docs...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Roots) == 0 || !reflect.DeepEqual(keys(list.Kinds), keys(plain.Kinds)) {
		t.Errorf("List kinds %v, documents %v", keys(list.Kinds), keys(plain.Kinds))
	}
	if _, err := model.LoadCRDs("bad.yaml", []byte("apiVersion: v1\nkind: List\nitems: 3\n")); err == nil || !strings.Contains(err.Error(), "items must be a list") {
		t.Errorf("items not a list: %v", err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
