package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/krosim/krosim/profile/analysis"
	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/profile/chart"
	"github.com/krosim/krosim/profile/flame"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/study"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
)

// Options are what a report depends on besides its inputs.
type Options struct {
	// Baseline, when set, adds a section on the change against it.
	Baseline []*analysis.Input
	Rules    []analysis.Threshold
	// Commands are the command lines that produced the inputs, for the
	// record (the report says how to reproduce itself).
	Commands []string
}

// Files are a report's outputs: report.html, report.md and the charts
// report.md shows (charts/NAME.svg).
type Files struct {
	HTML, Markdown []byte
	Charts         map[string][]byte
}

// builder gathers the inputs by kind while the document is written.
type builder struct {
	doc      *document
	ins      []*analysis.Input
	benches  []*analysis.Input
	sweeps   []*analysis.Input
	runs     []*analysis.Input
	analysis *analysis.Analysis
	svgs     map[string][]byte // the charts as report.md links them
	opts     Options
}

// Build writes the report of ins.
func Build(ins []*analysis.Input, opts Options) (*Files, error) {
	if len(ins) == 0 {
		return nil, fmt.Errorf("report: no inputs")
	}
	b := &builder{doc: &document{title: "kro performance report (krosim)"}, ins: ins, opts: opts, svgs: map[string][]byte{}}
	for _, in := range ins {
		switch {
		case in.Bench != nil:
			b.benches = append(b.benches, in)
		case in.Sweep != nil:
			b.sweeps = append(b.sweeps, in)
		case in.Result != nil:
			b.runs = append(b.runs, in)
		}
	}
	b.analysis = analysis.Analyze(ins, opts.Baseline, opts.Rules)
	stages := []func() error{b.summary, b.environment, b.metrics, b.runSections, b.sweepSections,
		b.bottlenecks, b.recommendations, b.scaling, b.monitoring, b.baseline, b.appendix}
	for _, st := range stages {
		if err := st(); err != nil {
			return nil, err
		}
	}
	return &Files{HTML: b.doc.HTML(), Markdown: b.doc.Markdown(), Charts: b.svgs}, nil
}

// addCharts renders each chart to SVG and places it in the document.
func (b *builder) addCharts(cs []chart.Chart, caption func(chart.Chart) string) error {
	for _, c := range cs {
		svg, err := c.Render("svg")
		if err != nil {
			return err
		}
		b.svgs[c.Name+".svg"] = svg
		b.doc.figure(c.Name, caption(c), svg)
	}
	return nil
}

func title(c chart.Chart) string { return c.Title }

// prefixed names charts after their input, as chart.Of does.
func prefixed(prefix string, cs []chart.Chart) []chart.Chart {
	for i := range cs {
		cs[i].Name = prefix + cs[i].Name
	}
	return cs
}

func findBench(r *bench.Report, suite, name string, modes ...string) (bench.Benchmark, bool) {
	all := slices.Clone(r.Benchmarks)
	if r.Host != nil {
		all = append(all, r.Host.Benchmarks...)
	}
	for _, m := range modes {
		for _, x := range all {
			if x.Suite == suite && x.Name == name && x.Mode == m {
				return x, true
			}
		}
	}
	return bench.Benchmark{}, false
}

func (b *builder) summary() error {
	d := b.doc
	d.h(2, "Summary")
	var items []string
	for _, in := range b.benches {
		items = append(items, benchSummary(in)...)
	}
	for _, in := range b.runs {
		items = append(items, runSummary(in))
	}
	for _, in := range b.sweeps {
		items = append(items, sweepSummary(in))
	}
	if len(b.opts.Baseline) > 0 {
		items = append(items, fmt.Sprintf("**Against the baseline**: %d regression(s) in %d metrics compared (section Against the baseline).", b.analysis.Regressions, len(b.analysis.Changes)))
	}
	d.list(items...)
	d.p("Every number above is computed from the inputs listed in the appendix; published numbers are the performance report's (Executive Summary and tables), and ratio is measured / published. Simulated numbers are virtual time on the modeled target, deterministic for their seed; host numbers are this machine's real time.")
	return nil
}

