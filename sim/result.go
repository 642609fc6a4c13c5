package sim

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
	"github.com/krosim/krosim/sim/world"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Result is what a run produced: results.json's data, and what profiles
// and metrics are drawn from. It is plain data.
type Result struct {
	result.Result

	// For profiles and metrics; not part of results.json.
	Samples   []span.Sample
	RGDThread span.Thread
	Threads   []span.Thread
	Duration  time.Duration
	QueueWait time.Duration // total time instances waited in the workqueue, Add to Get
	// Instances are the tracked instances' lives, in the order tracked
	// (for per-instance latency; not part of results.json).
	Instances  []Instance
	kro        kro.Report
	meanStored float64 // objects stored at a served request, on average
	wakeups    float64 // the requests' shares of waking the server
	phaseEnds  []PhaseEnd
	// metricFamilies are kro's metrics of the run, built at the first
	// rendering (Metrics or OpenMetrics) and rendered again by the next.
	metricFamilies []*family
}

// Instance is one instance's life in virtual time, from the start of the run.
type Instance struct {
	Name      string
	Created   time.Duration
	Ready     time.Duration // when kro first reported it ACTIVE; valid when IsReady
	IsReady   bool
	UpdatedAt time.Duration // when the workload changed its spec; valid when Updated
	// UpdateReady is when kro finished reconciling the new generation; valid when UpdateDone.
	UpdateReady         time.Duration
	Updated, UpdateDone bool
	Deleting            time.Duration // when deletion was requested; valid when IsGone
	Gone                time.Duration // when the object disappeared; valid when IsGone
	IsGone              bool
	Failed              bool // dropped after the retry limit
}

// MeanLatency is the mean time kro's attempts of verb spent at the server,
// a LIST's wait for the watch cache included; 0 without any.
func (r *Result) MeanLatency(v verb.Verb) time.Duration {
	lat := r.kro.Client.Latencies(v)
	if len(lat) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	return sum / time.Duration(len(lat))
}

// CacheWait is the instance workers' time spent in LISTs waiting for the
// API server's watch cache to be fresh (part of api_wait).
func (r *Result) CacheWait() time.Duration {
	var d time.Duration
	for _, smp := range r.Samples {
		if smp.Stack.Thread == "worker" && smp.Stack.Phase == span.APIWait && smp.Stack.Detail.CacheWait {
			d += smp.D
		}
	}
	return d
}

// MeanObjectsStored is how many objects the server stored, on average, when
// it served a request.
func (r *Result) MeanObjectsStored() float64 { return r.meanStored }

// Wakeups is the sum of the requests' shares of waking the server (kro's
// and the world's): 1 for a request that reaches it idle, 1/(k+1) for one
// that arrives with k others in flight. server.wakeup_cpu prices each.
func (r *Result) Wakeups() float64 { return r.wakeups }

// PhaseEnd is what a run had done, counted from its start, when a phase of
// its workload ended and kro was idle: where a real run's scrapes split its
// phases (results.json real.phases), so a phase can be compared with one.
type PhaseEnd struct {
	Phase      workload.Phase
	At         time.Duration
	Reconciles int
	Calls      map[verb.Verb]int // kro's requests by verb
	Wakeups    float64           // the requests' shares of waking the server (see Wakeups)
	Events     int               // the writes, each a watch event (server.event_cpu, cost.event_ns)
	// KiB are the sizes of the objects the requests read or wrote, the
	// workload's too, by verb.Index (LISTs aside): what
	// latency.VERB.cpu_per_kib charges for.
	KiB        [verb.Count]float64
	CacheWaits int           // LISTs that waited for the watch cache
	CacheWait  time.Duration // how long they waited in all
}

// PhaseEnds are the run's phase ends, in order: one for every phase that
// ended.
func (r *Result) PhaseEnds() []PhaseEnd { return r.phaseEnds }

// finished is a finished simulation, everything its results are collected from.
type finished struct {
	cfg  result.Config
	rgds []*model.RGD
	k    *kernel.Kernel
	srv  *api.Server
	cpu  *kernel.CPU
	w    *world.World
	rep  kro.Report
	tl   workload.Timeline
	werr error // why the workload stopped, if it did
	ends []PhaseEnd
}

