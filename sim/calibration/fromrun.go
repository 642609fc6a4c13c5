package calibration

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"gonum.org/v1/gonum/stat/distuv"
)

// FromRun derives a target from a real run's directory, from its create
// phase (the one converge time measures): the request latency kro saw (the
// API server's latency histograms by verb, kro's requests only, plus kro's
// own client-side overhead from its rest_client_request_duration_seconds),
// and the per-reconcile time that latency does not explain (kro's CPU, its
// informers, scheduling on a shared host), fitted as cost.reconcile_ns by
// simulating the run's create phase until its mean reconcile takes as long
// as it did for real. With server.cpus set, the same simulations fit each
// verb's work on the server's processors, the latency less the wait for one.
func FromRun(dir string, base *target.Target, rgds []*model.RGD) (*target.Target, []string, error) {
	t, report, _, err := fromRun(dir, base, rgds)
	return t, report, err
}

// FromRuns derives a target from a real run as FromRun does; given a
// second, larger run too, it also fits server.object_slowdown, the growth of
// a request's work with the objects stored: each run's work fitted alone
// says how much more a request cost at the larger run's objects, and the
// growth is linear in between. The target is then FromRun's of the first
// run with that slowdown.
func FromRuns(dirs []string, base *target.Target, rgds []*model.RGD) (*target.Target, []string, error) {
	switch len(dirs) {
	case 1:
		return FromRun(dirs[0], base, rgds)
	case 2:
	default:
		return nil, nil, fmt.Errorf("calibrate from one run, or two of different sizes; got %d", len(dirs))
	}
	flat := base.Clone()
	flat.Server.ObjectSlowdown = 0
	_, _, fa, err := fromRun(dirs[0], flat, rgds)
	if err != nil {
		return nil, nil, err
	}
	_, _, fb, err := fromRun(dirs[1], flat, rgds)
	if err != nil {
		return nil, nil, err
	}
	if fb.stored <= fa.stored {
		return nil, nil, fmt.Errorf("%s stored no more objects than %s (%.0f and %.0f on average): "+
			"the second run must be the larger", dirs[1], dirs[0], fb.stored, fa.stored)
	}
	// How much more the larger run's requests cost, weighted by its requests.
	var ratio, weight float64
	for _, v := range verb.All { // in a fixed order: a float sum's bits depend on it
		if n, wa, wb := float64(fb.calls[v]), fa.work[v], fb.work[v]; n > 0 && wa > 0 && wb > 0 {
			ratio += n * float64(wb) / float64(wa)
			weight += n
		}
	}
	slowdown := 0.0
	if weight > 0 {
		ratio /= weight
		// work(o) = w0 (1 + s o): ratio = (1 + s ob) / (1 + s oa)
		if d := fb.stored - ratio*fa.stored; ratio > 1 && d > 0 {
			slowdown = (ratio - 1) / d
		}
	}
	grown := base.Clone()
	grown.Server.ObjectSlowdown = slowdown
	t, report, _, err := fromRun(dirs[0], grown, rgds)
	if err != nil {
		return nil, nil, err
	}
	report = append(report, fmt.Sprintf("a request's work in %s, %.0f objects stored on average, is %.2f times that in %s, %.0f: "+
		"server.object_slowdown %.3g (+%.0f%% per 1,000 objects)", dirs[1], fb.stored, ratio, dirs[0], fa.stored, slowdown, slowdown*1e5))
	return t, report, nil
}

// fitted is what fitting a target to a run saw in its last simulation.
type fitted struct {
	stored float64                     // objects stored at a request, on average
	calls  map[verb.Verb]int           // kro's requests by verb
	work   map[verb.Verb]time.Duration // mean work (latency without the server's queue) of the verbs measured
}