func benchSummary(in *analysis.Input) []string {
	r := in.Bench
	var out []string
	if c, ok := findBench(r, bench.CRUD, bench.OpCreate, "sim", "real"); ok {
		pub, _ := bench.PublishedCRUD(bench.OpCreate)
		line := fmt.Sprintf("**CRUD**: kro creates %s instances/s end to end (%s, each instance several reconciles; p50 %s ms to Ready) against the published %s create ops/s (%s)",
			bench.Num(c.Throughput.Median), c.Mode, bench.Num(c.LatencyMS.P50), bench.Num(pub[0]), bench.Ratio(c.Throughput.Median, pub[0]))
		if rd, ok := findBench(r, bench.CRUD, bench.OpRead, "model", "real"); ok {
			p, _ := bench.PublishedCRUD(bench.OpRead)
			line += fmt.Sprintf("; a single read is %s ms p50 against %s ms published (%s)", bench.Num(rd.LatencyMS.P50), bench.Num(p[1]), bench.Ratio(rd.LatencyMS.P50, p[1]))
		}
		out = append(out, line+".")
	}
	if c, ok := findBench(r, bench.CEL, "medium", "host", "model"); ok {
		pub, _ := bench.PublishedCEL("medium")
		line := fmt.Sprintf("**CEL**: a medium expression evaluates %s times/s (%s, cached cel-go program) against the published %s (%s)", bench.Num(c.Throughput.Median), c.Mode, bench.Num(pub[0]), bench.Ratio(c.Throughput.Median, pub[0]))
		if vc, ok := findBench(r, bench.CEL, "very-complex", "model"); ok {
			if s, ok := findBench(r, bench.CEL, "simple", "model"); ok && s.Metric("cost_units") > 0 {
				line += fmt.Sprintf("; the very complex class costs %sx the simple one in cel-go units (published: 30-40x)", bench.Num(vc.Metric("cost_units")/s.Metric("cost_units")))
			}
		}
		out = append(out, line+".")
	}
	if g, ok := findBench(r, bench.Graph, "nodes=30/edges=45/op=traversal", "host"); ok {
		pub, _ := bench.PublishedGraph(30, 45)
		out = append(out, fmt.Sprintf("**ResourceGraph**: a 30-node, 45-edge graph is traversed %s times/s on this host against the published %s (%s).", bench.Num(g.Throughput.Median), bench.Num(pub[0]), bench.Ratio(g.Throughput.Median, pub[0])))
	}
	if w := r.Workers; w != nil && len(w.Findings) > 0 {
		out = append(out, "**Scaling**: "+w.Findings[len(w.Findings)-1]+".")
	}
	if u := r.Usage; u != nil && len(u.Points) >= 2 {
		out = append(out, fmt.Sprintf("**Memory**: %.1f MB base + %.3g KB per resource (fit, R² %.3f; modeled) against the published %.0f MB + %.0f KB (%s base, %s per resource).",
			u.Memory.Base/1e6, u.Memory.Slope/1e3, u.Memory.R2, u.Published.Base/1e6, u.Published.Slope/1e3, bench.Ratio(u.Memory.Base, u.Published.Base), bench.Ratio(u.Memory.Slope, u.Published.Slope)))
	}
	return out
}

func runSummary(in *analysis.Input) string {
	r := in.Result
	rgd := strings.Join(rgdNames(r), ", ")
	conv := "did not converge"
	if c := r.Summary.ConvergeSeconds; c != nil {
		conv = fmt.Sprintf("converge in %s s", bench.Num(*c))
	}
	total := r.WorkerSeconds()
	top, topV := "", 0.0
	for k, v := range r.Attribution {
		if k != "idle" && (v > topV || (v == topV && k < top)) {
			top, topV = k, v
		}
	}
	busy := total - r.Attribution["idle"]
	return fmt.Sprintf("**Run** `%s`: %d instances of %s %s on %s with %d worker(s); %s takes %.1f%% of busy worker time, %.2f reconciles and %.1f API requests per instance.",
		in.Dir, r.Summary.InstancesTotal, rgd, conv, targetName(r), r.Config.ControllerWorkers(), top, 100*topV/math.Max(busy, 1e-12),
		float64(r.Summary.Reconciles)/math.Max(1, float64(r.Summary.InstancesTotal)), float64(calls(r))/math.Max(1, float64(r.Summary.InstancesTotal)))
}

