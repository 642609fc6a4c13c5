package sim

import (
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
	"github.com/krosim/krosim/sim/world"
)

// Result is what a run produced: results.json's data, and what profiles
// and metrics are drawn from.
type Result struct {
	result.Result

	// For profiles and metrics; not part of results.json.
	Samples     []span.Sample
	RGDThread   span.Thread
	Threads     []span.Thread
	Duration    time.Duration
	QueueWait   time.Duration // total time instances waited in the workqueue, Add to Get
	ctrl        *kro.Controller
	kroStats    *api.Stats
	meanStored  float64 // objects stored at a served request, on average
	reconcilesD []time.Duration
}

// MeanLatency is the mean time kro's attempts of verb spent at the server,
// a LIST's wait for the watch cache included; 0 without any.
func (r *Result) MeanLatency(verb string) time.Duration {
	vs := r.kroStats.Verbs[verb]
	if vs == nil || len(vs.Latencies) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range vs.Latencies {
		sum += d
	}
	return sum / time.Duration(len(vs.Latencies))
}

// MeanObjectsStored is how many objects the server stored, on average, when
// it served a request.
func (r *Result) MeanObjectsStored() float64 { return r.meanStored }

func collect(cfg result.Config, rgds []*model.RGD, k *kernel.Kernel, srv *api.Server, cpu *kernel.CPU,
	ctrl *kro.Controller, w *world.World, c *cluster, tl workload.Timeline, werr error) *Result {
	dur := k.Now()
	t := cfg.Target
	r := &Result{Result: result.Result{Format: result.Format, Config: cfg, Complete: true, CPUCost: "model"}, Duration: dur, ctrl: ctrl}
	if t.Cost.Measured {
		r.CPUCost = "measured"
	}
	if werr != nil {
		r.Complete, r.Incomplete = false, "workload: "+werr.Error()
	}
	// Summary.
	s := &r.Summary
	s.DurationSeconds = result.Seconds(dur)
	s.InstancesTotal = cfg.Workload.Instances
	var ttr []float64
	for _, in := range c.instances {
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
	} else if tl.Ready == 0 && r.Complete {
		r.Complete, r.Incomplete = false, "virtual time limit reached before every instance was ready"
	}
	if tl.Updated > 0 {
		v := result.Seconds(tl.Updated - tl.UpdateStart)
		s.UpdateSeconds, s.InstancesUpdated = &v, tl.InstancesUpdated
	}
	if cfg.Workload.Delete && tl.Gone > 0 {
		v := result.Seconds(tl.Gone - tl.DeleteStart)
		s.DeleteSeconds = &v
	} else if cfg.Workload.Delete && r.Complete {
		r.Complete, r.Incomplete = false, "virtual time limit reached before every instance was deleted"
	}
	s.TimeToReady = result.Quantiles(ttr)
	s.Reconciles = ctrl.Stats.Reconciles
	s.ReconcileErrors = ctrl.Stats.ReconcileErrors
	s.RequeuesByReason = ctrl.Stats.Requeues
	s.Evaluations = ctrl.Stats.Evals
	s.ObjectsPeak = srv.Store.MaxObjects()
	s.SimulatedEvents = k.Steps()
	stats := ctrl.Client().Stats
	r.kroStats = stats
	if srv.Served.Requests > 0 {
		r.meanStored = srv.Served.Objects / float64(srv.Served.Requests)
	}
	s.APICalls = map[string]int{}
	s.APICallsByResource = stats.ByResource
	s.WorldAPICalls = map[string]int{}
	r.API.Verbs = map[string]result.Verb{}
	for _, v := range target.Verbs {
		vs := stats.Verbs[v]
		s.APICalls[v] = vs.Calls
		s.WorldAPICalls[v] = w.Calls(v)
		lat := make([]float64, len(vs.Latencies))
		for i, l := range vs.Latencies {
			lat[i] = float64(l) / 1e6
		}
		p := result.Quantiles(lat)
		r.API.Verbs[v] = result.Verb{Calls: vs.Calls, Errors: vs.Errors, Retries: vs.Retries,
			LatencyMS: result.LatencyMS{P50: result.Round(p.P50), P95: result.Round(p.P95), P99: result.Round(p.P99)}}
	}
	r.API.ThrottleWaitSeconds = result.Seconds(stats.ThrottleWait)
	r.API.ThrottledCalls = stats.Throttled
	r.API.Rejected429 = stats.Rejected429
	r.API.WatchCacheWaits, r.API.WatchCacheWaitSeconds = srv.CacheStats.Waits, result.Seconds(srv.CacheStats.Wait)
	r.API.ClientQPS, r.API.ClientBurst = t.Client.QPS, t.Client.Burst
	r.API.ClientLimiter = "none (as kro really runs: --client-qps has no effect)"
	if t.Client.QPS > 0 {
		r.API.ClientLimiter = "token bucket (what-if: a client-side limit that takes effect)"
	}
	// Attribution over the instance workers.
	var by [span.NumPhases]time.Duration
	for _, th := range ctrl.Threads {
		r.Threads = append(r.Threads, *th)
		for p, d := range th.By {
			by[p] += d
		}
	}
	r.RGDThread = ctrl.RGDThread
	r.Attribution = map[string]float64{}
	for _, p := range span.Phases() {
		r.Attribution[p.String()] = result.Seconds(by[p])
	}
	workers := float64(len(ctrl.Threads))
	if dur > 0 {
		r.Utilization.Workers = result.Round(1 - by[span.Idle].Seconds()/(workers*dur.Seconds()))
		r.Utilization.VCPUs = result.Round(cpu.Busy().Seconds() / (float64(cpu.Size()) * dur.Seconds()))
	}
	// Memory.
	exprs := 0
	for _, g := range rgds {
		exprs += g.Exprs
		r.RGDs = append(r.RGDs, result.RGD{Name: g.Name, Resources: len(g.Resources), Levels: len(g.Waves),
			Expressions: g.Exprs, CompileSeconds: compileSeconds(t, g)})
	}
	r.Memory = result.Memory{BaseBytes: t.Memory.BaseBytes + int64(exprs)*t.Memory.PerExprBytes,
		PerResourceBytes: t.Memory.PerObjectBytes}
	r.Memory.PeakBytes = r.Memory.BaseBytes + int64(s.ObjectsPeak)*t.Memory.PerObjectBytes
	// Queue.
	q := ctrl.Queue()
	waits := make([]float64, len(q.QueueWaits))
	for i, w := range q.QueueWaits {
		waits[i] = result.Seconds(w)
		r.QueueWait += w
	}
	r.Queue = result.Queue{Adds: q.Adds, MaxDepth: q.MaxDepth, WaitSeconds: result.Quantiles(waits)}
	if dur > 0 {
		r.Queue.MeanDepth = result.Round(q.DepthSeconds / dur.Seconds())
	}
	r.Samples = ctrl.Rec.Samples()
	r.reconcilesD = ctrl.Stats.ReconcileDurations
	return r
}

func compileSeconds(t *target.Target, g *model.RGD) float64 {
	if t.Cost.Measured {
		return result.Seconds(g.CompileTime)
	}
	return result.Seconds(t.Cost.Compile(g.Exprs, g.SourceBytes()))
}
