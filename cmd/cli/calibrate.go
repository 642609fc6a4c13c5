package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/model/synth"
	"github.com/krosim/krosim/sim/target"
	"github.com/spf13/pflag"
	"gonum.org/v1/gonum/stat"
)

type calibrateOptions struct {
	base       string
	out        string
	name       string
	serverCPUs int
	api        *apiCalibrateOptions // --kubeconfig: a real API server's latency instead
}

var calibrateCmd = &command{
	name:    "calibrate",
	args:    "",
	summary: "measure this host's CPU cost per unit of work (CEL, graph walks, encoding), or a real API server's latency (--kubeconfig) or a real run's (--from), and write a target file",
	flags: func(fs *pflag.FlagSet) any {
		o := &calibrateOptions{}
		fs.StringVar(&o.base, "target", "kro-defaults", "target to start from; only its cost section is replaced")
		fs.StringVarP(&o.out, "output", "o", "", "write the target file here (default: stdout)")
		fs.StringVar(&o.name, "name", "calibrated", "name of the new target")
		fs.IntVar(&o.serverCPUs, "server-cpus", -1, "set the processors that serve API requests (server.cpus): the host's, when the API server, etcd and kro share it as on the real-API harness; with --from the run's latency is then split into work and the wait for a processor (default: with --kubeconfig and several --concurrency values, what the server's throughput shows; else the base target's)")
		o.api = declareAPICalibrateFlags(fs)
		return o
	},
	run: func(e *env, o any, args []string) error {
		opts := o.(*calibrateOptions)
		if len(args) > 0 {
			return usagef("unexpected arguments %v", args)
		}
		if err := intFlag("--server-cpus", opts.serverCPUs, -1, target.MaxCPUs); err != nil {
			return err
		}
		t, err := target.Lookup(opts.base)
		if err != nil {
			return err
		}
		t = t.Clone()
		if opts.serverCPUs >= 0 {
			t.Server.CPUs = opts.serverCPUs
		}
		switch {
		case len(opts.api.from) > 0 && opts.api.kubeconfig != "":
			return usagef("--from and --kubeconfig exclude each other")
		case len(opts.api.from) > 0:
			return calibrateFromRun(e, opts, t)
		case opts.api.kubeconfig != "":
			return calibrateAPI(e, opts, t)
		}
		cost, report, err := measureCosts()
		if err != nil {
			return err
		}
		t.Name = opts.name
		t.Cost = cost
		t.Description = fmt.Sprintf("%s with CPU costs measured by krosim calibrate on this host (%s/%s, GOMAXPROCS %d, %s). %s",
			opts.base, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.Version(), strings.Join(report, "; "))
		fmt.Fprintln(e.stderr, "krosim calibrate: "+strings.Join(report, "\n  "))
		return writeTarget(e, opts.out, t)
	},
}

// writeTarget writes t as a target file to out, or to stdout when out is empty.
func writeTarget(e *env, out string, t *target.Target) error {
	y, err := t.YAML()
	if err != nil {
		return err
	}
	if out == "" {
		_, err = e.stdout.Write(y)
		return err
	}
	return writeFileAtomic(out, y)
}

// measureCosts times real work on this host and fits the cost model's constants.
func measureCosts() (target.Cost, []string, error) {
	var c target.Cost
	var report []string
	// CEL: evaluate expressions of every complexity class, untracked as kro
	// runs them, against their cost units from a tracked program.
	var units, nanos []float64
	var srcBytes, compileNS []float64
	for _, cx := range synth.Complexities() {
		data, err := synth.Generate(synth.Options{Shape: synth.Chain, Nodes: 3, Complexity: cx, Seed: 1})
		if err != nil {
			return c, nil, err
		}
		rgds, err := model.Load("calibrate.yaml", data)
		if err != nil {
			return c, nil, err
		}
		g := rgds[0]
		vars := map[string]any{"schema": map[string]any{"metadata": map[string]any{"name": "x", "namespace": "y"}, "spec": g.Spec.Defaults()}}
		for _, r := range g.Resources {
			for _, f := range r.Fields {
				if refsOnlySchema(f.Expr) {
					u, ns, ok := timeEval(g.Env(), f.Expr, vars)
					if ok {
						units = append(units, u)
						nanos = append(nanos, ns)
					}
					start := time.Now()
					const n = 20
					for i := 0; i < n; i++ {
						if _, iss := g.Env().Compile(f.Expr.Source); iss.Err() != nil {
							break
						}
					}
					srcBytes = append(srcBytes, float64(len(f.Expr.Source)))
					compileNS = append(compileNS, float64(time.Since(start).Nanoseconds())/n)
				}
			}
		}
	}
	if len(units) < 3 {
		return c, nil, fmt.Errorf("too few expressions to fit the CEL cost model")
	}
	c.EvalBaseNS, c.EvalUnitNS = fit(units, nanos)
	c.CompileBaseNS, c.CompileByteNS = fit(srcBytes, compileNS)
	report = append(report, fmt.Sprintf("CEL eval %.0f ns + %.1f ns/cost unit over %d expressions", c.EvalBaseNS, c.EvalUnitNS, len(units)),
		fmt.Sprintf("CEL compile %.0f ns + %.1f ns/byte", c.CompileBaseNS, c.CompileByteNS))
	// Graph walk: kro's topological order over generated graphs, per node and edge.
	var nodes, edges, walkNS []float64
	for _, size := range [][2]int{{10, 15}, {30, 45}, {100, 200}, {300, 900}} {
		data, err := synth.Generate(synth.Options{Shape: synth.Layered, Nodes: size[0], Edges: size[1], Seed: 1})
		if err != nil {
			return c, nil, err
		}
		rgds, err := model.Load("calibrate.yaml", data)
		if err != nil {
			return c, nil, err
		}
		g := rgds[0]
		const n = 50
		start := time.Now()
		for i := 0; i < n; i++ {
			if _, err := model.Order(g.Graph); err != nil {
				return c, nil, err
			}
		}
		nodes = append(nodes, float64(size[0]))
		edges = append(edges, float64(size[1]))
		walkNS = append(walkNS, float64(time.Since(start).Nanoseconds())/n)
	}
	perElem := make([]float64, len(nodes))
	for i := range nodes {
		perElem[i] = nodes[i] + edges[i]
	}
	_, per := fit(perElem, walkNS)
	c.NodeNS, c.EdgeNS = per, per
	report = append(report, fmt.Sprintf("graph walk %.0f ns per node or edge", per))
	// Encoding: JSON of a typical object, per byte.
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
	c.EncodeByteNS = round1(float64(time.Since(start).Nanoseconds()) / n / float64(size))
	report = append(report, fmt.Sprintf("encode+decode %.1f ns/byte", c.EncodeByteNS))
	// Per-request and per-reconcile overheads are not measurable without a
	// server: keep the base target's (calibrate them against a real run).
	base, _ := target.Lookup("kro-defaults")
	c.RequestNS, c.ReconcileNS = base.Cost.RequestNS, base.Cost.ReconcileNS
	return c, report, nil
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