func sweepSummary(in *analysis.Input) string {
	s := in.Sweep
	var knees []string
	for _, k := range s.Knees {
		knees = append(knees, fmt.Sprintf("%s %s%s (%s s)", k.Dimension, study.FormatValue(k.Dimension, k.Value), s.DescribeFixed(k.Fixed), bench.Num(k.ConvergeSeconds)))
	}
	line := fmt.Sprintf("**Sweep** `%s`: %d points of %s instances", in.Dir, s.PointsTotal, study.Thousands(s.Study.Workload.Instances))
	if len(knees) > 0 {
		line += "; knees at " + strings.Join(knees, ", ")
	}
	return line + "."
}

func rgdNames(r *result.Result) []string {
	var out []string
	for _, g := range r.RGDs {
		out = append(out, g.Name)
	}
	return out
}

func targetName(r *result.Result) string {
	if r.Config.Target != nil {
		return r.Config.Target.Name
	}
	if r.Config.Cluster != nil {
		return "a real cluster (" + r.Config.Cluster.Server + ")"
	}
	return "?"
}

func calls(r *result.Result) int {
	n := 0
	for _, v := range r.Summary.APICalls {
		n += v
	}
	return n
}

func (b *builder) environment() error {
	d := b.doc
	d.h(2, "Test environment")
	d.p("Published: Kubernetes 1.26+, KRO latest (Go 1.21+), 8 vCPU and 16 GB RAM, under 1 ms network to the API server. Here: kro v0.9.4's reconcile algorithm (krosim's model of it), on the targets below.")
	seen := map[string]bool{}
	var rows [][]string
	for _, in := range b.ins {
		var tgtRow []string
		switch {
		case in.Result != nil && in.Result.Config.Target != nil:
			tgtRow = targetRow(in.Dir, in.Result.Config.Target.Name, in.Result.Config.Target.VCPUs, in.Result.Config.Target.Controller.Workers, in.Result.API.ClientLimiter, in.Result.Config.Target.Latency)
		case in.Bench != nil && in.Bench.Config.Target != nil:
			t := in.Bench.Config.Target
			tgtRow = targetRow(in.Dir, t.Name, t.VCPUs, t.Controller.Workers, limiterText(t.Client.QPS), t.Latency)
		case in.Sweep != nil:
			t := in.Sweep.Target
			tgtRow = targetRow(in.Dir, t.Name, t.VCPUs, t.Controller.Workers, "varied: "+strings.Join(in.Sweep.Dimensions, ", "), t.Latency)
		case in.Result != nil:
			tgtRow = []string{in.Dir, targetName(in.Result), "real", fmt.Sprint(in.Result.Config.ControllerWorkers()), "as configured", "measured"}
		}
		if key := strings.Join(tgtRow[1:], "|"); tgtRow != nil && !seen[key] {
			seen[key] = true
			rows = append(rows, tgtRow)
		}
	}
	d.table([]string{"input", "target", "vCPUs", "workers", "client limiter", "API latency p50 / p99 (get, list, patch)"}, rows...)
	for _, in := range b.benches {
		if h := in.Bench.Host; h != nil {
			d.p("Host measurements (cel, graph suites) ran on %s/%s, %d CPUs, %s: real time, not deterministic.", h.GOOS, h.GOARCH, h.CPUs, h.GoVersion)
		}
	}
	return nil
}