func (x *finished) collect() *Result {
	dur := x.k.Now()
	r := &Result{Result: result.Result{Format: result.Format, Config: x.cfg, Complete: true, CPUCost: "model"},
		Duration: dur, kro: x.rep, Samples: x.rep.Samples, Threads: x.rep.Threads, RGDThread: x.rep.RGDThread, phaseEnds: x.ends}
	if x.cfg.Target.Cost.Measured {
		r.CPUCost = "measured"
	}
	x.summarize(r)
	x.account(r)
	x.verdict(r)
	x.instances(r)
	x.traffic(r)
	x.attribute(r)
	x.memory(r)
	x.queue(r)
	return r
}

// summarize fills the summary: phase times, instance outcomes, counts.
func (x *finished) summarize(r *Result) {
	s, tl := &r.Summary, x.tl
	s.DurationSeconds = result.Seconds(r.Duration)
	s.InstancesTotal = x.cfg.Workload.Instances
	var ttr []float64
	for _, in := range x.rep.Instances {
		if in.IsReady {
			s.InstancesReady++
			ttr = append(ttr, result.Seconds(in.Ready-in.Created))
		} else if in.CreateFailed || (tl.Ready == 0 && in.Failed) {
			s.InstancesFailed++
			if s.FailedExample == "" {
				msg := in.CreateErr
				if msg == "" {
					msg = in.LastErr
				}
				s.FailedExample = in.Key.Name + ": " + msg
			}
		}
	}
	if s.InstancesReady == s.InstancesTotal && tl.Ready > 0 {
		v := result.Seconds(tl.Ready)
		s.ConvergeSeconds = &v
	}
	if tl.Updated > 0 {
		v := result.Seconds(tl.Updated - tl.UpdateStart)
		s.UpdateSeconds, s.InstancesUpdated = &v, tl.InstancesUpdated
	}
	if x.cfg.Workload.Delete && tl.Gone > 0 {
		v := result.Seconds(tl.Gone - tl.DeleteStart)
		s.DeleteSeconds = &v
	}
	s.TimeToReady = result.Quantiles(ttr)
	st := x.rep.Stats
	s.Reconciles, s.ReconcileErrors, s.RequeuesByReason, s.Evaluations = st.Reconciles, st.ReconcileErrors, st.Requeues, st.Evals
	s.ObjectsPeak = x.srv.Store.MaxObjects()
	s.SimulatedEvents = x.k.Steps()
}

// maxNames is how many names of each kind the left-behind account lists.
const maxNames = 3

