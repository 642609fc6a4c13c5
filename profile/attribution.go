package profile

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/verb"
)

// Row is one line of an attribution table.
type Row struct {
	Name  string
	Time  time.Duration
	Share float64 // of the table's whole: worker time for phases, busy time otherwise
	Note  string
}

// VerbRow is kro's client time for one API verb.
type VerbRow struct {
	Verb         verb.Verb
	Calls        int
	APIWait      time.Duration
	CacheWait    time.Duration // of APIWait, LISTs waiting for the server's watch cache
	ThrottleWait time.Duration
	Share        float64 // (APIWait+ThrottleWait) over busy worker time
	P99MS        float64 // server latency p99
}

// Attribution is where the target's time went in a run.
type Attribution struct {
	Title      string
	Workers    int
	Duration   time.Duration
	WorkerTime time.Duration // Workers x Duration
	Busy       time.Duration // WorkerTime less idle
	Phases     []Row         // every phase in report order, shares of WorkerTime
	Passes     []Row         // by reconcile pass
	Resources  []Row         // the top resources by busy time
	Exprs      []Row         // the top expressions by eval time; Note is the resource
	Verbs      []VerbRow     // verbs with calls or waits, in report order
	GraphBuild []Row         // the RGD controller thread's busy time by phase
	QueueWait  time.Duration // instance time in the workqueue
	Queue      result.Queue
}

// Attribute tabulates res: worker time by phase, then busy worker time by
// reconcile pass, the top resources and expressions, and API wait by verb.
// Rows are sorted by time, ties by name, so the tables are deterministic.
func Attribute(res *sim.Result, top int) *Attribution {
	a := &Attribution{Workers: len(res.Threads), Duration: res.Duration, QueueWait: res.QueueWait, Queue: res.Queue}
	var rgds []string
	for _, g := range res.RGDs {
		rgds = append(rgds, g.Name)
	}
	a.Title = fmt.Sprintf("%d instances of %s on %s, seed %d", res.Summary.InstancesTotal,
		strings.Join(rgds, ", "), res.Config.Target.Name, res.Config.Seed)
	var by [span.NumPhases]time.Duration
	for _, th := range res.Threads {
		for p, d := range th.By {
			by[p] += d
		}
	}
	for _, d := range by {
		a.WorkerTime += d
	}
	a.Busy = a.WorkerTime - by[span.Idle]
	for _, p := range span.Phases() {
		a.Phases = append(a.Phases, Row{Name: p.String(), Time: by[p], Share: share(by[p], a.WorkerTime)})
	}

	passes := map[string]time.Duration{}
	resources := map[string]time.Duration{}
	resPhases := map[string]map[span.Phase]time.Duration{}
	type exprKey struct{ resource, expr string }
	exprs := map[exprKey]time.Duration{}
	apiWait := map[verb.Verb]time.Duration{}
	cacheWait := map[verb.Verb]time.Duration{}
	throttle := map[verb.Verb]time.Duration{}
	build := map[string]time.Duration{}
	for _, s := range res.Samples {
		st := s.Stack
		if st.Thread != "worker" {
			build[st.Phase.String()] += s.D
			continue
		}
		passes[passName(st.Pass)] += s.D
		r := st.Resource
		if r == "" {
			r = "(instance)"
		}
		resources[r] += s.D
		if resPhases[r] == nil {
			resPhases[r] = map[span.Phase]time.Duration{}
		}
		resPhases[r][st.Phase] += s.D
		switch st.Phase {
		case span.Eval:
			exprs[exprKey{r, st.Detail.Expr}] += s.D
		case span.APIWait:
			apiWait[st.Detail.Verb] += s.D
			if st.Detail.CacheWait {
				cacheWait[st.Detail.Verb] += s.D
			}
		case span.ThrottleWait:
			throttle[st.Detail.Verb] += s.D
		}
	}
	a.Passes = rows(passes, a.Busy, 0)
	a.Resources = rows(resources, a.Busy, top)
	for i, r := range a.Resources {
		a.Resources[i].Note = phaseMix(resPhases[r.Name], r.Time)
	}
	em := map[string]time.Duration{}
	resOf := map[string]string{}
	for k, d := range exprs {
		name := k.resource + "\x00" + k.expr
		em[name] = d
		resOf[name] = k.resource
	}
	for _, r := range rows(em, a.Busy, top) {
		a.Exprs = append(a.Exprs, Row{Name: strings.SplitN(r.Name, "\x00", 2)[1], Time: r.Time, Share: r.Share, Note: resOf[r.Name]})
	}
	for _, v := range verb.All {
		calls := res.API.Verbs[v].Calls
		if calls == 0 && apiWait[v] == 0 && throttle[v] == 0 {
			continue
		}
		a.Verbs = append(a.Verbs, VerbRow{Verb: v, Calls: calls, APIWait: apiWait[v], CacheWait: cacheWait[v], ThrottleWait: throttle[v],
			Share: share(apiWait[v]+throttle[v], a.Busy), P99MS: res.API.Verbs[v].LatencyMS.P99})
	}
	var buildTotal time.Duration
	for _, d := range build {
		buildTotal += d
	}
	a.GraphBuild = rows(build, buildTotal, 0)
	return a
}

func share(d, whole time.Duration) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(d) / float64(whole)
}

