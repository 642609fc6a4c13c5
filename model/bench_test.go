package model_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/cel-go/interpreter"
	"gonum.org/v1/gonum/graph/simple"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/model/synth"
)

// layeredRGD generates an RGD of n ConfigMaps in layers of about sqrt(n):
// each resource past the first layer reads two resources of earlier layers
// (mostly the previous one), and every resource has three expressions.
func layeredRGD(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	width := 1
	for width*width < n {
		width++
	}
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: layered%d
spec:
  schema:
    apiVersion: v1alpha1
    kind: Layered
    spec:
      name: string | default=bench
      replicas: integer | default=3
  resources:
`, n)
	for i := range n {
		fmt.Fprintf(&b, "    - id: r%d\n      template:\n        apiVersion: v1\n        kind: ConfigMap\n        metadata:\n          name: ${schema.spec.name}-r%d\n        data:\n", i, i)
		layer := i / width
		if layer == 0 {
			b.WriteString("          a: ${string(schema.spec.replicas)}\n          b: x-${schema.spec.name}\n")
			continue
		}
		pick := func() int {
			if rng.IntN(4) > 0 { // three in four from the previous layer
				return (layer-1)*width + rng.IntN(width)
			}
			return rng.IntN(layer * width)
		}
		d1 := pick()
		d2 := pick()
		for d2 == d1 {
			d2 = pick()
		}
		fmt.Fprintf(&b, "          a: ${r%d.metadata.name}\n          b: ${r%d.metadata.name}-${schema.spec.name}\n", d1, d2)
	}
	return []byte(b.String())
}

func TestLayeredRGD(t *testing.T) {
	for _, n := range []int{5, 30, 100} {
		g := loadOne(t, string(layeredRGD(n, 1)))
		if len(g.Resources) != n || g.Exprs != 3*n {
			t.Errorf("n=%d: %d resources, %d expressions; want %d, %d", n, len(g.Resources), g.Exprs, n, 3*n)
		}
		if edges := len(g.Edges()); n > 5 && (edges < n || edges > 2*n) {
			t.Errorf("n=%d: %d edges, want about 2 per resource", n, edges)
		}
	}
	if string(layeredRGD(30, 1)) != string(layeredRGD(30, 1)) {
		t.Error("the generator is not deterministic")
	}
}

// BenchmarkBuild measures Load end to end: YAML, schema, CEL compile and graph.
// synth's layered graphs carry about nine expressions per resource; the
// exprs=3 fixtures carry three, the shape the build-time target is stated for.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{5, 30, 100, 1000} {
		data, err := synth.Generate(synth.Options{Shape: synth.Layered, Nodes: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("synth-layered/resources=%d", n), func(b *testing.B) { benchLoad(b, data) })
	}
	for _, n := range []int{5, 30, 100, 1000} {
		data := layeredRGD(n, 1)
		b.Run(fmt.Sprintf("exprs=3/resources=%d", n), func(b *testing.B) { benchLoad(b, data) })
	}
}

func benchLoad(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := model.Load("bench.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// randomDAG returns a DAG of n nodes and m distinct edges. Edges follow a
// random permutation of the IDs, so the order is not simply by ID.
func randomDAG(n, m int, seed uint64) *simple.DirectedGraph {
	rng := rand.New(rand.NewPCG(seed, seed))
	perm := rng.Perm(n)
	g := simple.NewDirectedGraph()
	for i := range n {
		g.AddNode(simple.Node(i))
	}
	for edges := 0; edges < m; {
		i, j := rng.IntN(n), rng.IntN(n)
		i, j = min(i, j), max(i, j)
		if i == j || g.HasEdgeFromTo(int64(perm[i]), int64(perm[j])) {
			continue
		}
		g.SetEdge(g.NewEdge(simple.Node(perm[i]), simple.Node(perm[j])))
		edges++
	}
	return g
}

func BenchmarkOrder(b *testing.B) {
	dag := randomDAG(1000, 3000, 1)
	b.Run("nodes=1000/edges=3000", func(b *testing.B) {
		for b.Loop() {
			if _, err := model.Order(dag); err != nil {
				b.Fatal(err)
			}
		}
	})
	// One reversed edge makes a cycle: Kahn stops early and the cycle is searched for.
	cyclic := randomDAG(1000, 3000, 1)
	e := cyclic.Edges()
	e.Next()
	cyclic.SetEdge(cyclic.NewEdge(e.Edge().To(), e.Edge().From()))
	b.Run("nodes=1000/edges=3001/cyclic", func(b *testing.B) {
		for b.Loop() {
			if _, err := model.Order(cyclic); err == nil {
				b.Fatal("no cycle found")
			}
		}
	})
}

func TestRandomDAG(t *testing.T) {
	g := randomDAG(1000, 3000, 1)
	if g.Nodes().Len() != 1000 || g.Edges().Len() != 3000 {
		t.Fatalf("%d nodes, %d edges", g.Nodes().Len(), g.Edges().Len())
	}
	order, err := model.Order(g)
	if err != nil {
		t.Fatal(err)
	}
	pos := make(map[int64]int, len(order))
	for k, id := range order {
		pos[int64(id)] = k
	}
	for e := g.Edges(); e.Next(); {
		if f, to := e.Edge().From().ID(), e.Edge().To().ID(); pos[f] > pos[to] {
			t.Fatalf("edge %d -> %d is against the order", f, to)
		}
	}
}

const evalRGD = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: eval
spec:
  schema:
    apiVersion: v1alpha1
    kind: Eval
    spec:
      name: string | default=web
      replicas: integer | default=3
      regions: '[]string | default=["eu-west-1", "us-east-1", "ap-south-1"]'
  resources:
    - id: config
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.spec.name}-config
    - id: app
      template:
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: ${schema.spec.name}
        spec:
          replicas: ${schema.spec.replicas * 2}
          concat: ${schema.spec.name}-${config.metadata.name}-${string(schema.spec.replicas)}
          regions: ${schema.spec.regions.map(r, r.upperAscii()).join(",")}
          hash: ${hash.fnv64a(schema.spec.name + config.metadata.name)}
`

func BenchmarkEval(b *testing.B) {
	gs, err := model.Load("eval.yaml", []byte(evalRGD))
	if err != nil {
		b.Fatal(err)
	}
	act, err := interpreter.NewActivation(map[string]any{
		"schema": map[string]any{"spec": map[string]any{
			"name": "web", "replicas": int64(3), "regions": []any{"eu-west-1", "us-east-1", "ap-south-1"}}},
		"config": map[string]any{"metadata": map[string]any{"name": "web-config"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range gs[0].Resource("app").Fields {
		b.Run(f.Path[len(f.Path)-1].(string), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := f.Expr.Program.Eval(act); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEvalBounded evaluates ordinary expressions (every one of
// functions.yaml's resources) with and without the CEL bounds: the cost
// limit, size checks and interrupt checks should cost nothing measurable.
func BenchmarkEvalBounded(b *testing.B) {
	vars := map[string]any{"schema": map[string]any{"spec": map[string]any{
		"name": "app", "replicas": int64(3), "regions": []any{"eu", "us"}, "tuning": "x",
		"labels": map[string]any{"team": "a"}, "domain": "a.example.com",
		"features": []any{map[string]any{"name": "f", "enabled": true}}}}}
	for _, c := range []struct {
		name string
		lim  model.Limits
	}{{"bounded", model.DefaultLimits}, {"unbounded", func() model.Limits { l := model.DefaultLimits; l.CELCost, l.CELBytes = 0, 0; return l }()}} {
		gs, err := c.lim.LoadFile("../testdata/rgd/functions.yaml")
		if err != nil {
			b.Fatal(err)
		}
		var exprs []*model.Expr
		for _, f := range gs[0].Resources[0].Fields {
			exprs = append(exprs, f.Expr)
		}
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, e := range exprs {
					e.Program.Eval(vars)
				}
			}
		})
	}
}