func fromRun(dir string, base *target.Target, rgds []*model.RGD) (*target.Target, []string, fitted, error) {
	var fit fitted
	fail := func(err error) (*target.Target, []string, fitted, error) { return nil, nil, fit, err }
	res, err := result.Read(dir)
	if err != nil {
		return fail(err)
	}
	if !res.Config.IsReal() || res.Real == nil || res.Config.Cluster == nil {
		return fail(fmt.Errorf("%s is not a real run (config.mode %q)", dir, res.Config.Mode))
	}
	if len(res.Real.Phases) == 0 || res.Real.Phases[0].Name != "create" {
		return fail(fmt.Errorf("%s has no create phase", dir))
	}
	const last = 1 // the scrapes after the create phase
	read := func(name string) (*cluster.Scrape, error) {
		raw, err := os.ReadFile(filepath.Join(dir, "metrics", name))
		if err != nil {
			return nil, err
		}
		return cluster.ParseScrape(raw)
	}
	s0, err := read("apiserver-0.prom")
	if err != nil {
		return fail(err)
	}
	s1, err := read(fmt.Sprintf("apiserver-%d.prom", last))
	if err != nil {
		return fail(err)
	}
	k0, err := read("kro-0.prom")
	if err != nil {
		return fail(err)
	}
	k1, err := read(fmt.Sprintf("kro-%d.prom", last))
	if err != nil {
		return fail(err)
	}
	t := base.Clone()
	var report []string
	want := map[verb.Verb]time.Duration{} // mean latency by verb, as measured

	// Server-side latency of kro's requests, by krosim verb.
	kroResources := res.Summary.APICallsByResource
	type hist struct {
		buckets    map[float64]float64
		sum, count float64
	}
	byVerb := map[verb.Verb]*hist{}
	for _, x := range cluster.Delta(s0, s1, "apiserver_request_duration_seconds_bucket") {
		v, ok := kroRequest(x.Labels, kroResources, res.Real.Krosim)
		if !ok {
			continue
		}
		le, err := strconv.ParseFloat(x.Labels["le"], 64)
		if err != nil && x.Labels["le"] != "+Inf" {
			continue
		}
		if x.Labels["le"] == "+Inf" {
			le = math.Inf(1)
		}
		h := byVerb[v]
		if h == nil {
			h = &hist{buckets: map[float64]float64{}}
			byVerb[v] = h
		}
		h.buckets[le] += x.Value
	}
	for _, name := range []string{"apiserver_request_duration_seconds_sum", "apiserver_request_duration_seconds_count"} {
		for _, x := range cluster.Delta(s0, s1, name) {
			if v, ok := kroRequest(x.Labels, kroResources, res.Real.Krosim); ok && byVerb[v] != nil {
				if name == "apiserver_request_duration_seconds_sum" {
					byVerb[v].sum += x.Value
				} else {
					byVerb[v].count += x.Value
				}
			}
		}
	}
	// kro's client-side overhead per HTTP method: what its client saw minus
	// what the server spent.
	methods := map[string][]verb.Verb{}
	for _, v := range verb.All {
		methods[v.Method()] = append(methods[v.Method()], v)
	}
	overhead := map[verb.Verb]time.Duration{}
	for method, verbs := range methods {
		match := func(l map[string]string) bool { return l["verb"] == method }
		sum := k1.Sum("rest_client_request_duration_seconds_sum", match) - k0.Sum("rest_client_request_duration_seconds_sum", match)
		n := k1.Sum("rest_client_request_duration_seconds_count", match) - k0.Sum("rest_client_request_duration_seconds_count", match)
		var ssum, sn float64
		for _, v := range verbs {
			if h := byVerb[v]; h != nil {
				ssum += h.sum
				sn += h.count
			}
		}
		if n > 0 && sn > 0 {
			d := time.Duration(math.Max(0, (sum-ssum)/n) * 1e9)
			for _, v := range verbs {
				overhead[v] = d
			}
		}
	}
	// A LIST's server time includes its wait for the watch cache to be fresh,
	// which the simulation models itself (server.watch_progress_interval):
	// the LIST latency is the rest, shaped as the base target's.
	var cacheWait float64
	for _, x := range cluster.Delta(s0, s1, "apiserver_watch_cache_read_wait_seconds_sum") {
		if kroResources[x.Labels["resource"]][verb.List] > 0 {
			cacheWait += x.Value
		}
	}
	for _, v := range verb.All {
		h := byVerb[v]
		if h == nil || h.count < 20 {
			continue
		}
		mean := time.Duration(h.sum/h.count*1e9) + overhead[v]
		l := target.Latency{P50: quantileOf(h.buckets, 0.5), P95: quantileOf(h.buckets, 0.95), P99: quantileOf(h.buckets, 0.99),
			PerObject: base.Latency[v].PerObject}
		wait := 0.0
		if v == verb.List && cacheWait > 0 {
			wait = math.Min(cacheWait/h.count, h.sum/h.count)
			mean -= time.Duration(wait * 1e9)
			l = base.Latency[v]
		}
		l.P50 += target.Duration(overhead[v])
		l.P95 += target.Duration(overhead[v])
		l.P99 += target.Duration(overhead[v])
		// The server's buckets are coarse: keep their shape, match their mean,
		// which is what a sum of many requests depends on.
		if m := meanOf(l); m > 0 {
			f := float64(mean) / float64(m)
			l.P50, l.P95, l.P99 = scale(l.P50, f), scale(l.P95, f), scale(l.P99, f)
		}
		if v == verb.List { // each of kro's LISTs here returned about one object
			l.P50 = max(l.P50-l.PerObject, 1000)
			l.P95 = max(l.P95-l.PerObject, l.P50)
			l.P99 = max(l.P99-l.PerObject, l.P95)
		}
		t.Latency[v] = l
		want[v] = mean
		note := ""
		if wait > 0 {
			note = fmt.Sprintf(", after %.2fms waiting for the watch cache, which the simulation models", wait*1e3)
		}
		report = append(report, fmt.Sprintf("%s mean %.2fms (server %.2fms + client %.2fms, %d requests%s)", v,
			float64(mean)/1e6, h.sum/h.count*1e3-wait*1e3, float64(overhead[v])/1e6, int(h.count), note))
	}
	t.Readiness = map[string]target.Readiness{}
	if res.Config.Cluster.Workers > 0 {
		t.Controller.Workers = res.Config.Cluster.Workers
	}
	// Fit the per-reconcile time the requests do not explain.
	create := res.Real.Phases[0]
	if create.Reconciles == 0 {
		return fail(fmt.Errorf("%s: the real run made no reconciles", dir))
	}
	durations := func(k *cluster.Scrape) float64 {
		return k.Sum("instance_reconcile_duration_seconds_sum", func(l map[string]string) bool { return strings.Contains(l["gvr"], "Resource=") })
	}
	realMean := (durations(k1) - durations(k0)) / float64(create.Reconciles)
	wl := res.Config.Workload
	wl.Delete = false
	cfg := result.Config{RGDFiles: res.Config.RGDFiles, Target: t, Workload: wl, Seed: res.Config.Seed,
		MaxTime: target.Duration(24 * time.Hour)}
	// With server.cpus, a request's latency is its work on one of the
	// server's processors plus its wait for one (and with object_slowdown,
	// the work grows with the objects stored), and the run measured the
	// sum: fit the work too, scaling each verb's until the simulated run's
	// mean latency is the measured one.
	fitWork := t.Server.CPUs > 0 || t.Server.ObjectSlowdown > 0
	rounds := 3
	if fitWork {
		rounds = 8
	}
	for i := 0; i < rounds; i++ {
		r, err := sim.Run(cfg, rgds, sim.Options{})
		if err != nil {
			return fail(err)
		}
		busy := r.WorkerSeconds() - r.Attribution["idle"]
		simMean := busy / float64(max(1, r.Summary.Reconciles))
		t.Cost.ReconcileNS = math.Max(0, math.Round(t.Cost.ReconcileNS+(realMean-simMean)*1e9))
		fit = fitted{stored: r.MeanObjectsStored(), calls: map[verb.Verb]int{}}
		for v, vr := range r.API.Verbs {
			fit.calls[v] = vr.Calls
		}
		if !fitWork {
			continue
		}
		for v, m := range want {
			got := r.MeanLatency(v)
			if n := r.API.Verbs[v].Calls; v == verb.List && n > 0 {
				got -= time.Duration(r.API.WatchCacheWaitSeconds / float64(n) * 1e9)
			}
			if got > 0 {
				f := float64(m) / float64(got)
				l := t.Latency[v]
				l.P50, l.P95, l.P99 = scale(l.P50, f), scale(l.P95, f), scale(l.P99, f)
				t.Latency[v] = l
			}
		}
	}
	fit.work = map[verb.Verb]time.Duration{}
	var work []string
	for _, v := range verb.All {
		if _, ok := want[v]; ok {
			fit.work[v] = meanOf(t.Latency[v])
			work = append(work, fmt.Sprintf("%s %.2fms", v, float64(fit.work[v])/1e6))
		}
	}
	if fitWork {
		where := fmt.Sprintf("on the server's %d processors (server.cpus), the rest of the latency being the wait for one", t.Server.CPUs)
		if t.Server.CPUs == 0 {
			where = "on an unlimited server"
		}
		if t.Server.ObjectSlowdown > 0 {
			where += fmt.Sprintf(", with no objects stored (%.0f stored on average here)", fit.stored)
		}
		report = append(report, fmt.Sprintf("mean work per request %s: %s", where, strings.Join(work, ", ")))
	}
	report = append(report, fmt.Sprintf("create-phase reconcile %.2fms on average, %.2fms of it outside the requests (cost.reconcile_ns)",
		realMean*1e3, t.Cost.ReconcileNS/1e6))
	return t, report, fit, nil
}

