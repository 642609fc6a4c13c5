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
	slowdown, ratio := objectSlowdown(fa, fb)
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

// objectSlowdown is the server.object_slowdown that makes the work fitted
// to a smaller run the work fitted to a larger one, work(o) = w0 (1 + s o)
// at o objects stored, and the ratio of the two runs' work it rests on, the
// mean over the larger run's requests of the verbs measured in both. It is 0
// when the larger run's work is no larger.
func objectSlowdown(small, large fitted) (slowdown, ratio float64) {
	var weight float64
	for _, v := range verb.All { // in a fixed order: a float sum's bits depend on it
		if n, wa, wb := float64(large.calls[v]), small.work[v], large.work[v]; n > 0 && wa > 0 && wb > 0 {
			ratio += n * float64(wb) / float64(wa)
			weight += n
		}
	}
	if weight > 0 {
		ratio /= weight
		// ratio = (1 + s ob) / (1 + s oa)
		if d := large.stored - ratio*small.stored; ratio > 1 && d > 0 {
			slowdown = (ratio - 1) / d
		}
	}
	return slowdown, ratio
}

// fitted is what fitting a target to a run saw in its last simulation.
type fitted struct {
	stored float64                     // objects stored at a request, on average
	calls  map[verb.Verb]int           // kro's requests by verb
	work   map[verb.Verb]time.Duration // mean work (latency without the server's queue) of the verbs measured
}

// fromRun is FromRun, also returning what its last simulation saw: read the
// run and its scrapes -> latency by verb from the server's histograms, less
// the watch-cache waits -> per-reconcile cost and work fitted by
// re-simulating the create phase -> report.
func fromRun(dir string, base *target.Target, rgds []*model.RGD) (*target.Target, []string, fitted, error) {
	r, err := readRun(dir)
	if err != nil {
		return nil, nil, fitted{}, err
	}
	t := base.Clone()
	want, report := r.requests().fitLatency(t, base)
	t.Readiness = map[string]target.Readiness{}
	if r.res.Config.Cluster.Workers > 0 {
		t.Controller.Workers = r.res.Config.Cluster.Workers
	}
	realMean := r.meanReconcile()
	fit, err := fitBySimulation(r.createPhase(t), rgds, want, realMean)
	if err != nil {
		return nil, nil, fit, err
	}
	report = append(report, fitReport(t, fit, realMean)...)
	return t, report, fit, nil
}

// run is a real run's results and the scrapes of the API server and of kro
// before and after its create phase.
type run struct {
	dir    string
	res    *result.Result
	server [2]*cluster.Scrape
	kro    [2]*cluster.Scrape
}

// readRun reads a real run's directory, refusing a simulation's results and
// a run with no create phase or no reconciles in it.
func readRun(dir string) (*run, error) {
	res, err := result.Read(dir)
	if err != nil {
		return nil, err
	}
	if !res.Config.IsReal() || res.Real == nil || res.Config.Cluster == nil {
		return nil, fmt.Errorf("%s is not a real run (config.mode %q)", dir, res.Config.Mode)
	}
	if len(res.Real.Phases) == 0 || res.Real.Phases[0].Name != "create" {
		return nil, fmt.Errorf("%s has no create phase", dir)
	}
	r := &run{dir: dir, res: res}
	const last = 1 // the scrapes after the create phase
	for _, s := range []struct {
		into *[2]*cluster.Scrape
		name string
	}{{&r.server, "apiserver"}, {&r.kro, "kro"}} {
		for i, n := range []int{0, last} {
			raw, err := os.ReadFile(filepath.Join(dir, "metrics", fmt.Sprintf("%s-%d.prom", s.name, n)))
			if err != nil {
				return nil, err
			}
			if s.into[i], err = cluster.ParseScrape(raw); err != nil {
				return nil, err
			}
		}
	}
	if res.Real.Phases[0].Reconciles == 0 {
		return nil, fmt.Errorf("%s: the real run made no reconciles", dir)
	}
	return r, nil
}

