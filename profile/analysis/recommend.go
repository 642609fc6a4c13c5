package analysis

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/study"
	"github.com/krosim/krosim/sim/verb"
)

// Recommendation is advice derived from the inputs; its text cites the
// numbers it rests on and Evidence says where each came from.
type Recommendation struct {
	Topic    string   `json:"topic"`
	Text     string   `json:"text"`
	Evidence []string `json:"evidence"`
}

// Topics of recommendations, in the order they are given.
const (
	TopicResources  = "resources"
	TopicWorkers    = "workers"
	TopicBottleneck = "bottleneck"
	TopicCEL        = "cel"
	TopicGraph      = "graph"
	TopicKnobs      = "knobs"
)

// Headroom multiplies the busiest measured CPU into a request.
const Headroom = 1.5

// Recommend derives recommendations from whatever the inputs hold: a
// topic with no data behind it gets no recommendation.
func Recommend(ins []*Input) []Recommendation {
	var out []Recommendation
	add := func(r *Recommendation) {
		if r != nil {
			out = append(out, *r)
		}
	}
	for _, in := range ins {
		if in.Bench != nil {
			add(usageAdvice(in))
			add(workersFromBench(in))
			add(celFromBench(in))
			add(graphFromBench(in))
		}
	}
	for _, in := range ins {
		if in.Sweep != nil {
			add(workersFromSweep(in))
			add(sweepBinds(in))
		}
	}
	for _, in := range ins {
		if in.Result != nil {
			add(resourcesFromRun(in))
			add(runBinds(in))
			add(exprAdvice(in))
			add(graphShape(in))
		}
	}
	add(knobs(ins))
	order := []string{TopicResources, TopicWorkers, TopicBottleneck, TopicCEL, TopicGraph, TopicKnobs}
	sort.SliceStable(out, func(i, j int) bool {
		return slices.Index(order, out[i].Topic) < slices.Index(order, out[j].Topic)
	})
	return out
}

func mb(bytes float64) string { return fmt.Sprintf("%.1f MB", bytes/1e6) }

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

func secs(x float64) string {
	switch {
	case x == 0:
		return "0 s"
	case math.Abs(x) < 0.001:
		return fmt.Sprintf("%.3g ms", 1e3*x)
	default:
		return fmt.Sprintf("%.3g s", x)
	}
}

// usageAdvice turns the usage suite's fit into requests: memory base plus
// per 100 resources from the fit, CPU from the busiest point with headroom.
func usageAdvice(in *Input) *Recommendation {
	u := in.Bench.Usage
	if u == nil || len(u.Points) < 2 {
		return nil
	}
	var busiest bench.UsagePoint
	cores := 0.0
	for _, p := range u.Points {
		if p.Converge > 0 && p.CPUSeconds/p.Converge > cores {
			cores, busiest = p.CPUSeconds/p.Converge, p
		}
	}
	first, last := u.Points[0], u.Points[len(u.Points)-1]
	text := fmt.Sprintf("Memory: request %s + %s per 100 resources (the usage fit over %d to %d resources, R² %.3f); at %d resources that is %s. "+
		"CPU: the busiest point used %.3f cores (%.3g cpu-s over %s converging %d resources); request %.2f cores (%.1fx headroom), and %.3g cpu-s more per 100 resources of work (fit slope).",
		mb(u.Memory.Base), mb(100*u.Memory.Slope), first.Resources, last.Resources, u.Memory.R2,
		last.Resources, mb(u.Memory.Base+u.Memory.Slope*float64(last.Resources)),
		cores, busiest.CPUSeconds, secs(busiest.Converge), busiest.Resources, math.Max(0.05, math.Ceil(20*Headroom*cores)/20), Headroom,
		100*u.CPU.Slope)
	text += fmt.Sprintf(" The report publishes %s + %s per 100 resources: %.3gx and %.3gx of it.",
		mb(u.Published.Base), mb(100*u.Published.Slope), u.Memory.Base/u.Published.Base, u.Memory.Slope/u.Published.Slope)
	return &Recommendation{Topic: TopicResources, Text: text, Evidence: []string{
		in.Dir + ": usage.memory, usage.cpu, usage.points", "memory is modeled (" + u.Note + ")"}}
}

