package sim

import (
	"encoding/json"
	"math"
	"sort"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/world"
	"gonum.org/v1/gonum/stat"
)

// Result is what a run produced. Its JSON form is results.json, the output
// contract other tools read; it is deterministic for a given config.
type Result struct {
	Format      string             `json:"format"`
	Config      Config             `json:"config"`
	Complete    bool               `json:"complete"`
	Incomplete  string             `json:"incomplete,omitempty"`
	CPUCost     string             `json:"cpu_cost"` // "model" (deterministic) or "measured" (not)
	Summary     Summary            `json:"summary"`
	API         API                `json:"api"`
	Attribution map[string]float64 `json:"attribution"`
	Utilization Utilization        `json:"utilization"`
	Memory      Memory             `json:"memory"`
	Queue       Queue              `json:"queue"`
	RGDs        []RGDSummary       `json:"rgds"`

	// For profiles and metrics; not part of results.json.
	Samples    []span.Sample `json:"-"`
	RGDThread  span.Thread   `json:"-"`
	Threads    []span.Thread `json:"-"`
	Duration   time.Duration `json:"-"`
	QueueWait  time.Duration `json:"-"` // total time instances waited in the workqueue, Add to Get
	kro        kro.Report
	kroStats   *api.Stats
	meanStored float64 // objects stored at a served request, on average
}

// WorkerSeconds is the instance workers' time, idle included: the sum of
// Attribution, added in the order of span.Phases so that its bits never
// depend on a map's order.
func (r *Result) WorkerSeconds() float64 {
	total := 0.0
	for _, p := range span.Phases() {
		total += r.Attribution[p.String()]
	}
	return total
}