// account says where every instance and every object stood at the end.
func (x *finished) account(r *Result) {
	s := &r.Summary
	e := result.InstancesEnd{}
	for _, in := range x.rep.Instances {
		switch endOf(in) {
		case endGone:
			e.Deleted++
		case endFailed:
			e.Failed++
			if e.FailedReasons == nil {
				e.FailedReasons = map[string]int{}
			}
			e.FailedReasons[reason(in, in.LastErr)]++
		case endReady:
			e.Ready++
		default:
			e.Unsettled++
		}
	}
	e.Unsettled += s.InstancesTotal - len(x.rep.Instances) // never created
	e.Remaining = s.InstancesTotal - e.Deleted
	s.InstancesEnd = e

	instance := map[schema.GroupVersionResource]bool{}
	for _, g := range x.rgds {
		instance[kro.InstanceGVR(g)] = true
	}
	left := result.Left{ByKind: []result.LeftKind{}}
	byKind := map[[2]string]*result.LeftKind{}
	// In no order: counts, and the first names of each kind by name.
	for k, obj := range x.srv.Store.All() {
		role := "other"
		switch {
		case instance[k.GVR]:
			role = "instance"
			left.Instances++
		case api.MetaString(obj, "labels", kro.LabelOwned) == "true":
			role = "child"
			left.Children++
		default:
			left.Other++
		}
		left.Objects++
		kind := obj.GetKind()
		if k.GVR.Group != "" {
			kind += "." + k.GVR.Group
		}
		lk := byKind[[2]string{role, kind}]
		if lk == nil {
			lk = &result.LeftKind{Kind: kind, Role: role}
			byKind[[2]string{role, kind}] = lk
		}
		lk.Count++
		lk.Names = firstNames(lk.Names, k.Namespace+"/"+k.Name)
	}
	rank := map[string]int{"instance": 0, "child": 1, "other": 2}
	for _, key := range slices.SortedFunc(maps.Keys(byKind), func(a, b [2]string) int {
		if c := cmp.Compare(rank[a[0]], rank[b[0]]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	}) {
		left.ByKind = append(left.ByKind, *byKind[key])
	}
	s.Left = left
}

// firstNames adds name to names, the first maxNames in order, keeping them
// so: a million objects left need not be listed to name three.
func firstNames(names []string, name string) []string {
	i, _ := slices.BinarySearch(names, name)
	if i >= maxNames {
		return names
	}
	names = slices.Insert(names, i, name)
	return names[:min(len(names), maxNames)]
}

// instanceEnd is where an instance stood at the end of a run.
type instanceEnd int

const (
	endUnsettled instanceEnd = iota // still in progress, or never created
	endGone                         // deleted and gone
	endFailed                       // dropped after the retry limit
	endReady                        // ready, and not asked to go
)

// endOf is where in stood at the end of the run.
func endOf(in kro.InstanceRecord) instanceEnd {
	switch {
	case in.IsGone:
		return endGone
	case in.Failed:
		return endFailed
	case in.IsReady && in.DeleteAt == 0:
		return endReady
	}
	return endUnsettled
}

// reason is msg, an instance's last error or wait, with its own name and
// namespace written <instance> and <namespace>, so instances failing alike
// count together.
func reason(in kro.InstanceRecord, msg string) string {
	if msg == "" {
		msg = "unknown"
	}
	msg = strings.ReplaceAll(msg, in.Key.Namespace, "<namespace>")
	return strings.ReplaceAll(msg, in.Key.Name, "<instance>")
}

// verdict decides whether the run did what was asked and, if not, says
// every way it did not: the workload stopped or ran out of time, an
// instance failed or never settled, objects outlived the delete phase.
func (x *finished) verdict(r *Result) {
	s, tl := &r.Summary, x.tl
	var why []string
	switch {
	case x.werr != nil:
		why = append(why, "workload: "+x.werr.Error())
	case !tl.Complete && tl.Waiting == "":
		why = append(why, "virtual time limit reached before the workload started")
	case !tl.Complete:
		why = append(why, "virtual time limit reached while waiting for "+tl.Waiting)
	}
	failed := 0
	for _, in := range x.rep.Instances {
		if in.CreateFailed || in.Failed {
			failed++
		}
	}
	if failed > 0 {
		msg := fmt.Sprintf("%d of %d instances failed", failed, s.InstancesTotal)
		if s.FailedExample != "" {
			msg += ", e.g. " + s.FailedExample
		} else if r := mostCommon(s.InstancesEnd.FailedReasons); r != "" {
			msg += ", e.g. " + r
		}
		why = append(why, msg)
	}
	if n := s.InstancesEnd.Unsettled; n > 0 {
		msg := fmt.Sprintf("%d of %d instances never settled", n, s.InstancesTotal)
		if r := mostCommon(x.unsettledReasons()); r != "" {
			msg += ", most often: " + r
		}
		why = append(why, msg)
	}
	if l := s.Left; x.cfg.Workload.Delete && tl.DeleteStart > 0 && l.Instances+l.Children > 0 {
		why = append(why, fmt.Sprintf("%s remain after the delete phase (%s, %s)", nouns(l.Instances+l.Children, "object", "objects"),
			nouns(l.Instances, "instance", "instances"), nouns(l.Children, "child", "children")))
	}
	r.Complete, r.Incomplete = len(why) == 0, strings.Join(why, "; ")
}

// nouns is n and the noun, singular for one.
func nouns(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// unsettledReasons counts why the instances that never settled (neither
// ready, failed nor gone) did not: the last error, else what the last
// reconcile waited for, as reason writes them.
func (x *finished) unsettledReasons() map[string]int {
	reasons := map[string]int{}
	for _, in := range x.rep.Instances {
		if msg := cmp.Or(in.LastErr, in.Waiting); endOf(in) == endUnsettled && msg != "" {
			reasons[reason(in, msg)]++
		}
	}
	return reasons
}

// mostCommon is the reason counted most often, the first in order among equals.
func mostCommon(reasons map[string]int) string {
	best := ""
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		if best == "" || reasons[r] > reasons[best] {
			best = r
		}
	}
	return best
}

// instances copies each tracked instance's timeline as plain data.
func (x *finished) instances(r *Result) {
	r.Instances = make([]Instance, len(x.rep.Instances))
	for i, in := range x.rep.Instances {
		r.Instances[i] = Instance{Name: in.Key.Name, Created: in.Created, Ready: in.Ready, IsReady: in.IsReady,
			UpdatedAt: in.UpdatedAt, UpdateReady: in.UpdateReady, Updated: in.UpdatedAt > 0, UpdateDone: in.UpdateDone,
			Deleting: in.Deleting, Gone: in.Gone, IsGone: in.IsGone, Failed: in.Failed}
	}
}

// traffic fills kro's requests by verb and the world's.
func (x *finished) traffic(r *Result) {
	s, t, stats := &r.Summary, x.cfg.Target, x.rep.Client
	if x.srv.Served.Requests > 0 {
		r.meanStored = x.srv.Served.Objects / float64(x.srv.Served.Requests)
	}
	r.wakeups = x.srv.Served.Wakeups
	s.APICalls = map[verb.Verb]int{}
	s.APICallsByResource = stats.ByResource()
	s.WorldAPICalls = map[verb.Verb]int{}
	r.API.Verbs = map[verb.Verb]result.Traffic{}
	served := map[verb.Verb][]float64{} // milliseconds
	for v, vs := range stats.Verbs {
		served[v] = make([]float64, 0, vs.Calls+vs.Retries) // the tries, at most
	}
	for a := range stats.Attempts() {
		if a.Served {
			served[a.Verb] = append(served[a.Verb], float64(a.ServerTime)/1e6)
		}
	}
	for _, v := range verb.All {
		vs := stats.Verbs[v]
		s.APICalls[v] = vs.Calls
		s.WorldAPICalls[v] = x.w.Calls(v)
		p := result.Quantiles(served[v])
		delete(served, v)
		r.API.Verbs[v] = result.Traffic{Calls: vs.Calls, NotFound: vs.NotFound, Errors: vs.Errors, Retries: vs.Retries,
			LatencyMS: result.LatencyMS{P50: p.P50, P95: p.P95, P99: p.P99}}
	}
	r.API.ThrottleWaitSeconds = result.Seconds(stats.ThrottleWait)
	r.API.ThrottledCalls = stats.Throttled
	r.API.Rejected429 = stats.Rejected429
	r.API.WatchCacheWaits, r.API.WatchCacheWaitSeconds = x.srv.CacheStats.Waits, result.Seconds(x.srv.CacheStats.Wait)
	r.API.WatchCacheWaitBuckets = result.WaitBuckets(x.srv.CacheStats.Buckets)
	r.API.ClientQPS, r.API.ClientBurst = t.Client.QPS, t.Client.Burst
	r.API.ClientLimiter = "none (as kro really runs: --client-qps has no effect)"
	if t.Client.QPS > 0 {
		r.API.ClientLimiter = "token bucket (what-if: a client-side limit that takes effect)"
	}
}

// attribute fills the instance workers' time by phase and utilization.
func (x *finished) attribute(r *Result) {
	var by [span.NumPhases]time.Duration
	for _, th := range r.Threads {
		for p, d := range th.By {
			by[p] += d
		}
	}
	r.Attribution = map[string]float64{}
	for _, p := range span.Phases() {
		r.Attribution[p.String()] = result.Seconds(by[p])
	}
	workers, dur := float64(len(r.Threads)), r.Duration
	if dur > 0 {
		r.Utilization.Workers = result.Round(1 - by[span.Idle].Seconds()/(workers*dur.Seconds()))
		r.Utilization.VCPUs = result.Round(x.cpu.Busy().Seconds() / (float64(x.cpu.Size()) * dur.Seconds()))
	}
}

// memory fills the RGDs' summaries and the controller's modeled memory.
func (x *finished) memory(r *Result) {
	t := x.cfg.Target
	exprs := 0
	for _, g := range x.rgds {
		exprs += g.Exprs
		r.RGDs = append(r.RGDs, result.RGD{Name: g.Name, Resources: len(g.Resources), Levels: len(g.Waves),
			Expressions: g.Exprs, CompileSeconds: result.Seconds(kro.CompileCost(t, g))})
	}
	r.Memory = result.Memory{BaseBytes: t.Memory.BaseBytes + int64(exprs)*t.Memory.PerExprBytes,
		PerResourceBytes: t.Memory.PerObjectBytes}
	r.Memory.PeakBytes = r.Memory.BaseBytes + int64(r.Summary.ObjectsPeak)*t.Memory.PerObjectBytes
}

// queue fills the workqueue's behavior.
func (x *finished) queue(r *Result) {
	q := x.rep.Queue
	queued := q.Log.Waits()
	waits := make([]float64, len(queued))
	for i, w := range queued {
		waits[i] = result.Seconds(w)
		r.QueueWait += w
	}
	r.Queue = result.Queue{Adds: q.Adds, MaxDepth: q.MaxDepth, WaitSeconds: result.Quantiles(waits)}
	if r.Duration > 0 {
		r.Queue.MeanDepth = result.Round(q.DepthSeconds / r.Duration.Seconds())
	}
}