// rows sorts m by time (largest first, ties by name) and keeps the top n (all if n <= 0).
func rows(m map[string]time.Duration, whole time.Duration, n int) []Row {
	out := make([]Row, 0, len(m))
	for k, d := range m {
		if d > 0 {
			out = append(out, Row{Name: k, Time: d, Share: share(d, whole)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Time != out[j].Time {
			return out[i].Time > out[j].Time
		}
		return out[i].Name < out[j].Name
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// phaseMix names the largest phases of a resource's time, at most three.
func phaseMix(m map[span.Phase]time.Duration, total time.Duration) string {
	ps := make([]span.Phase, 0, len(m))
	for p, d := range m {
		if d > 0 {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool {
		if m[ps[i]] != m[ps[j]] {
			return m[ps[i]] > m[ps[j]]
		}
		return ps[i] < ps[j]
	})
	var parts []string
	for i, p := range ps {
		if i == 3 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%%", p, 100*share(m[p], total)))
	}
	return strings.Join(parts, ", ")
}

// Text renders the attribution as aligned tables.
func (a *Attribution) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "krosim attribution: %s\n", a.Title)
	fmt.Fprintf(&b, "Virtual time on the modeled target (not this host): %d worker(s) x %.3fs = %.3fs of worker time, %.3fs busy (%.1f%%).\n",
		a.Workers, a.Duration.Seconds(), a.WorkerTime.Seconds(), a.Busy.Seconds(), 100*share(a.Busy, a.WorkerTime))

	b.WriteString("\nWorker time by phase\n")
	t := table{head: []string{"phase", "seconds", "% worker time"}}
	for _, r := range a.Phases {
		t.add(r.Name, secs(r.Time), percent(r.Share))
	}
	t.add("total", secs(a.WorkerTime), percent(share(a.WorkerTime, a.WorkerTime)))
	t.write(&b)

	b.WriteString("\nBusy worker time by reconcile pass\n")
	t = table{head: []string{"pass", "seconds", "% busy"}}
	for _, r := range a.Passes {
		t.add(r.Name, secs(r.Time), percent(r.Share))
	}
	t.write(&b)

	fmt.Fprintf(&b, "\nTop %d resources by busy worker time\n", len(a.Resources))
	t = table{head: []string{"resource", "seconds", "% busy", "largest phases"}}
	for _, r := range a.Resources {
		t.add(r.Name, secs(r.Time), percent(r.Share), r.Note)
	}
	t.write(&b)

	fmt.Fprintf(&b, "\nTop %d expressions by CEL eval time\n", len(a.Exprs))
	t = table{head: []string{"seconds", "% busy", "resource", "expression"}}
	for _, r := range a.Exprs {
		t.add(secs(r.Time), percent(r.Share), r.Note, r.Name)
	}
	t.write(&b)

	b.WriteString("\nAPI wait by verb (kro's client)\n")
	t = table{head: []string{"verb", "calls", "api_wait s", "watch-cache s", "throttle_wait s", "% busy", "mean wait ms", "p99 latency ms"}}
	for _, v := range a.Verbs {
		mean := 0.0
		if v.Calls > 0 {
			mean = float64(v.APIWait+v.ThrottleWait) / 1e6 / float64(v.Calls)
		}
		t.add(string(v.Verb), fmt.Sprint(v.Calls), secs(v.APIWait), secs(v.CacheWait), secs(v.ThrottleWait), percent(v.Share),
			fmt.Sprintf("%.3f", mean), fmt.Sprintf("%.3f", v.P99MS))
	}
	t.write(&b)

	fmt.Fprintf(&b, "\nWorkqueue: instances waited %ss in total, %d adds, depth max %d mean %.2f; wait p50 %.3fs p95 %.3fs p99 %.3fs (instance time, not worker time)\n",
		secs(a.QueueWait), a.Queue.Adds, a.Queue.MaxDepth, a.Queue.MeanDepth, a.Queue.WaitSeconds.P50, a.Queue.WaitSeconds.P95, a.Queue.WaitSeconds.P99)
	var parts []string
	for _, r := range a.GraphBuild {
		parts = append(parts, r.Name+" "+secs(r.Time)+"s")
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	fmt.Fprintf(&b, "Graph build (RGD controller thread): %s\n", strings.Join(parts, ", "))
	return b.String()
}

func secs(d time.Duration) string { return fmt.Sprintf("%.6f", d.Seconds()) }

func percent(f float64) string { return fmt.Sprintf("%.2f", 100*f) }

// table aligns columns: numbers right, text left.
type table struct {
	head []string
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(b *strings.Builder) {
	if len(t.rows) == 0 {
		b.WriteString("  (none)\n")
		return
	}
	widths := make([]int, len(t.head))
	for _, r := range append([][]string{t.head}, t.rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		b.WriteString(" ")
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			switch {
			case numeric(t.rows[0][i]):
				b.WriteString(" " + pad + c)
			case i == len(r)-1:
				b.WriteString(" " + c)
			default:
				b.WriteString(" " + c + pad)
			}
		}
		b.WriteString("\n")
	}
	line(t.head)
	for _, r := range t.rows {
		line(r)
	}
}

func numeric(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' && r != '-' {
			return false
		}
	}
	return true
}