// workersFromBench finds, at the target's vCPUs, the fewest workers within
// 5% of the best create throughput.
func workersFromBench(in *Input) *Recommendation {
	w := in.Bench.Workers
	if w == nil || len(w.Points) == 0 {
		return nil
	}
	vcpus := w.Points[0].VCPUs
	if t := in.Bench.Config.Target; t != nil && slices.ContainsFunc(w.Points, func(p bench.WorkerPoint) bool { return p.VCPUs == t.VCPUs }) {
		vcpus = t.VCPUs
	}
	var pts []bench.WorkerPoint
	for _, p := range w.Points {
		if p.VCPUs == vcpus {
			pts = append(pts, p)
		}
	}
	best := pts[0]
	for _, p := range pts {
		if p.Throughput.Median > best.Throughput.Median {
			best = p
		}
	}
	knee := best
	for _, p := range pts {
		if p.Throughput.Median >= 0.95*best.Throughput.Median {
			knee = p
			break
		}
	}
	one := pts[0]
	text := fmt.Sprintf("Workers: %d (--dynamic-controller-concurrent-reconciles). On %d vCPUs the workers suite creates %.3g instances/s with %d worker(s), %.3g with %d, the best %.3g with %d: %d is within 5%% of the best (%.0f%% efficiency), and past it %s binds (idle %s, api_wait %s of worker time).",
		knee.Workers, vcpus, one.Throughput.Median, one.Workers, knee.Throughput.Median, knee.Workers, best.Throughput.Median, best.Workers,
		knee.Workers, 100*knee.Efficiency, best.Binding, pct(best.Shares["idle"]), pct(best.Shares["api_wait"]))
	return &Recommendation{Topic: TopicWorkers, Text: text, Evidence: []string{in.Dir + ": workers.points (median over seeds)"}}
}

func workersFromSweep(in *Input) *Recommendation {
	s := in.Sweep
	var lines []string
	for _, k := range s.Knees {
		if k.Dimension != study.Workers {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s workers%s (%s; best %s with %s)", study.FormatValue(k.Dimension, k.Value),
			s.DescribeFixed(k.Fixed), secs(k.ConvergeSeconds), secs(k.BestSeconds), study.FormatValue(k.Dimension, k.Best)))
	}
	if len(lines) == 0 {
		return nil
	}
	return &Recommendation{Topic: TopicWorkers, Text: fmt.Sprintf("Workers: the sweep's knee (the fewest workers within 5%% of the best converge time of %s instances) is %s.",
		study.Thousands(s.Study.Workload.Instances), strings.Join(lines, "; ")), Evidence: []string{in.Dir + ": sweep.json knees"}}
}

// sweepBinds counts the groups by binding constraint.
func sweepBinds(in *Input) *Recommendation {
	s := in.Sweep
	count := map[study.Constraint]int{}
	example := map[study.Constraint]study.Group{}
	var order []study.Constraint
	for _, g := range s.Groups {
		if count[g.Constraint] == 0 {
			order = append(order, g.Constraint)
			example[g.Constraint] = g
		}
		count[g.Constraint]++
	}
	var parts []string
	for _, c := range order {
		g := example[c]
		conv := "not converged"
		if g.ConvergeSeconds != nil {
			conv = secs(g.ConvergeSeconds.Mean)
		}
		parts = append(parts, fmt.Sprintf("%s at %d of %d points (e.g. %s: converge %s, throttled %s, busy workers %s)",
			c, count[c], len(s.Groups), paramsText(s, g.Params), conv, pct(g.ThrottleShare.Mean), pct(g.WorkerUtilization.Mean)))
	}
	return &Recommendation{Topic: TopicBottleneck, Text: "What binds across the sweep: " + strings.Join(parts, "; ") + ".",
		Evidence: []string{in.Dir + ": sweep.json groups[].constraint"}}
}