// histogram is the API server's latency histogram of one verb's requests.
type histogram struct {
	buckets    map[float64]float64 // cumulative requests by upper bound in seconds
	sum, count float64
}

// requests is what a run measured of kro's requests in its create phase.
type requests struct {
	byVerb    map[verb.Verb]*histogram    // the server's latency, by krosim verb
	overhead  map[verb.Verb]time.Duration // kro's client-side overhead, by krosim verb
	cacheWait float64                     // the seconds kro's LISTs waited for the watch cache
}

func (r *run) requests() requests {
	byVerb := r.histograms()
	return requests{byVerb: byVerb, overhead: r.clientOverhead(byVerb), cacheWait: r.watchCacheWait()}
}

// kroVerb says whether a series of the API server's request metrics is one
// of kro's workload requests, and its krosim verb.
func (r *run) kroVerb(l map[string]string) (verb.Verb, bool) {
	return kroRequest(l, r.res.Summary.APICallsByResource, r.res.Real.Krosim)
}

// histograms are the server-side latency of kro's requests, by krosim verb.
func (r *run) histograms() map[verb.Verb]*histogram {
	byVerb := map[verb.Verb]*histogram{}
	for _, x := range cluster.Delta(r.server[0], r.server[1], "apiserver_request_duration_seconds_bucket") {
		v, ok := r.kroVerb(x.Labels)
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
			h = &histogram{buckets: map[float64]float64{}}
			byVerb[v] = h
		}
		h.buckets[le] += x.Value
	}
	for _, name := range []string{"apiserver_request_duration_seconds_sum", "apiserver_request_duration_seconds_count"} {
		for _, x := range cluster.Delta(r.server[0], r.server[1], name) {
			if v, ok := r.kroVerb(x.Labels); ok && byVerb[v] != nil {
				if name == "apiserver_request_duration_seconds_sum" {
					byVerb[v].sum += x.Value
				} else {
					byVerb[v].count += x.Value
				}
			}
		}
	}
	return byVerb
}

// clientOverhead is kro's client-side overhead per HTTP method, by krosim
// verb: what its client saw minus what the server spent.
func (r *run) clientOverhead(byVerb map[verb.Verb]*histogram) map[verb.Verb]time.Duration {
	methods := map[string][]verb.Verb{"GET": {verb.Get, verb.List}, "PATCH": {verb.Patch}, "PUT": {verb.Update, verb.UpdateStatus},
		"DELETE": {"delete"}, "POST": {"create"}}
	k0, k1 := r.kro[0], r.kro[1]
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
	return overhead
}

// watchCacheWait is the seconds the LISTs of the resources kro listed waited
// for the watch cache to be fresh.
func (r *run) watchCacheWait() float64 {
	var wait float64
	for _, x := range cluster.Delta(r.server[0], r.server[1], "apiserver_watch_cache_read_wait_seconds_sum") {
		if r.res.Summary.APICallsByResource[x.Labels["resource"]]["list"] > 0 {
			wait += x.Value
		}
	}
	return wait
}

// fitLatency sets t's latency of every verb kro made enough requests of to
// what kro saw, and returns each one's mean and a line of report per verb.
func (q requests) fitLatency(t, base *target.Target) (map[verb.Verb]time.Duration, []string) {
	want := map[verb.Verb]time.Duration{} // mean latency by verb, as measured
	var report []string
	for _, v := range verb.All {
		h := q.byVerb[v]
		if h == nil || h.count < 20 {
			continue
		}
		l, mean, wait := q.latency(v, base.Latency[v])
		// The processor time a request costs is not its latency: keep
		// what t already says (calibrate --cpu-from fitted it just before).
		l.CPU, l.CPUPerKiB = t.Latency[v].CPU, t.Latency[v].CPUPerKiB
		t.Latency[v] = l
		want[v] = mean
		note := ""
		if wait > 0 {
			note = fmt.Sprintf(", after %.2fms waiting for the watch cache, which the simulation models", wait*1e3)
		}
		report = append(report, fmt.Sprintf("%s mean %.2fms (server %.2fms + client %.2fms, %d requests%s)", v,
			float64(mean)/1e6, h.sum/h.count*1e3-wait*1e3, float64(q.overhead[v])/1e6, int(h.count), note))
	}
	return want, report
}