// MeanLatency is the mean time kro's attempts of verb spent at the server,
// a LIST's wait for the watch cache included; 0 without any.
func (r *Result) MeanLatency(v verb.Verb) time.Duration {
	vs := r.kroStats.Verbs[v]
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

// Summary is the headline of a run.
type Summary struct {
	ConvergeSeconds  *float64          `json:"converge_seconds"`
	DeleteSeconds    *float64          `json:"delete_seconds,omitempty"`
	UpdateSeconds    *float64          `json:"update_seconds,omitempty"`
	InstancesUpdated int               `json:"instances_updated,omitempty"`
	DurationSeconds  float64           `json:"duration_seconds"`
	InstancesTotal   int               `json:"instances_total"`
	InstancesReady   int               `json:"instances_ready"`
	InstancesFailed  int               `json:"instances_failed"`
	Reconciles       int               `json:"reconciles"`
	ReconcileErrors  int               `json:"reconcile_errors"`
	APICalls         map[verb.Verb]int `json:"api_calls"`
	// APICallsByResource is kro's requests by resource, then verb.
	APICallsByResource map[string]map[verb.Verb]int `json:"api_calls_by_resource"`
	WorldAPICalls      map[verb.Verb]int            `json:"world_api_calls"`
	TimeToReady        Percentiles                  `json:"time_to_ready_seconds"`
	Evaluations        int                          `json:"cel_evaluations"`
	ObjectsPeak        int                          `json:"objects_peak"`
	SimulatedEvents    uint64                       `json:"simulated_events"`
	FailedExample      string                       `json:"failed_example,omitempty"`
	RequeuesByReason   map[string]int               `json:"requeues"`
}

// Percentiles of a distribution, in seconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// MarshalJSON writes an empty distribution (nothing was measured, e.g. no
// instance became ready) as null rather than as zeros that look measured.
func (p Percentiles) MarshalJSON() ([]byte, error) {
	if p == (Percentiles{}) {
		return []byte("null"), nil
	}
	type plain Percentiles
	return json.Marshal(plain(p))
}

// API is kro's client traffic.
type API struct {
	Verbs               map[verb.Verb]VerbResult `json:"verbs"`
	ThrottleWaitSeconds float64                  `json:"throttle_wait_seconds"`
	ThrottledCalls      int                      `json:"throttled_calls"`
	Rejected429         int                      `json:"rejected_429"`
	// The consistent LISTs that waited for the server's watch cache to be
	// fresh (apiserver_watch_cache_read_wait_seconds), and their total wait.
	WatchCacheWaits       int     `json:"watch_cache_waits"`
	WatchCacheWaitSeconds float64 `json:"watch_cache_wait_seconds"`
	ClientQPS             float64 `json:"client_qps"`
	ClientBurst           int     `json:"client_burst"`
	ClientLimiter         string  `json:"client_limiter"`
}

// VerbResult is one verb's traffic.
type VerbResult struct {
	Calls     int       `json:"calls"`
	Errors    int       `json:"errors"`
	Retries   int       `json:"retries"`
	LatencyMS LatencyMS `json:"latency_ms"`
}

// LatencyMS are server latency percentiles in milliseconds.
type LatencyMS struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Utilization is the busy share of the workers and the vCPUs, 0..1.
type Utilization struct {
	Workers float64 `json:"workers"`
	VCPUs   float64 `json:"vcpus"`
}

// Memory is the controller's modeled memory.
type Memory struct {
	BaseBytes        int64 `json:"base_bytes"`
	PerResourceBytes int64 `json:"per_resource_bytes"`
	PeakBytes        int64 `json:"peak_bytes"`
}

// Queue is the workqueue's behavior.
type Queue struct {
	Adds        int         `json:"adds"`
	MaxDepth    int         `json:"max_depth"`
	MeanDepth   float64     `json:"mean_depth"`
	WaitSeconds Percentiles `json:"wait_seconds"`
}

// RGDSummary describes one RGD of the run.
type RGDSummary struct {
	Name           string  `json:"name"`
	Resources      int     `json:"resources"`
	Levels         int     `json:"levels"`
	Expressions    int     `json:"expressions"`
	CompileSeconds float64 `json:"compile_seconds"`
}

const resultsFormat = "krosim/results/v1"

func collect(cfg Config, rgds []*model.RGD, k *kernel.Kernel, srv *api.Server, cpu *kernel.CPU,
	ctrl *kro.Controller, w *world.World, d *driver) *Result {
	dur := k.Now()
	t := cfg.Target
	rep := ctrl.Report()
	r := &Result{Format: resultsFormat, Config: cfg, Complete: true, CPUCost: "model", Duration: dur, kro: rep}
	if t.Cost.Measured {
		r.CPUCost = "measured"
	}
	if d.createErr != nil {
		r.Complete, r.Incomplete = false, "workload: "+d.createErr.Error()
	}
	// Summary.
	s := &r.Summary
	s.DurationSeconds = secs(dur)
	s.InstancesTotal = cfg.Workload.Instances
	var ttr []float64
	for _, in := range rep.Instances {
		if in.IsReady {
			s.InstancesReady++
			ttr = append(ttr, secs(in.Ready-in.Created))
		} else if in.CreateFailed || (d.readyAt == 0 && in.Failed) {
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
	if s.InstancesReady == s.InstancesTotal && d.readyAt > 0 {
		v := secs(d.readyAt)
		s.ConvergeSeconds = &v
	} else if d.readyAt == 0 && r.Complete {
		r.Complete, r.Incomplete = false, "virtual time limit reached before every instance was ready"
	}
	if d.updatedAt > 0 {
		v := secs(d.updatedAt - d.updateAt)
		s.UpdateSeconds, s.InstancesUpdated = &v, d.updated
	}
	if cfg.Workload.Delete && d.goneAt > 0 {
		v := secs(d.goneAt - d.deleteAt)
		s.DeleteSeconds = &v
	} else if cfg.Workload.Delete && r.Complete {
		r.Complete, r.Incomplete = false, "virtual time limit reached before every instance was deleted"
	}
	s.TimeToReady = percentiles(ttr)
	s.Reconciles = rep.Stats.Reconciles
	s.ReconcileErrors = rep.Stats.ReconcileErrors
	s.RequeuesByReason = rep.Stats.Requeues
	s.Evaluations = rep.Stats.Evals
	s.ObjectsPeak = srv.Store.MaxObjects()
	s.SimulatedEvents = k.Steps()
	stats := rep.Client
	r.kroStats = stats
	if srv.Served.Requests > 0 {
		r.meanStored = srv.Served.Objects / float64(srv.Served.Requests)
	}
	s.APICalls = map[verb.Verb]int{}
	s.APICallsByResource = stats.ByResource
	s.WorldAPICalls = map[verb.Verb]int{}
	r.API.Verbs = map[verb.Verb]VerbResult{}
	for _, v := range verb.All {
		vs := stats.Verbs[v]
		s.APICalls[v] = vs.Calls
		s.WorldAPICalls[v] = w.Calls[v]
		lat := make([]float64, len(vs.Latencies))
		for i, l := range vs.Latencies {
			lat[i] = float64(l) / 1e6
		}
		p := percentiles(lat)
		r.API.Verbs[v] = VerbResult{Calls: vs.Calls, Errors: vs.Errors, Retries: vs.Retries,
			LatencyMS: LatencyMS{P50: round(p.P50), P95: round(p.P95), P99: round(p.P99)}}
	}
	r.API.ThrottleWaitSeconds = secs(stats.ThrottleWait)
	r.API.ThrottledCalls = stats.Throttled
	r.API.Rejected429 = stats.Rejected429
	r.API.WatchCacheWaits, r.API.WatchCacheWaitSeconds = srv.CacheStats.Waits, secs(srv.CacheStats.Wait)
	r.API.ClientQPS, r.API.ClientBurst = t.Client.QPS, t.Client.Burst
	r.API.ClientLimiter = "none (as kro really runs: --client-qps has no effect)"
	if t.Client.QPS > 0 {
		r.API.ClientLimiter = "token bucket (what-if: a client-side limit that takes effect)"
	}
	// Attribution over the instance workers.
	var by [span.NumPhases]time.Duration
	r.Threads = rep.Threads
	for _, th := range rep.Threads {
		for p, d := range th.By {
			by[p] += d
		}
	}
	r.RGDThread = rep.RGDThread
	r.Attribution = map[string]float64{}
	for _, p := range span.Phases() {
		r.Attribution[p.String()] = secs(by[p])
	}
	workers := float64(len(rep.Threads))
	if dur > 0 {
		r.Utilization.Workers = round(1 - by[span.Idle].Seconds()/(workers*dur.Seconds()))
		r.Utilization.VCPUs = round(cpu.Busy().Seconds() / (float64(cpu.Size()) * dur.Seconds()))
	}
	// Memory.
	exprs := 0
	for _, g := range rgds {
		exprs += g.Exprs
		r.RGDs = append(r.RGDs, RGDSummary{Name: g.Name, Resources: len(g.Resources), Levels: len(g.Waves),
			Expressions: g.Exprs, CompileSeconds: secs(kro.CompileCost(t, g))})
	}
	r.Memory = Memory{BaseBytes: t.Memory.BaseBytes + int64(exprs)*t.Memory.PerExprBytes,
		PerResourceBytes: t.Memory.PerObjectBytes}
	r.Memory.PeakBytes = r.Memory.BaseBytes + int64(s.ObjectsPeak)*t.Memory.PerObjectBytes
	// Queue.
	q := rep.Queue
	waits := make([]float64, len(q.QueueWaits))
	for i, w := range q.QueueWaits {
		waits[i] = secs(w)
		r.QueueWait += w
	}
	r.Queue = Queue{Adds: q.Adds, MaxDepth: q.MaxDepth, WaitSeconds: percentiles(waits)}
	if dur > 0 {
		r.Queue.MeanDepth = round(q.DepthSeconds / dur.Seconds())
	}
	r.Samples = rep.Samples
	return r
}

// secs is a duration in seconds, rounded to the microsecond.
func secs(d time.Duration) float64 { return round(d.Seconds()) }

func round(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func percentiles(xs []float64) Percentiles {
	if len(xs) == 0 {
		return Percentiles{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 { return round(stat.Quantile(p, stat.Empirical, s, nil)) }
	return Percentiles{P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: round(s[len(s)-1])}
}