func paramsText(s *study.Sweep, p map[string]float64) string {
	var parts []string
	for _, d := range s.Dimensions {
		parts = append(parts, d+"="+study.FormatValue(d, p[d]))
	}
	return strings.Join(parts, ", ")
}

// resourcesFromRun gives a run's modeled memory and the CPU it used.
func resourcesFromRun(in *Input) *Recommendation {
	r := in.Result
	if r.Config.IsReal() || r.Config.Target == nil || r.Summary.DurationSeconds <= 0 {
		return nil
	}
	cores := r.Utilization.VCPUs * float64(r.Config.Target.VCPUs)
	objects := r.Summary.ObjectsPeak
	return &Recommendation{Topic: TopicResources, Text: fmt.Sprintf(
		"This run (%d instances, %d objects at the peak) peaked at %s of modeled memory (%s base + %.3g KB per object) and used %.3f cores on average over %s (%s of %d vCPUs): request %.2f cores and %s for this load.",
		r.Summary.InstancesTotal, objects, mb(float64(r.Memory.PeakBytes)), mb(float64(r.Memory.BaseBytes)), float64(r.Memory.PerResourceBytes)/1e3,
		cores, secs(r.Summary.DurationSeconds), pct(r.Utilization.VCPUs), r.Config.Target.VCPUs,
		math.Max(0.05, math.Ceil(20*Headroom*cores)/20), mb(Headroom*float64(r.Memory.PeakBytes))),
		Evidence: []string{in.Dir + ": results.json memory, utilization.vcpus"}}
}

// runBinds names the phase that takes the busy worker time, and the verb
// the API wait goes to.
func runBinds(in *Input) *Recommendation {
	r := in.Result
	total := r.WorkerSeconds()
	if total <= 0 {
		return nil
	}
	idle := r.Attribution[span.Idle.String()]
	busy := total - idle
	top, topSec := "", -1.0
	for _, p := range span.Phases() {
		if p == span.Idle {
			continue
		}
		if v := r.Attribution[p.String()]; v > topSec {
			top, topSec = p.String(), v
		}
	}
	text := fmt.Sprintf("In %s, %s of %s busy worker time is %s (%s); workers are idle %s of the time.",
		in.Dir, secs(topSec), secs(busy), top, pct(topSec/math.Max(busy, 1e-12)), pct(idle/total))
	if in.Wall != nil && top == span.APIWait.String() {
		if v := ByLabel(in.Wall, top, labelVerb); len(v) > 0 {
			text += fmt.Sprintf(" The largest part is %s requests: %s (%s of the profile)", v[0].Name, secs(v[0].Seconds), pct(v[0].Share))
			if tr, ok := r.API.Verbs[verb.Verb(v[0].Name)]; ok {
				text += fmt.Sprintf(", %d calls at p99 %.3g ms", tr.Calls, tr.LatencyMS.P99)
			}
			text += "."
		}
		if r.API.WatchCacheWaits > 0 {
			text += fmt.Sprintf(" %d consistent LISTs waited %s in total for the watch cache.", r.API.WatchCacheWaits, secs(r.API.WatchCacheWaitSeconds))
		}
	}
	switch top {
	case span.APIWait.String():
		text += " The API server's latency binds: each reconcile waits on its requests one by one, so more workers overlap more waits while the server keeps up; fewer requests per reconcile (fewer resources, shallower graphs) help more than CPU."
	case span.CPUWait.String():
		text += " vCPUs bind: raise the controller's CPU limit."
	case span.ThrottleWait.String():
		text += " The client-side limiter binds, a what-if in kro v0.9.4 (see knobs)."
	}
	return &Recommendation{Topic: TopicBottleneck, Text: text, Evidence: []string{in.Dir + ": results.json attribution, api", in.Dir + ": wall.pb.gz by verb"}}
}

