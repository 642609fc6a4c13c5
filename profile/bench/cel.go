package bench

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/target"
)

// Expression is one CEL benchmark case.
type Expression struct {
	Name string
	// Class is the report's complexity class, or "kro" for kro-shaped ones.
	Class  string
	Source string
}

// The report's classes in order of complexity, then kro-shaped expressions.
var Expressions = []Expression{
	{"simple", "simple", `schema.spec.replicas`},
	{"medium", "medium", `schema.spec.replicas > 1 ? 'multiple' : 'single'`},
	{"complex", "complex", `deployment.spec.template.spec.containers[0].resources.limits.cpu`},
	{"very-complex", "very complex", `schema.spec.items.all(i, i.tags.exists(t, t.endsWith('-4')) && i.tags.all(u, size(u) > 3))`},
	{"kro-string-template", "kro", `schema.spec.name + '-' + string(schema.spec.replicas) + '.svc.cluster.local'`},
	{"kro-conditional", "kro", `has(schema.spec.ingress) && schema.spec.ingress.enabled ? schema.spec.ingress.host : 'none'`},
	{"kro-json-merge", "kro", `json.marshal(schema.spec.labels.merge({'app': schema.spec.name, 'tier': 'web'}))`},
	{"kro-status-aggregation", "kro", `size(pods.filter(p, p.status.phase == 'Running')) == size(pods) && pods.all(p, p.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True'))`},
	{"kro-foreach", "kro", `schema.spec.items.map(i, {'name': schema.spec.name + '-' + i.name, 'tags': i.tags.size()})`},
}

// ReportClasses are the performance report's four classes, in its order.
var ReportClasses = []string{"simple", "medium", "complex", "very-complex"}

// celVars are the variables every case may read, declared dyn as kro
// declares resources without a CRD schema.
var celVars = []string{"deployment", "pods"}

// NewCELEnv is kro's CEL environment (model.NewEnv) with `schema` free-form.
func NewCELEnv() (*cel.Env, error) {
	return model.NewEnv(&model.Type{Kind: model.Any}, celVars...)
}

// Activation is the fixed input of every case: a 100-item list of 5 tags
// each, a Deployment and 50 Pods.
func Activation() map[string]any {
	items := make([]any, 100)
	for i := range items {
		tags := make([]any, 5)
		for j := range tags {
			tags[j] = fmt.Sprintf("tag-%d", j)
		}
		items[i] = map[string]any{"name": fmt.Sprintf("item-%03d", i), "tags": tags}
	}
	pods := make([]any, 50)
	for i := range pods {
		pods[i] = map[string]any{"metadata": map[string]any{"name": fmt.Sprintf("web-%d", i)},
			"status": map[string]any{"phase": "Running", "conditions": []any{
				map[string]any{"type": "Initialized", "status": "True"},
				map[string]any{"type": "Ready", "status": "True"}}}}
	}
	container := map[string]any{"name": "web", "image": "nginx:1.27",
		"resources": map[string]any{"limits": map[string]any{"cpu": "500m", "memory": "256Mi"}}}
	return map[string]any{
		"schema": map[string]any{"spec": map[string]any{
			"name": "web", "replicas": int64(3), "items": items,
			"labels":  map[string]any{"team": "platform", "env": "prod"},
			"ingress": map[string]any{"enabled": true, "host": "web.example.com"},
		}},
		"deployment": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{container}}}}},
		"pods": pods,
	}
}

// Compiled is a case compiled, with its deterministic cost.
type Compiled struct {
	Expression
	Program cel.Program
	// CostUnits is cel-go's actual cost of one evaluation: the same on
	// every evaluation, program and process.
	CostUnits uint64
}

// CompileAll compiles every case in env and measures its cost units.
func CompileAll(env *cel.Env, vars map[string]any) ([]Compiled, error) {
	var out []Compiled
	var errs []string
	for _, e := range Expressions {
		ast, iss := env.Compile(e.Source)
		if iss.Err() != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", e.Name, iss.Err()))
			continue
		}
		costed, err := env.Program(ast, cel.CostTracking(nil))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", e.Name, err))
			continue
		}
		_, det, err := costed.Eval(vars)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: eval: %v", e.Name, err))
			continue
		}
		prg, err := env.Program(ast)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", e.Name, err))
			continue
		}
		c := Compiled{Expression: e, Program: prg}
		if det != nil && det.ActualCost() != nil {
			c.CostUnits = *det.ActualCost()
		}
		out = append(out, c)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("cel: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// projected is a case's evaluation and compile time on t by its cost model.
func projected(t *target.Target, c Compiled) (evalNS, compileNS float64) {
	evalNS = t.Cost.EvalBaseNS + float64(c.CostUnits)*t.Cost.EvalUnitNS
	compileNS = t.Cost.CompileBaseNS + float64(len(c.Source))*t.Cost.CompileByteNS
	return evalNS, compileNS
}

func runCEL(r *Report, _ *model.RGD, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	opts.progress("cel: %d expressions, cost units and the target's cost model", len(Expressions))
	env, err := NewCELEnv()
	if err != nil {
		return err
	}
	vars := Activation()
	cs, err := CompileAll(env, vars)
	if err != nil {
		return err
	}
	if t := r.Config.Target; t != nil {
		for _, c := range cs {
			evalNS, compileNS := projected(t, c)
			b := Benchmark{Suite: CEL, Name: c.Name, Mode: "model", Ops: 1, ThroughputUnit: "evals/s",
				Throughput: summarize([]float64{1e9 / evalNS}),
				LatencyMS:  Latency{Avg: round(evalNS / 1e6), P50: round(evalNS / 1e6), P95: round(evalNS / 1e6), P99: round(evalNS / 1e6), Min: round(evalNS / 1e6), Max: round(evalNS / 1e6)},
				Metrics:    map[string]float64{"cost_units": float64(c.CostUnits), "compile_ms": round(compileNS / 1e6)},
				Note:       fmt.Sprintf("projected on %s: eval_base_ns + cost units x eval_unit_ns, one vCPU; a point, not a distribution", t.Name)}
			r.Benchmarks = append(r.Benchmarks, b)
		}
	}
	why, loaded := hostLoaded(r, CEL)
	hb, err := hostCEL(env, vars, cs, r.Config.HostBudget, opts)
	if loaded {
		flagLoaded(hb, why)
	}
	host(r).Benchmarks = append(host(r).Benchmarks, hb...)
	return err
}

// CostRank returns the report classes ordered by cost units, cheapest first.
func CostRank(cs []Compiled) []string {
	var cls []Compiled
	for _, c := range cs {
		for _, n := range ReportClasses {
			if c.Name == n {
				cls = append(cls, c)
			}
		}
	}
	sort.SliceStable(cls, func(i, j int) bool { return cls[i].CostUnits < cls[j].CostUnits })
	names := make([]string, len(cls))
	for i, c := range cls {
		names[i] = c.Name
	}
	return names
}