func limiterText(qps float64) string {
	if qps == 0 {
		return "none (as kro runs)"
	}
	return fmt.Sprintf("%.0f QPS (a what-if)", qps)
}

func targetRow(dir, name string, vcpus, workers int, limiter string, lat map[verb.Verb]target.Latency) []string {
	var parts []string
	for _, v := range []verb.Verb{verb.Get, verb.List, verb.Patch} {
		if l, ok := lat[v]; ok {
			parts = append(parts, fmt.Sprintf("%s %s / %s", v, l.P50, l.P99))
		}
	}
	return []string{dir, name, fmt.Sprint(vcpus), fmt.Sprint(workers), limiter, strings.Join(parts, "; ")}
}

func (b *builder) metrics() error {
	if len(b.benches) == 0 {
		return nil
	}
	d := b.doc
	d.h(2, "Performance metrics")
	for _, in := range b.benches {
		md := string(bench.Tables(in.Bench))
		// Tables opens with its own title: keep the paragraph under it.
		if i := strings.Index(md, "\n## "); i >= 0 {
			_, intro, _ := strings.Cut(md[:i], "\n")
			d.p("From `%s`. %s", in.Dir, strings.Join(strings.Fields(intro), " "))
			d.markdown(md[i:], 1)
		}
		d.h(3, "Charts")
		if err := b.addCharts(prefixed("bench-", chart.Bench(in.Bench)), title); err != nil {
			return err
		}
	}
	return nil
}

// verbs are the run's verbs with calls, in report order.
func verbs(r *result.Result) []verb.Verb {
	var out []verb.Verb
	for _, v := range verb.All {
		if t, ok := r.API.Verbs[v]; ok && t.Calls > 0 {
			out = append(out, v)
		}
	}
	return out
}

func (b *builder) runSections() error {
	d := b.doc
	for i, in := range b.runs {
		r := in.Result
		if i == 0 {
			d.h(2, "Runs")
		}
		d.h(3, "%s", in.Dir)
		d.p("%d instances of %s on %s, seed %d; %s.", r.Summary.InstancesTotal, strings.Join(rgdNames(r), ", "), targetName(r), r.Config.Seed, completeText(r))
		rows := [][]string{}
		opt := func(name string, v *float64) {
			if v != nil {
				rows = append(rows, []string{name, bench.Num(*v) + " s"})
			}
		}
		opt("converge", r.Summary.ConvergeSeconds)
		opt("update", r.Summary.UpdateSeconds)
		opt("delete", r.Summary.DeleteSeconds)
		t := r.Summary.TimeToReady
		rows = append(rows, []string{"time to ready p50 / p95 / p99 / max", fmt.Sprintf("%s / %s / %s / %s s", bench.Num(t.P50), bench.Num(t.P95), bench.Num(t.P99), bench.Num(t.Max))},
			[]string{"reconciles (per instance)", fmt.Sprintf("%d (%.2f)", r.Summary.Reconciles, float64(r.Summary.Reconciles)/math.Max(1, float64(r.Summary.InstancesTotal)))},
			[]string{"API requests (per instance)", fmt.Sprintf("%d (%.1f)", calls(r), float64(calls(r))/math.Max(1, float64(r.Summary.InstancesTotal)))},
			[]string{"CEL evaluations", fmt.Sprint(r.Summary.Evaluations)},
			[]string{"busy workers / vCPUs", fmt.Sprintf("%.1f%% / %.2f%%", 100*r.Utilization.Workers, 100*r.Utilization.VCPUs)},
			[]string{"workqueue depth max / mean; wait p99", fmt.Sprintf("%d / %s; %s s", r.Queue.MaxDepth, bench.Num(r.Queue.MeanDepth), bench.Num(r.Queue.WaitSeconds.P99))})
		if r.Memory.PeakBytes > 0 {
			rows = append(rows, []string{"modeled memory peak", fmt.Sprintf("%.1f MB", float64(r.Memory.PeakBytes)/1e6)})
		}
		d.table([]string{"measure", "value"}, rows...)
		var vrows [][]string
		for _, v := range verbs(r) {
			tr := r.API.Verbs[v]
			vrows = append(vrows, []string{string(v), fmt.Sprint(tr.Calls), fmt.Sprint(tr.NotFound), fmt.Sprint(tr.Errors), bench.Num(tr.LatencyMS.P50), bench.Num(tr.LatencyMS.P95), bench.Num(tr.LatencyMS.P99)})
		}
		d.table([]string{"verb", "calls", "404s", "errors", "p50 ms", "p95 ms", "p99 ms"}, vrows...)
		prefix := "run-"
		if i > 0 {
			prefix = fmt.Sprintf("run%d-", i+1)
		}
		if err := b.addCharts(prefixed(prefix, chart.Run(r)), title); err != nil {
			return err
		}
		if in.Wall != nil {
			idx, err := flame.SampleIndex(in.Wall, "wall")
			if err != nil {
				return fmt.Errorf("%s: %w", in.Dir, err)
			}
			g, err := flame.New(in.Wall, idx)
			if err != nil {
				return fmt.Errorf("%s: %w", in.Dir, err)
			}
			g.Title = "kro controller time (virtual): " + in.Dir
			g.Notes = []string{"frames: thread; RGD; reconcile pass; resource; phase; request or expression. Idle time is not drawn."}
			d.figure(fmt.Sprintf("flame-%d", i+1), fmt.Sprintf("Flame graph of %s's virtual-time profile (wall.pb.gz): where the workers' busy time goes.", in.Dir), g.SVG())
		}
	}
	return nil
}

