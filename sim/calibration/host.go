package calibration

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/model/synth"
	"github.com/krosim/krosim/sim/target"
	"gonum.org/v1/gonum/stat"
)

// HostCost times real work on this host (CEL compile and evaluation, graph
// walks, encoding) and fits the cost model's constants; it also returns a
// line of report per constant.
func HostCost() (target.Cost, []string, error) {
	var c target.Cost
	cel, err := timeCEL()
	if err != nil {
		return c, nil, err
	}
	if len(cel.units) < 3 {
		return c, nil, fmt.Errorf("too few expressions to fit the CEL cost model")
	}
	c.EvalBaseNS, c.EvalUnitNS = fit(cel.units, cel.evalNS)
	c.CompileBaseNS, c.CompileByteNS = fit(cel.srcBytes, cel.compileNS)
	report := []string{fmt.Sprintf("CEL eval %.0f ns + %.1f ns/cost unit over %d expressions", c.EvalBaseNS, c.EvalUnitNS, len(cel.units)),
		fmt.Sprintf("CEL compile %.0f ns + %.1f ns/byte", c.CompileBaseNS, c.CompileByteNS)}
	per, err := timeWalks()
	if err != nil {
		return c, nil, err
	}
	c.NodeNS, c.EdgeNS = per, per
	report = append(report, fmt.Sprintf("graph walk %.0f ns per node or edge", per))
	c.EncodeByteNS = timeEncoding()
	report = append(report, fmt.Sprintf("encode+decode %.1f ns/byte", c.EncodeByteNS))
	// Per-request and per-reconcile overheads are not measurable without a
	// server: keep the base target's (calibrate them against a real run).
	base, _ := target.Lookup("kro-defaults")
	c.RequestNS, c.ReconcileNS = base.Cost.RequestNS, base.Cost.ReconcileNS
	return c, report, nil
}

// generated is the RGD synth generates with o.
func generated(o synth.Options) (*model.RGD, error) {
	data, err := synth.Generate(o)
	if err != nil {
		return nil, err
	}
	rgds, err := model.Load("calibrate.yaml", data)
	if err != nil {
		return nil, err
	}
	return rgds[0], nil
}

// celTimes are CEL expressions' cost units and evaluation times, and their
// source sizes and compile times, in ns.
type celTimes struct {
	units, evalNS       []float64
	srcBytes, compileNS []float64
}

// timeCEL evaluates expressions of every complexity class, untracked as kro
// runs them, against their cost units from a tracked program, and compiles
// them.
func timeCEL() (celTimes, error) {
	var ts celTimes
	for _, cx := range synth.Complexities() {
		g, err := generated(synth.Options{Shape: synth.Chain, Nodes: 3, Complexity: cx, Seed: 1})
		if err != nil {
			return ts, err
		}
		vars := map[string]any{"schema": map[string]any{"metadata": map[string]any{"name": "x", "namespace": "y"}, "spec": g.Spec.Defaults()}}
		for _, r := range g.Resources {
			for _, f := range r.Fields {
				if !refsOnlySchema(f.Expr) {
					continue
				}
				if u, ns, ok := timeEval(g.Env(), f.Expr, vars); ok {
					ts.units = append(ts.units, u)
					ts.evalNS = append(ts.evalNS, ns)
				}
				ts.srcBytes = append(ts.srcBytes, float64(len(f.Expr.Source)))
				ts.compileNS = append(ts.compileNS, timeCompile(g.Env(), f.Expr))
			}
		}
	}
	return ts, nil
}

// timeCompile returns an expression's compile time in ns.
func timeCompile(env *cel.Env, e *model.Expr) float64 {
	start := time.Now()
	const n = 20
	for i := 0; i < n; i++ {
		if _, iss := env.Compile(e.Source); iss.Err() != nil {
			break
		}
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// timeWalks times kro's topological order over generated graphs and
// returns its ns per node or edge.
func timeWalks() (float64, error) {
	var elems, walkNS []float64
	for _, size := range [][2]int{{10, 15}, {30, 45}, {100, 200}, {300, 900}} {
		g, err := generated(synth.Options{Shape: synth.Layered, Nodes: size[0], Edges: size[1], Seed: 1})
		if err != nil {
			return 0, err
		}
		const n = 50
		start := time.Now()
		for i := 0; i < n; i++ {
			if _, err := model.Order(g.Graph); err != nil {
				return 0, err
			}
		}
		elems = append(elems, float64(size[0])+float64(size[1]))
		walkNS = append(walkNS, float64(time.Since(start).Nanoseconds())/n)
	}
	_, per := fit(elems, walkNS)
	return per, nil
}

// timeEncoding returns the ns per byte of encoding a typical object as JSON
// and decoding it back.
func timeEncoding() float64 {
	obj := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web", "labels": map[string]any{"app": "web", "tier": "frontend"}},
		"spec": map[string]any{"replicas": 3, "template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx:1.27", "ports": []any{map[string]any{"containerPort": 80}}}}}}}}
	const n = 20000
	start := time.Now()
	size := 0
	for i := 0; i < n; i++ {
		b, _ := json.Marshal(obj)
		var back map[string]any
		_ = json.Unmarshal(b, &back)
		size = len(b)
	}
	return round1(float64(time.Since(start).Nanoseconds()) / n / float64(size))
}

func refsOnlySchema(e *model.Expr) bool {
	for _, r := range e.Refs {
		if r != "schema" {
			return false
		}
	}
	return true
}

// timeEval returns an expression's cost units and its untracked evaluation time in ns.
func timeEval(env *cel.Env, e *model.Expr, vars map[string]any) (float64, float64, bool) {
	_, det, err := e.Program.Eval(vars)
	if err != nil || det == nil || det.ActualCost() == nil {
		return 0, 0, false
	}
	units := float64(*det.ActualCost())
	prg, err := env.Program(e.AST) // no cost tracking: as kro evaluates
	if err != nil {
		return 0, 0, false
	}
	n := 2000
	if units > 1000 {
		n = 50
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, _, err := prg.Eval(vars); err != nil {
			return 0, 0, false
		}
	}
	return units, float64(time.Since(start).Nanoseconds()) / float64(n), true
}

// fit returns the intercept and slope of y over x, never negative, to 0.1.
func fit(x, y []float64) (float64, float64) {
	a, b := stat.LinearRegression(x, y, nil, false)
	return round1(max(a, 0)), round1(max(b, 0))
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
