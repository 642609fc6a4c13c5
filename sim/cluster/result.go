package cluster

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
)

// result is the run's results.json: a simulation's fields, counted from the
// scrapes and the tracker, and what only a real run has.
func (r *runner) result(plan *workload.Plan, tl workload.Timeline) *result.Result {
	wl := plan.Workload
	res := &result.Result{Format: result.Format, CPUCost: "real", Complete: tl.Complete,
		Real: &result.Real{Phases: r.phases, Notes: r.notes}}
	res.Config = result.Config{Mode: "real", RGDFiles: r.cfg.RGDFiles, Workload: wl, Seed: r.cfg.Seed,
		MaxTime: target.Duration(r.cfg.Timeout), Cluster: &result.Cluster{Server: r.server,
			KroMetrics: r.cfg.KroMetrics, Workers: r.cfg.Workers, Quiet: r.cfg.Quiet.Seconds(), Parallel: r.cfg.Parallel}}
	if to := r.timedOut; to != nil {
		what := map[workload.Phase]string{workload.Create: "ready", workload.Update: "updated", workload.Delete: "gone"}[to.phase]
		n := r.n
		if to.phase == workload.Update {
			n = r.updating
		}
		res.Incomplete = fmt.Sprintf("%d of %d instances %s after %s", r.tracker.count(what), n, what, r.cfg.Timeout)
	}
	r.summarize(res, tl)
	r.reportStandins(res)
	r.countRequests(res)
	res.Real.Host = hostLoad(r.host, sampleHost(r.cfg.PIDDir), time.Since(r.hostAt).Seconds())
	if probe := r.probe.finish(); res.Real.Host != nil {
		res.Real.Host.Probe = probe
	}
	return res
}

// summarize fills the summary's times and instance counts.
func (r *runner) summarize(res *result.Result, tl workload.Timeline) {
	s := &res.Summary
	s.InstancesTotal = r.n
	s.InstancesReady = r.tracker.count("ready")
	s.InstancesFailed = r.n - s.InstancesReady
	if tl.Ready > 0 {
		v := result.Seconds(tl.Ready)
		s.ConvergeSeconds = &v
	}
	if tl.Updated > 0 {
		v := result.Seconds(tl.Updated - tl.UpdateStart)
		s.UpdateSeconds, s.InstancesUpdated = &v, tl.InstancesUpdated
	}
	if tl.Gone > 0 {
		v := result.Seconds(tl.Gone - tl.DeleteStart)
		s.DeleteSeconds = &v
	}
	s.DurationSeconds = result.Round(r.last.idle.Sub(r.start).Seconds())
	var ttr []float64
	res.Real.Instances, ttr = r.tracker.timings()
	s.TimeToReady = result.Quantiles(ttr)
}

// countRequests fills the reconcile and request counts over the whole
// workload, as a simulation reports them.
func (r *runner) countRequests(res *result.Result) {
	total := r.phase("total", 0, r.first, r.last)
	r.probe.exclude(&total, -1)
	s := &res.Summary
	s.Reconciles = total.Reconciles
	s.ReconcileErrors = total.ReconcileErrors
	s.RequeuesByReason = total.Requeues
	s.APICalls = total.APICalls
	s.APICallsByResource = total.APICallsByResource
	s.WorldAPICalls = map[verb.Verb]int{}
	for _, v := range verb.All {
		s.WorldAPICalls[v] = 0
	}
	for q, c := range subtract(r.last.own, r.first.own) {
		if v, ok := q.KroVerb(); ok {
			s.WorldAPICalls[v] += c
		}
	}
	// The readiness watch's LIST is krosim's, not the workload's.
	s.WorldAPICalls[verb.List] = 0
	res.API.Verbs = map[verb.Verb]result.Traffic{}
	for _, v := range verb.All {
		res.API.Verbs[v] = result.Traffic{Calls: s.APICalls[v]}
	}
	res.API.ClientLimiter = "none (kro's --client-qps has no effect)"
	// The server's own account of how long kro's LISTs waited for its watch cache.
	s0, s1 := r.first.s, r.last.s
	res.API.WatchCacheWaits, res.API.WatchCacheWaitSeconds = cacheWaits(s0, s1, s.APICallsByResource)
	res.API.WatchCacheWaitBuckets = waitBuckets(Delta(s0, s1, "apiserver_watch_cache_read_wait_seconds_bucket"), s.APICallsByResource)
	res.Real.Excluded, res.Real.Krosim = r.excluded(s0, s1, r.first.own, r.last.own)
	res.Real.ReconcileSeconds = result.Round(r.kroSum(r.last.k, "instance_reconcile_duration_seconds_sum") - r.kroSum(r.first.k, "instance_reconcile_duration_seconds_sum"))
	if r.cfg.Workers > 0 && s.DurationSeconds > 0 {
		res.Utilization.Workers = result.Round(res.Real.ReconcileSeconds / (float64(r.cfg.Workers) * s.DurationSeconds))
	}
	res.Real.Notes = r.notes
}

// waitBuckets turns the server's cumulative buckets of the LISTs' waits for
// the watch cache, over the resources kro LISTed, into waits per bucket of
// result.WaitBounds. A bound the server does not report (another Kubernetes
// version's buckets) counts nothing.
func waitBuckets(series []Series, calls map[string]map[verb.Verb]int) []result.WaitBucket {
	cum := make([]float64, len(result.WaitBounds)+1)
	for _, x := range series {
		if calls[x.Labels["resource"]][verb.List] == 0 {
			continue
		}
		i := len(result.WaitBounds)
		if le := x.Labels["le"]; le != "+Inf" {
			b, err := strconv.ParseFloat(le, 64)
			j, ok := slices.BinarySearch(result.WaitBounds, b)
			if err != nil || !ok {
				continue
			}
			i = j
		}
		cum[i] += x.Value
	}
	counts := make([]int, len(cum))
	prev := 0.0
	for i, c := range cum {
		counts[i] = max(0, int(math.Round(c-prev)))
		prev = max(prev, c)
	}
	return result.WaitBuckets(counts)
}

// cacheWaits is the server's count of the consistent LISTs of the resources
// kro LISTed (byResource) that waited for the watch cache between two
// scrapes, and how long they waited in all.
func cacheWaits(s0, s1 *Scrape, byResource map[string]map[verb.Verb]int) (waits int, seconds float64) {
	for _, x := range Delta(s0, s1, "apiserver_watch_cache_read_wait_seconds_sum") {
		if byResource[x.Labels["resource"]][verb.List] > 0 {
			seconds += x.Value
		}
	}
	for _, x := range Delta(s0, s1, "apiserver_watch_cache_read_wait_seconds_count") {
		if byResource[x.Labels["resource"]][verb.List] > 0 {
			waits += int(x.Value)
		}
	}
	return waits, result.Round(seconds)
}