func completeText(r *result.Result) string {
	if r.Complete {
		return "complete"
	}
	return "INCOMPLETE: " + r.Incomplete
}

func (b *builder) sweepSections() error {
	d := b.doc
	for i, in := range b.sweeps {
		s := in.Sweep
		if i == 0 {
			d.h(2, "Sweeps")
		}
		d.h(3, "%s", in.Dir)
		var text strings.Builder
		if err := s.WriteText(&text); err != nil {
			return err
		}
		d.pre(text.String())
		prefix := "sweep-"
		if i > 0 {
			prefix = fmt.Sprintf("sweep%d-", i+1)
		}
		if err := b.addCharts(prefixed(prefix, chart.Sweep(s)), func(c chart.Chart) string {
			if strings.HasSuffix(c.Name, "converge") {
				return c.Title + ": each point labeled with what binds where it changes along a line, knees ringed; qps=none dashed."
			}
			return c.Title
		}); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) topics(topics ...string) []string {
	var out []string
	for _, r := range b.analysis.Recommendations {
		if slices.Contains(topics, r.Topic) {
			out = append(out, fmt.Sprintf("**%s**: %s *(from %s)*", r.Topic, r.Text, strings.Join(r.Evidence, "; ")))
		}
	}
	return out
}

func (b *builder) bottlenecks() error {
	items := b.topics(analysis.TopicBottleneck, analysis.TopicCEL, analysis.TopicGraph)
	if len(items) == 0 {
		return nil
	}
	b.doc.h(2, "Performance bottlenecks")
	b.doc.p("Published: API server interaction 65-75%% of CRUD latency; complex CEL; large graphs; API rate limiting. Measured, from the attribution of worker time and the profiles:")
	b.doc.list(items...)
	return nil
}

func (b *builder) recommendations() error {
	items := b.topics(analysis.TopicResources, analysis.TopicWorkers, analysis.TopicKnobs)
	if len(items) == 0 {
		return nil
	}
	b.doc.h(2, "Optimization recommendations")
	b.doc.p("Each recommendation is derived from the inputs and cites its numbers; none is given without data behind it.")
	b.doc.list(items...)
	return nil
}

func (b *builder) scaling() error {
	var rows [][]string
	var notes []string
	for _, in := range b.benches {
		u := in.Bench.Usage
		if u == nil {
			continue
		}
		prev := 0.0
		for _, p := range u.Points {
			rate := float64(p.Instances) / math.Max(p.Converge, 1e-9)
			step := "–"
			if prev > 0 {
				step = fmt.Sprintf("%+.0f%%", 100*(rate/prev-1))
			}
			prev = rate
			rows = append(rows, []string{fmt.Sprint(p.Instances), fmt.Sprint(p.Resources), bench.Num(p.Converge), bench.Num(rate), step,
				fmt.Sprintf("%.1f", float64(p.PeakBytes)/1e6), fmt.Sprintf("%.3f", p.CPUSeconds/math.Max(p.Converge, 1e-9))})
		}
		notes = append(notes, fmt.Sprintf("From `%s` (usage suite, one worker as the target sets, all instances created at once).", in.Dir))
	}
	for _, in := range b.sweeps {
		for _, k := range in.Sweep.Knees {
			if study.IsLoad(k.Dimension) {
				notes = append(notes, fmt.Sprintf("`%s`: converge time stays within 5%% of its best up to %s=%s%s (%s s).", in.Dir, k.Dimension, study.FormatValue(k.Dimension, k.Value), in.Sweep.DescribeFixed(k.Fixed), bench.Num(k.ConvergeSeconds)))
			}
		}
	}
	if len(rows) == 0 && len(notes) == 0 {
		return nil
	}
	d := b.doc
	d.h(2, "Scaling guidelines")
	d.p("Published: linear up to 1000 resources, sub-linear to 5000, horizontal scaling beyond. Measured: how converge time, throughput, memory and CPU grow with the load. The throughput column's step is the change from the previous size: where it turns negative, adding instances to one controller stops paying, and the fix is more workers or a second controller partitioned by RGD.")
	d.table([]string{"instances", "resources", "converge s", "instances/s", "step", "memory MB", "cores used"}, rows...)
	for _, n := range notes {
		d.p("%s", n)
	}
	return nil
}

func (b *builder) monitoring() error {
	d := b.doc
	d.h(2, "Monitoring")
	d.p("kro's own metric names (kro v0.9.4, pkg/metrics and client-go's; the Grafana dashboard profile/grafana/kro.json queries them), what each shows and what to alert on. Thresholds cite this report's runs where it has one; scale them to your load.")
	var r *result.Result
	for _, in := range b.runs {
		if !in.Result.Config.IsReal() {
			r = in.Result
			break
		}
	}
	ref := func(format string, args ...any) string {
		if r == nil {
			return ""
		}
		return " Here: " + fmt.Sprintf(format, args...) + "."
	}
	var p99 []string
	if r != nil {
		for _, v := range verbs(r) {
			p99 = append(p99, fmt.Sprintf("%s %s ms", v, bench.Num(r.API.Verbs[v].LatencyMS.P99)))
		}
	}
	perRec, perEval, waitP99, maxDepth, conv, util, reqs := 0.0, 0.0, 0.0, 0, 0.0, 0.0, ""
	if r != nil {
		busy := r.WorkerSeconds() - r.Attribution["idle"]
		perRec = busy / math.Max(1, float64(r.Summary.Reconciles))
		perEval = float64(r.Summary.Evaluations) / math.Max(1, float64(r.Summary.Reconciles))
		waitP99, maxDepth, util = r.Queue.WaitSeconds.P99, r.Queue.MaxDepth, r.Utilization.Workers
		if r.Summary.ConvergeSeconds != nil {
			conv = *r.Summary.ConvergeSeconds
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Summary.RequeuesByReason)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Summary.RequeuesByReason[k]))
		}
		reqs = strings.Join(parts, ", ")
	}
	rows := [][]string{
		{"`workqueue_depth{name=\"dynamic-controller-queue\"}`", "instances waiting for a worker", "depth that does not drain: above zero for longer than a full converge takes." + ref("max depth %d when every instance arrived at once, drained in %s s", maxDepth, bench.Num(conv))},
		{"`workqueue_queue_duration_seconds` (p99)", "how long an instance waits for a worker", "p99 above twice its usual value for 15 minutes: workers are short." + ref("p99 %s s", bench.Num(waitP99))},
		{"`workqueue_work_duration_seconds` (rate of _sum)", "busy worker seconds per second; divided by the worker count, their utilization", "utilization above 90% for 15 minutes: add workers (--dynamic-controller-concurrent-reconciles)." + ref("%.0f%% busy", 100*util)},
		{"`instance_reconcile_duration_seconds{gvr}` (p99)", "one reconcile of one instance", "p99 several times its usual value: the API server or a slow child." + ref("%s s of busy worker time per reconcile on average", bench.Num(perRec))},
		{"`instance_reconcile_total{gvr}`", "reconciles by RGD instance type", "a rate far above instances x the dependency depth per change: an apply fight (kro and another controller rewriting a field)."},
		{"`instance_reconcile_errors_total{gvr}`", "failed reconciles", "any sustained rate: instances are retrying with backoff, and drop after 20 retries." + ref("%d reconcile errors", func() int {
			if r == nil {
				return 0
			}
			return r.Summary.ReconcileErrors
		}())},
		{"`dynamic_controller_requeue_total{gvr,type}`", "requeues by type: requeue-after while waiting on data or readiness, rate-limited after errors", "a rising share of the rate-limited type." + ref("%s", reqs)},
		{"`rest_client_request_duration_seconds{verb}` (p99)", "kro's requests by HTTP method", "p99 above 1 s (the Kubernetes API SLO for mutating and single-object reads)." + ref("p99 %s", strings.Join(p99, ", "))},
		{"`rest_client_rate_limiter_duration_seconds{verb}`", "client-side throttling", "any sample: a kubeconfig set a QPS limit; kro v0.9.4 itself runs without one (its --client-qps is inert)."},
		{"`cel_expr_eval_total`, `cel_expr_eval_duration_seconds`", "CEL evaluations and their time", "a per-reconcile evaluation count that jumps after an RGD change." + ref("%.1f evaluations per reconcile", perEval)},
	}
	d.table([]string{"metric", "shows", "alert on"}, rows...)
	return nil
}