// exprAdvice names the costliest expressions and weighs CEL against the run.
func exprAdvice(in *Input) *Recommendation {
	r := in.Result
	if in.Wall == nil {
		return nil
	}
	ex := Expressions(in.Wall)
	if len(ex) == 0 {
		return nil
	}
	eval := r.Attribution[span.Eval.String()]
	busy := r.WorkerSeconds() - r.Attribution[span.Idle.String()]
	var tops []string
	for _, c := range ex[:min(3, len(ex))] {
		tops = append(tops, fmt.Sprintf("%s in %s (%s)", clip(c.Name, 60), c.Resource, secs(c.Seconds)))
	}
	text := fmt.Sprintf("CEL: %d evaluations took %s, %s of busy worker time; the costliest: %s.",
		r.Summary.Evaluations, secs(eval), pct(eval/math.Max(busy, 1e-12)), strings.Join(tops, "; "))
	if eval < 0.01*busy {
		text += " Under 1% of the time: rewriting expressions will not make this graph faster; the API requests will."
	} else {
		text += fmt.Sprintf(" Worth simplifying: the first costs %s per evaluation on average.", secs(ex[0].Seconds/math.Max(1, float64(r.Summary.Evaluations)/float64(max(1, len(ex))))))
	}
	return &Recommendation{Topic: TopicCEL, Text: text, Evidence: []string{in.Dir + ": wall.pb.gz phase=eval by expression", in.Dir + ": results.json attribution.eval"}}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// graphShape relates the graph's depth to reconciles per instance.
func graphShape(in *Input) *Recommendation {
	r := in.Result
	if len(r.RGDs) == 0 || r.Summary.InstancesTotal == 0 {
		return nil
	}
	g := r.RGDs[0]
	for _, x := range r.RGDs {
		if x.Levels > g.Levels {
			g = x
		}
	}
	per := float64(r.Summary.Reconciles) / float64(r.Summary.InstancesTotal)
	calls := 0
	for _, n := range r.Summary.APICalls {
		calls += n
	}
	text := fmt.Sprintf("Graph shape: %s has %d resources in %d dependency levels, and each instance took %.2f reconciles and %.1f API requests. kro applies one level per reconcile, so every level removed from the deepest chain saves about one reconcile (%.0f%% of them) and its GETs; resources that do not read each other belong on the same level.",
		g.Name, g.Resources, g.Levels, per, float64(calls)/float64(r.Summary.InstancesTotal), 100/math.Max(per, 1))
	if in.Wall != nil {
		if ps := ByLabel(in.Wall, "", labelPass); len(ps) > 0 {
			text += fmt.Sprintf(" The costliest pass is reconcile #%s: %s (%s of the profile).", ps[0].Name, secs(ps[0].Seconds), pct(ps[0].Share))
		}
	}
	return &Recommendation{Topic: TopicGraph, Text: text, Evidence: []string{in.Dir + ": results.json rgds, summary.reconciles, summary.api_calls", in.Dir + ": wall.pb.gz by pass"}}
}

// celFromBench ranks the report's classes by cost units.
func celFromBench(in *Input) *Recommendation {
	var simple, worst bench.Benchmark
	for _, b := range in.Bench.Benchmarks {
		if b.Suite != bench.CEL || b.Mode != "model" {
			continue
		}
		if b.Name == "simple" {
			simple = b
		}
		if b.Metric("cost_units") > worst.Metric("cost_units") {
			worst = b
		}
	}
	if simple.Name == "" || worst.Name == "" {
		return nil
	}
	return &Recommendation{Topic: TopicCEL, Text: fmt.Sprintf(
		"CEL: %q costs %.0f units (%.3g evaluations/s modeled) against %.0f for %q (%.3g/s): %.0fx. Its cost is the size of the lists it ranges over times the nesting, so bound those lists (kro caps collections at 1000) rather than splitting the expression.",
		worst.Name, worst.Metric("cost_units"), worst.Throughput.Median, simple.Metric("cost_units"), simple.Name, simple.Throughput.Median,
		worst.Metric("cost_units")/math.Max(1, simple.Metric("cost_units"))), Evidence: []string{in.Dir + ": benchmarks suite=cel mode=model, metrics.cost_units"}}
}

// graphFromBench compares the largest graph's traversal with the smallest.
func graphFromBench(in *Input) *Recommendation {
	if in.Bench.Host == nil {
		return nil
	}
	var trav []bench.Benchmark
	for _, b := range in.Bench.Host.Benchmarks {
		if b.Suite == bench.Graph && strings.HasSuffix(b.Name, "/op=traversal") {
			trav = append(trav, b)
		}
	}
	if len(trav) < 2 {
		return nil
	}
	small, large := trav[0], trav[len(trav)-1]
	return &Recommendation{Topic: TopicGraph, Text: fmt.Sprintf(
		"Graph size: a topological traversal of %s takes %s on this host, of %s %s: graph walks are not what limits kro (an API request takes milliseconds), the number of resources is, through the requests each adds per reconcile.",
		strings.TrimSuffix(large.Name, "/op=traversal"), secs(1/large.Throughput.Median), strings.TrimSuffix(small.Name, "/op=traversal"), secs(1/small.Throughput.Median)),
		Evidence: []string{in.Dir + ": host.benchmarks suite=graph op=traversal (this host's real time)"}}
}

// knobs says which settings are real in kro v0.9.4, citing the inputs'
// what-ifs on the client QPS limit.
func knobs(ins []*Input) *Recommendation {
	var cites, ev []string
	for _, in := range ins {
		switch {
		case in.Sweep != nil:
			s := in.Sweep
			if slices.Contains(s.Dimensions, study.QPS) {
				lim, none := qpsExtremes(s)
				if lim != nil && none != nil && lim.ConvergeSeconds != nil && none.ConvergeSeconds != nil {
					cites = append(cites, fmt.Sprintf("the sweep's qps=%s converges in %s (throttled %s) against %s with no limit",
						study.FormatValue(study.QPS, lim.Params[study.QPS]), secs(lim.ConvergeSeconds.Mean), pct(lim.ThrottleShare.Mean), secs(none.ConvergeSeconds.Mean)))
					ev = append(ev, in.Dir+": sweep.json groups by qps")
				}
			}
		case in.Result != nil && !in.Result.Config.IsReal():
			if in.Result.API.ClientQPS > 0 {
				cites = append(cites, fmt.Sprintf("%s ran with a client limit of %.0f QPS (throttled %d calls, %s)", in.Dir, in.Result.API.ClientQPS, in.Result.API.ThrottledCalls, secs(in.Result.API.ThrottleWaitSeconds)))
				ev = append(ev, in.Dir+": results.json api.client_qps")
			}
		}
	}
	if len(cites) == 0 {
		return nil
	}
	return &Recommendation{Topic: TopicKnobs, Text: "kro v0.9.4's --client-qps and --client-burst have no effect (controller-runtime's config sets QPS -1, and kro applies its flags only when QPS is 0), so a client QPS limit is a what-if: " +
		strings.Join(cites, "; ") + ". The knobs that act are --dynamic-controller-concurrent-reconciles (workers), --instance-requeue-interval and the API server's priority and fairness.", Evidence: ev}
}

// qpsExtremes returns, on the first line of the other dimensions, the
// tightest qps group and the unlimited one.
func qpsExtremes(s *study.Sweep) (lim, none *study.Group) {
	if len(s.Groups) == 0 {
		return nil, nil
	}
	first := s.Groups[0].Params
	for i := range s.Groups {
		g := &s.Groups[i]
		same := true
		for d, v := range first {
			if d != study.QPS && g.Params[d] != v {
				same = false
			}
		}
		if !same {
			continue
		}
		switch q := g.Params[study.QPS]; {
		case q == 0:
			none = g
		case lim == nil || q < lim.Params[study.QPS]:
			lim = g
		}
	}
	return lim, none
}