// kroRequest says whether a series of the API server's request metrics is
// one of kro's workload requests, and its krosim verb.
func kroRequest(l map[string]string, kroResources map[string]map[verb.Verb]int, own map[string]map[string]int) (verb.Verb, bool) {
	q := cluster.RequestOf(l)
	v, ok := q.KroVerb()
	if !ok || q.Excluded() || kroResources[q.Resource][v] == 0 || own[q.Resource][q.Verb] > 0 {
		return "", false
	}
	return v, true
}

// quantileOf interpolates a quantile from cumulative histogram buckets, as
// Prometheus's histogram_quantile does.
func quantileOf(buckets map[float64]float64, p float64) target.Duration {
	les := make([]float64, 0, len(buckets))
	for le := range buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) == 0 {
		return 0
	}
	total := buckets[les[len(les)-1]]
	rank := p * total
	prevLe, prevN := 0.0, 0.0
	for _, le := range les {
		n := buckets[le]
		if n >= rank {
			if math.IsInf(le, 1) {
				return target.Duration(prevLe * 1e9)
			}
			frac := 0.0
			if n > prevN {
				frac = (rank - prevN) / (n - prevN)
			}
			return target.Duration((prevLe + frac*(le-prevLe)) * 1e9)
		}
		prevLe, prevN = le, n
	}
	return target.Duration(prevLe * 1e9)
}

// meanOf is the mean of a latency distribution (objects aside).
func meanOf(l target.Latency) time.Duration {
	const n = 4000
	norm := distuv.UnitNormal
	total := 0.0
	for i := 0; i < n; i++ {
		total += float64(l.Sample(norm.Quantile((float64(i)+0.5)/n), 0))
	}
	return time.Duration(total / n)
}

func scale(d target.Duration, f float64) target.Duration { return target.Duration(float64(d) * f) }