func (b *builder) baseline() error {
	a := b.analysis
	if len(b.opts.Baseline) == 0 {
		return nil
	}
	d := b.doc
	d.h(2, "Against the baseline")
	var md strings.Builder
	if err := a.Markdown(&md); err != nil {
		return err
	}
	body := md.String()
	if i := strings.Index(body, "<details><summary>Recommendations"); i >= 0 {
		body = body[:i]
	}
	body = strings.NewReplacer("<details><summary>", "", "</summary>", "", "</details>", "", "### krosim analyze", "").Replace(body)
	d.markdown(body, 1)
	if c := chart.Changes(a.Changes, 25); c != nil {
		return b.addCharts([]chart.Chart{*c}, title)
	}
	return nil
}

func (b *builder) appendix() error {
	d := b.doc
	d.h(2, "Appendix: inputs and every metric")
	var items []string
	for _, in := range b.ins {
		items = append(items, fmt.Sprintf("`%s`: %s", in.Dir, in.Kind))
	}
	d.list(items...)
	if len(b.opts.Commands) > 0 {
		d.p("Produced by:")
		d.pre(strings.Join(b.opts.Commands, "\n"))
	}
	var rows [][]string
	for _, m := range b.analysis.Metrics {
		s := m.Summary
		ci := "–"
		if s.N > 1 {
			ci = fmt.Sprintf("[%s, %s]", analysis.Num(s.Lo, ""), analysis.Num(s.Hi, ""))
		}
		rows = append(rows, []string{m.Name, analysis.Num(s.Median, m.Unit), ci, fmt.Sprint(s.N), string(m.Source)})
	}
	d.p("Medians with their 95%% confidence interval (benchmath's, as benchstat) over seeds or runs.")
	d.table([]string{"metric", "median", "95% CI", "n", "source"}, rows...)
	return nil
}
