package chart

import (
	"fmt"
	"strings"

	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/sim/result"
)

// Bench returns the charts of a bench report, for the suites it ran.
func Bench(r *bench.Report) []Chart {
	var out []Chart
	for _, c := range []*Chart{crudLatency(r), celCost(r), graphOps(r), workersScaling(r)} {
		if c != nil {
			out = append(out, *c)
		}
	}
	return append(out, usageCharts(r)...)
}

func find(bs []bench.Benchmark, suite, name, mode string) (bench.Benchmark, bool) {
	for _, b := range bs {
		if b.Suite == suite && b.Name == name && b.Mode == mode {
			return b, true
		}
	}
	return bench.Benchmark{}, false
}

// crudLatency: p50, p95, p99 by operation, measured beside published.
func crudLatency(r *bench.Report) *Chart {
	ops := []string{bench.OpCreate, bench.OpRead, bench.OpUpdate, bench.OpDelete, bench.OpList}
	c := &Chart{Name: "crud-latency", Title: "CRUD latency percentiles by operation, measured and published",
		X: Axis{Label: "operation (create, update, delete: end to end; read, list: one request)"}, Y: Axis{Label: "latency (ms)", Log: true}}
	quant := []struct {
		name string
		get  func(bench.Latency) float64
		idx  int
	}{{"p50", func(l bench.Latency) float64 { return l.P50 }, 1}, {"p95", func(l bench.Latency) float64 { return l.P95 }, 2}, {"p99", func(l bench.Latency) float64 { return l.P99 }, 3}}
	for qi, q := range quant {
		m := Series{Label: "measured " + q.name, Color: qi, Markers: true}
		p := Series{Label: "published " + q.name, Color: qi, Markers: true}
		for i, op := range ops {
			var b bench.Benchmark
			var ok bool
			for _, mode := range []string{"sim", "model", "real"} {
				if b, ok = find(r.Benchmarks, bench.CRUD, op, mode); ok {
					break
				}
			}
			if !ok {
				continue
			}
			if v := q.get(b.LatencyMS); v > 0 {
				m.Points = append(m.Points, Point{X: float64(i), Y: v, Low: v, High: v})
			}
			if pub, ok := bench.PublishedCRUD(op); ok {
				p.Points = append(p.Points, Point{X: float64(i), Y: pub[q.idx], Low: pub[q.idx], High: pub[q.idx]})
			}
		}
		if len(m.Points) == 0 {
			return nil
		}
		c.Series = append(c.Series, m, p)
	}
	c.X.Categories = ops
	return c
}

// celCost: cost units and evaluations per second by expression.
func celCost(r *bench.Report) *Chart {
	var names []string
	cost := Series{Label: "cost units per evaluation (cel-go)", Color: 0, Markers: true}
	for _, b := range r.Benchmarks {
		if b.Suite != bench.CEL || b.Mode != "model" {
			continue
		}
		u := b.Metric("cost_units")
		if u <= 0 {
			continue
		}
		cost.Points = append(cost.Points, Point{X: float64(len(names)), Y: u, Low: u, High: u})
		names = append(names, b.Name)
	}
	if len(names) == 0 {
		return nil
	}
	c := &Chart{Name: "cel-cost", Title: "CEL cost by expression class (simple .. very-complex, then kro-shaped)",
		X: Axis{Label: "expression", Categories: names}, Y: Axis{Label: "cost (cel-go units per evaluation)", Log: true}, Series: []Series{cost}}
	if names[0] == "simple" {
		c.Limits = append(c.Limits, Limit{Y: 40 * cost.Points[0].Y, Label: "the report's very complex: 30-40x simple (40x shown)"})
	}
	return c
}

// graphOps: operations per second by graph size, measured on this host and published.
func graphOps(r *bench.Report) *Chart {
	if r.Host == nil {
		return nil
	}
	ops := []string{"build", "traversal", "critical-path"}
	c := &Chart{Name: "graph-ops", Title: "Graph operations by graph size (this host) and published",
		X: Axis{Label: "graph nodes", Log: true}, Y: Axis{Label: "operations per second (ops/s)", Log: true}}
	pubTrav := Series{Label: "published traversal", Color: 1, Dashed: true}
	pubPath := Series{Label: "published path finding", Color: 2, Dashed: true}
	for oi, op := range ops {
		s := Series{Label: "measured " + op, Color: oi}
		for _, b := range r.Host.Benchmarks {
			if b.Suite != bench.Graph || !strings.HasSuffix(b.Name, "/op="+op) {
				continue
			}
			n, e := b.Metric("nodes"), b.Metric("edges")
			s.Points = append(s.Points, Point{X: n, Y: b.Throughput.Median, Low: b.Throughput.Lo, High: b.Throughput.Hi})
			if op == "traversal" {
				if pub, ok := bench.PublishedGraph(int(n), int(e)); ok {
					pubTrav.Points = append(pubTrav.Points, Point{X: n, Y: pub[0], Low: pub[0], High: pub[0]})
					pubPath.Points = append(pubPath.Points, Point{X: n, Y: pub[1], Low: pub[1], High: pub[1]})
				}
			}
		}
		if len(s.Points) > 0 {
			c.Series = append(c.Series, s)
		}
	}
	if len(c.Series) == 0 {
		return nil
	}
	c.Series = append(c.Series, pubTrav, pubPath)
	return c
}