// latency is one verb's latency as kro saw it, shaped as the server's
// buckets (or, for a LIST, as base) with their mean, its mean, and the
// seconds a LIST waited for the watch cache on average, left out of both.
func (q requests) latency(v verb.Verb, base target.Latency) (target.Latency, time.Duration, float64) {
	h, overhead := q.byVerb[v], q.overhead[v]
	mean := time.Duration(h.sum/h.count*1e9) + overhead
	l := target.Latency{P50: quantileOf(h.buckets, 0.5), P95: quantileOf(h.buckets, 0.95), P99: quantileOf(h.buckets, 0.99),
		PerObject: base.PerObject}
	// A LIST's server time includes its wait for the watch cache to be fresh,
	// which the simulation models itself (server.watch_progress_interval):
	// the LIST latency is the rest, shaped as the base target's.
	wait := 0.0
	if v == "list" && q.cacheWait > 0 {
		wait = math.Min(q.cacheWait/h.count, h.sum/h.count)
		mean -= time.Duration(wait * 1e9)
		l = base
	}
	l.P50 += target.Duration(overhead)
	l.P95 += target.Duration(overhead)
	l.P99 += target.Duration(overhead)
	// The server's buckets are coarse: keep their shape, match their mean,
	// which is what a sum of many requests depends on.
	if m := meanOf(l); m > 0 {
		f := float64(mean) / float64(m)
		l.P50, l.P95, l.P99 = scale(l.P50, f), scale(l.P95, f), scale(l.P99, f)
	}
	if v == "list" { // each of kro's LISTs here returned about one object
		l.P50 = max(l.P50-l.PerObject, 1000)
		l.P95 = max(l.P95-l.PerObject, l.P50)
		l.P99 = max(l.P99-l.PerObject, l.P95)
	}
	return l, mean, wait
}

// meanReconcile is the seconds kro's reconciles of instances took in the
// create phase, on average.
func (r *run) meanReconcile() float64 {
	durations := func(k *cluster.Scrape) float64 {
		return k.Sum("instance_reconcile_duration_seconds_sum", func(l map[string]string) bool { return strings.Contains(l["gvr"], "Resource=") })
	}
	return (durations(r.kro[1]) - durations(r.kro[0])) / float64(r.res.Real.Phases[0].Reconciles)
}

// createPhase is the config that simulates the run's create phase on t.
func (r *run) createPhase(t *target.Target) result.Config { return r.asRun(t, false) }

// asRun is the config that simulates the run's create phase on t, and its
// delete phase too when withDelete.
func (r *run) asRun(t *target.Target, withDelete bool) result.Config {
	wl := r.res.Config.Workload
	wl.Delete = withDelete && wl.Delete
	if c := r.res.Config.Cluster; wl.Parallel == 0 && c != nil && c.Parallel > 0 {
		wl.Parallel = c.Parallel // what krosim kept in flight (the workload records only a value not the default)
	}
	return result.Config{RGDFiles: r.res.Config.RGDFiles, Target: t, Workload: wl, Seed: r.res.Config.Seed,
		MaxTime: target.Duration(24 * time.Hour)}
}

// fitsWork says whether a target's latency is work on the server's
// processors (server.cpus) that grows with the objects stored
// (object_slowdown), rather than all of a request's latency.
func fitsWork(t *target.Target) bool { return t.Server.CPUs > 0 || t.Server.ObjectSlowdown > 0 }

// fitBySimulation fits cfg.Target's cost.reconcile_ns, the per-reconcile
// time the requests do not explain, by simulating the create phase until its
// mean reconcile takes realMean seconds. With server.cpus, a request's
// latency is its work on one of the server's processors plus its wait for one
// (and with object_slowdown, the work grows with the objects stored), and the
// run measured the sum: it fits the work too, scaling each verb's until the
// simulated mean latency is the one measured (want).
func fitBySimulation(cfg result.Config, rgds []*model.RGD, want map[verb.Verb]time.Duration, realMean float64) (fitted, error) {
	f, err := simulateFit(cfg, rgds, want, &realMean)
	return f.fitted, err
}

