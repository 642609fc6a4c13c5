package bench

// This file is the bench's host side: real elapsed time and allocation
// counts of this process, in the report's "host" section only.

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/model/synth"
	"gonum.org/v1/gonum/graph/topo"
)

// HostLoad is this host's one-minute load average (Linux's /proc/loadavg).
func HostLoad() (float64, bool) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}

// hostLoaded records this host's load as a host suite starts; the suite's
// measurements are flagged noisy when it reaches the CPU count.
func hostLoaded(r *Report, suite string) (string, bool) {
	load, ok := HostLoad()
	if !ok {
		return "", false
	}
	h := host(r)
	l := RunLoad{What: suite + " suite (this host)", Load1: round(load), Loaded: load >= float64(h.CPUs)}
	h.Load = append(h.Load, l)
	return fmt.Sprintf("measured on a loaded host (load average %.2f on %d CPUs as the suite started)", l.Load1, h.CPUs), l.Loaded
}

// flagLoaded marks bs noisy, saying why.
func flagLoaded(bs []Benchmark, why string) {
	for i := range bs {
		st := &bs[i].Throughput
		st.Noisy = true
		if st.Warning != "" {
			st.Warning += "; " + why
		} else {
			st.Warning = why
		}
	}
}

func host(r *Report) *Host {
	if r.Host == nil {
		r.Host = &Host{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	}
	return r.Host
}

// hostSample is a host measurement: time per operation in each batch, and
// bytes and allocations per operation over all of them.
type hostSample struct {
	nsPerOp       []float64
	bytes, allocs float64
	ops           int
}

// measureHost runs f in batches sized to take about budget/20 each until
// budget seconds have passed (at least 5 batches). The batches that size
// them are the warm-up: caches filled, the heap grown, and not counted.
func measureHost(budget float64, f func()) hostSample {
	n := 1
	for {
		start := time.Now()
		for range n {
			f()
		}
		if d := time.Since(start).Seconds(); d >= budget/20 || n >= 1<<24 {
			break
		}
		n *= 2
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var s hostSample
	deadline := time.Now().Add(time.Duration(budget * float64(time.Second)))
	for len(s.nsPerOp) < 5 || time.Now().Before(deadline) {
		start := time.Now()
		for range n {
			f()
		}
		s.nsPerOp = append(s.nsPerOp, float64(time.Since(start).Nanoseconds())/float64(n))
		s.ops += n
	}
	runtime.ReadMemStats(&after)
	s.bytes = float64(after.TotalAlloc-before.TotalAlloc) / float64(s.ops)
	s.allocs = float64(after.Mallocs-before.Mallocs) / float64(s.ops)
	return s
}

// hostBenchmark turns a sample into a benchmark: throughput per batch,
// latency over the batches' per-operation times.
func hostBenchmark(suite, name, unit string, s hostSample) Benchmark {
	tps := make([]float64, len(s.nsPerOp))
	lat := make([]float64, len(s.nsPerOp))
	for i, ns := range s.nsPerOp {
		tps[i], lat[i] = 1e9/ns, ns/1e6
	}
	return Benchmark{Suite: suite, Name: name, Mode: "host", Ops: s.ops, ThroughputUnit: unit,
		Throughput: summarize(tps), LatencyMS: latencyOf(lat),
		Metrics: map[string]float64{"bytes_per_op": round(s.bytes), "allocs_per_op": round(s.allocs)},
		Note:    "measured on this host in real time; latency percentiles are over batches of operations"}
}

func hostCEL(env *cel.Env, vars map[string]any, cs []Compiled, budget float64, opts Options) ([]Benchmark, error) {
	var out []Benchmark
	for _, c := range cs {
		if err := opts.check(); err != nil {
			return out, err
		}
		opts.progress("cel: %s on this host", c.Name)
		var evalErr error
		eval := measureHost(budget, func() {
			if _, _, err := c.Program.Eval(vars); err != nil {
				evalErr = err
			}
		})
		compile := measureHost(budget, func() {
			ast, _ := env.Compile(c.Source)
			env.Program(ast)
		})
		perEval := measureHost(budget, func() {
			ast, _ := env.Compile(c.Source)
			prg, _ := env.Program(ast)
			prg.Eval(vars)
		})
		// Memoized: a result cache keyed by the inputs' versions, hit.
		memo := map[string]any{}
		key := c.Name + "/rv-1"
		if out, _, err := c.Program.Eval(vars); err == nil {
			memo[key] = out
		}
		hit := measureHost(budget, func() { _ = memo[key] })
		if evalErr != nil {
			return out, fmt.Errorf("%s: %w", c.Name, evalErr)
		}
		b := hostBenchmark(CEL, c.Name, "evals/s", eval)
		b.Metrics["cost_units"] = float64(c.CostUnits)
		b.Metrics["compile_ms"] = round(med(compile.nsPerOp) / 1e6)
		b.Metrics["compile_bytes"] = round(compile.bytes)
		b.Metrics["compile_per_eval_ms"] = round(med(perEval.nsPerOp) / 1e6)
		b.Metrics["memoized_hit_ms"] = round(med(hit.nsPerOp) / 1e6)
		b.Note = "cel-go v0.31.0 in kro's environment, cached program, no cost tracking; compile_per_eval_ms compiles, plans and evaluates each time; memoized_hit_ms is a result-cache hit keyed by the inputs' versions"
		out = append(out, b)
	}
	return out, nil
}

func med(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// graphRGD generates the graph suite's RGD of nodes resources and edges
// dependencies (layered, simple expressions, seed 1).
func graphRGD(nodes, edges int) ([]byte, error) {
	return synth.Generate(synth.Options{Shape: synth.Layered, Nodes: nodes, Edges: edges, Complexity: synth.Simple, Seed: 1})
}

// CriticalPath is the longest dependency chain of g in resources: how many
// sequential steps an instance's creation needs at least.
func CriticalPath(g *model.RGD) int {
	depth := make(map[int64]int, len(g.Resources))
	longest := 0
	for _, i := range g.Order {
		id := int64(i)
		d := 1
		to := g.Graph.To(id)
		for to.Next() {
			d = max(d, depth[to.Node().ID()]+1)
		}
		depth[id] = d
		longest = max(longest, d)
	}
	return longest
}

func runGraph(r *Report, _ *model.RGD, opts Options) error {
	why, loaded := hostLoaded(r, Graph)
	first := len(host(r).Benchmarks)
	defer func() {
		if loaded {
			flagLoaded(host(r).Benchmarks[first:], why)
		}
	}()
	for _, size := range r.Config.GraphSizes {
		if err := opts.check(); err != nil {
			return err
		}
		nodes, edges := size[0], size[1]
		opts.progress("graph: %d nodes, %d edges on this host", nodes, edges)
		data, err := graphRGD(nodes, edges)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("nodes=%d/edges=%d", nodes, edges)
		var loadErr error
		var g *model.RGD
		build := measureHost(r.Config.HostBudget, func() {
			gs, err := model.Load(name, data)
			if err != nil {
				loadErr = err
				return
			}
			g = gs[0]
		})
		if loadErr != nil {
			return fmt.Errorf("%s: %w", name, loadErr)
		}
		traverse := measureHost(r.Config.HostBudget, func() { topo.Sort(g.Graph) })
		path := measureHost(r.Config.HostBudget, func() { CriticalPath(g) })
		for _, m := range []struct {
			op string
			s  hostSample
		}{{"build", build}, {"traversal", traverse}, {"critical-path", path}} {
			b := hostBenchmark(Graph, name+"/op="+m.op, "ops/s", m.s)
			b.Metrics["nodes"], b.Metrics["edges"] = float64(len(g.Resources)), float64(len(g.Edges()))
			b.Metrics["expressions"] = float64(g.Exprs)
			b.Metrics["critical_path"] = float64(CriticalPath(g))
			b.MemoryMB = mb(build.bytes)
			b.Note = map[string]string{
				"build":         "load + compile every expression + dependency graph + topological order (model.Load); memory_mb is bytes allocated per build",
				"traversal":     "gonum topo.Sort over the built graph (the topological order kro walks)",
				"critical-path": "the longest dependency chain (dynamic programming over the topological order), not shortest paths; memory_mb is the build's",
			}[m.op]
			host(r).Benchmarks = append(host(r).Benchmarks, b)
		}
	}
	return nil
}