// workersScaling: create throughput by workers, one line per vCPU count,
// each line's knee (fewest workers within 5% of its best) ringed.
func workersScaling(r *bench.Report) *Chart {
	w := r.Workers
	if w == nil || len(w.Points) == 0 {
		return nil
	}
	c := &Chart{Name: "workers", Title: "Create throughput by instance workers (knee: fewest within 5% of the best)",
		X: Axis{Label: "instance workers (--dynamic-controller-concurrent-reconciles)", Log: true}, Y: Axis{Label: "create throughput (instances/s, virtual)"}}
	var cpus []int
	by := map[int][]bench.WorkerPoint{}
	for _, p := range w.Points {
		if _, ok := by[p.VCPUs]; !ok {
			cpus = append(cpus, p.VCPUs)
		}
		by[p.VCPUs] = append(by[p.VCPUs], p)
	}
	for i, v := range cpus {
		s := Series{Label: fmt.Sprintf("%d vCPUs", v), Color: i}
		best := by[v][0]
		for _, p := range by[v] {
			s.Points = append(s.Points, Point{X: float64(p.Workers), Y: p.Throughput.Median, Low: p.Throughput.Lo, High: p.Throughput.Hi})
			if p.Throughput.Median > best.Throughput.Median {
				best = p
			}
		}
		c.Series = append(c.Series, s)
		if i == 0 {
			for _, p := range by[v] {
				if p.Throughput.Median >= 0.95*best.Throughput.Median {
					c.Marks = append(c.Marks, Mark{X: float64(p.Workers), Y: p.Throughput.Median,
						Label: fmt.Sprintf("knee: %s, %.3g/s (%s binds after)", result.Workers(p.Workers), p.Throughput.Median, best.Binding)})
					break
				}
			}
		}
	}
	first := by[cpus[0]][0]
	linear := Series{Label: "linear from 1 worker", Color: 7, Dashed: true}
	for _, p := range by[cpus[0]] {
		y := first.Throughput.Median * float64(p.Workers) / float64(first.Workers)
		if y > 3*maxY(c.Series) {
			break
		}
		linear.Points = append(linear.Points, Point{X: float64(p.Workers), Y: y, Low: y, High: y})
	}
	c.Series = append(c.Series, linear)
	return c
}

func maxY(ss []Series) float64 {
	m := 0.0
	for _, s := range ss {
		for _, p := range s.Points {
			m = max(m, p.Y)
		}
	}
	return m
}

// usageCharts: the memory fit against published, and the fits' residuals.
func usageCharts(r *bench.Report) []Chart {
	u := r.Usage
	if u == nil || len(u.Points) < 2 {
		return nil
	}
	mem := Chart{Name: "usage-memory", Title: "Controller memory by resources managed: fit and published",
		X: Axis{Label: "resources (objects at the peak)", Log: true}, Y: Axis{Label: "memory (MB)", Log: true}}
	pts := Series{Label: "modeled peak memory", Color: 0, Markers: true}
	fit := Series{Label: fmt.Sprintf("fit: %.1f MB + %.3g KB per resource (R² %.3f)", u.Memory.Base/1e6, u.Memory.Slope/1e3, u.Memory.R2), Color: 0}
	pub := Series{Label: fmt.Sprintf("published: %.0f MB + %.0f KB per resource", u.Published.Base/1e6, u.Published.Slope/1e3), Color: 1, Dashed: true}
	res := Chart{Name: "usage-residuals", Title: "Residuals of the usage fits (measured minus fit)",
		X: Axis{Label: "resources (objects at the peak)", Log: true}, Y: Axis{Label: "CPU residual (cpu-ms)"}, Limits: []Limit{{Y: 0, Label: "fit"}}}
	cpu := Series{Label: fmt.Sprintf("CPU: fit %.3g cpu-s + %.3g cpu-ms per resource (R² %.3f)", u.CPU.Base, 1e3*u.CPU.Slope, u.CPU.R2), Color: 2}
	for _, p := range u.Points {
		x := float64(p.Resources)
		y := float64(p.PeakBytes) / 1e6
		pts.Points = append(pts.Points, Point{X: x, Y: y, Low: y, High: y})
		f := (u.Memory.Base + u.Memory.Slope*x) / 1e6
		fit.Points = append(fit.Points, Point{X: x, Y: f, Low: f, High: f})
		pb := (u.Published.Base + u.Published.Slope*x) / 1e6
		pub.Points = append(pub.Points, Point{X: x, Y: pb, Low: pb, High: pb})
		cr := 1e3 * p.CPUResidual
		cpu.Points = append(cpu.Points, Point{X: x, Y: cr, Low: cr, High: cr})
	}
	mem.Series = []Series{pts, fit, pub}
	res.Series = []Series{cpu}
	return []Chart{mem, res}
}