// workFit is a fit's last simulation: what it saw, and its mean reconcile
// in seconds.
type workFit struct {
	fitted
	reconcile float64
}

// fitWork fits each verb's work as fitBySimulation does, leaving every
// cost as it is (they are measured), and says how long the last
// simulation's reconciles took on average.
func fitWork(cfg result.Config, rgds []*model.RGD, want map[verb.Verb]time.Duration) (workFit, error) {
	return simulateFit(cfg, rgds, want, nil)
}

// simulateFit simulates cfg, scaling its target's work towards want and,
// when realMean is given, its cost.reconcile_ns towards that mean reconcile.
func simulateFit(cfg result.Config, rgds []*model.RGD, want map[verb.Verb]time.Duration, realMean *float64) (workFit, error) {
	t := cfg.Target
	rounds := 3
	if fitsWork(t) {
		rounds = 8
	}
	var fit workFit
	for i := 0; i < rounds; i++ {
		r, err := sim.Run(cfg, rgds, sim.Options{})
		if err != nil {
			return fit, err
		}
		busy := r.WorkerSeconds() - r.Attribution["idle"]
		simMean := busy / float64(max(1, r.Summary.Reconciles))
		if realMean != nil {
			t.Cost.ReconcileNS = math.Max(0, math.Round(t.Cost.ReconcileNS+(*realMean-simMean)*1e9))
		}
		fit = workFit{fitted: fitted{stored: r.MeanObjectsStored(), calls: map[verb.Verb]int{}}, reconcile: simMean}
		for v, vr := range r.API.Verbs {
			fit.calls[v] = vr.Calls
		}
		if fitsWork(t) {
			scaleWork(t, r, want)
		}
	}
	fit.work = map[verb.Verb]time.Duration{}
	for v := range want {
		fit.work[v] = meanOf(t.Latency[v])
	}
	return fit, nil
}

// scaleWork scales each measured verb's latency in t by how far the
// simulation's mean (less its watch-cache wait) is from the one wanted.
func scaleWork(t *target.Target, r *sim.Result, want map[verb.Verb]time.Duration) {
	for v, m := range want {
		got := r.MeanLatency(v)
		if n := r.API.Verbs[v].Calls; v == "list" && n > 0 {
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

// fitReport says what the simulations fitted: the work per request, if they
// fitted it, and the per-reconcile time.
func fitReport(t *target.Target, fit fitted, realMean float64) []string {
	var report []string
	if fitsWork(t) {
		var work []string
		for _, v := range verb.All {
			if w, ok := fit.work[v]; ok {
				work = append(work, fmt.Sprintf("%s %.2fms", v, float64(w)/1e6))
			}
		}
		where := fmt.Sprintf("on the server's %d processors (server.cpus), the rest of the latency being the wait for one", t.Server.CPUs)
		if t.Server.CPUs == 0 {
			where = "on an unlimited server"
		}
		if t.Server.ObjectSlowdown > 0 {
			where += fmt.Sprintf(", with no objects stored (%.0f stored on average here)", fit.stored)
		}
		report = append(report, fmt.Sprintf("mean work per request %s: %s", where, strings.Join(work, ", ")))
	}
	return append(report, fmt.Sprintf("create-phase reconcile %.2fms on average, %.2fms of it outside the requests (cost.reconcile_ns)",
		realMean*1e3, t.Cost.ReconcileNS/1e6))
}

// kroRequest says whether a series of the API server's request metrics is
// one of kro's workload requests, and its krosim verb.
func kroRequest(l map[string]string, kroResources map[string]map[verb.Verb]int, own map[string]map[string]int) (verb.Verb, bool) {
	q := cluster.RequestOf(l)
	v, ok := q.KroVerb()
	if !ok || q.Excluded(func(string) bool { return false }) || kroResources[q.Resource][v] == 0 || own[q.Resource][q.Verb] > 0 {
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
