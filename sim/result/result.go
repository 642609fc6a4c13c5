package result

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
)

// Format is the version of results.json this package writes and reads.
const Format = "krosim/results/v1"

// Result is results.json: what one run did, simulated or on a real cluster.
// It is plain data, deterministic for a simulation of a given config.
type Result struct {
	Format      string             `json:"format"`
	Config      Config             `json:"config"`
	Complete    bool               `json:"complete"`
	Incomplete  string             `json:"incomplete,omitempty"`
	CPUCost     string             `json:"cpu_cost"` // "model" (deterministic), "measured" (not) or "real"
	Summary     Summary            `json:"summary"`
	API         API                `json:"api"`
	Attribution map[string]float64 `json:"attribution"`
	Utilization Utilization        `json:"utilization"`
	Memory      Memory             `json:"memory"`
	Queue       Queue              `json:"queue"`
	RGDs        []RGD              `json:"rgds"`
	// Real is what only a run on a real cluster observes; nil in a simulation.
	Real *Real `json:"real,omitempty"`
}

// Config is everything a run depends on besides the RGDs themselves, so a
// run can be repeated from its results.json.
type Config struct {
	// Mode is "real" for a run on a real cluster and empty for a simulation.
	Mode     string            `json:"mode,omitempty"`
	RGDFiles []string          `json:"rgd_files"`
	Target   *target.Target    `json:"target"`
	Workload workload.Workload `json:"workload"`
	Seed     uint64            `json:"seed"`
	// MaxTime bounds the run: virtual time in a simulation, each phase on a
	// real cluster. A simulation stops there, incomplete.
	MaxTime target.Duration `json:"max_time"`
	// CELCostLimit, when set, replaced krosim's default bound on one CEL
	// evaluation (model.DefaultLimits.CELCost); 0 is no bound.
	CELCostLimit *uint64 `json:"cel_cost_limit,omitempty"`
	// The real cluster's settings; nil in a simulation.
	*Cluster
}

// Cluster is the config of a run on a real cluster.
type Cluster struct {
	Server     string `json:"server"`
	KroMetrics string `json:"kro_metrics"`
	// Workers is kro's --dynamic-controller-concurrent-reconciles, for the
	// record: krosim cannot read it from the controller.
	Workers  int     `json:"workers"`
	Quiet    float64 `json:"quiet_seconds"`
	Parallel int     `json:"parallel"`
}

// IsReal reports whether the config is of a run on a real cluster.
func (c Config) IsReal() bool { return c.Mode == "real" }

// ControllerWorkers is the controller's worker count: the target's in a simulation,
// the one recorded for a real run.
func (c Config) ControllerWorkers() int {
	if c.Target != nil {
		return c.Target.Controller.Workers
	}
	if c.Cluster != nil {
		return c.Cluster.Workers
	}
	return 0
}

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
	// InstancesEnd and Left account for every instance and object when the
	// run ended.
	InstancesEnd InstancesEnd `json:"instances_end"`
	Left         Left         `json:"left"`
}

// InstancesEnd is where each instance stood when the run ended: every one
// of instances_total in exactly one of ready, failed, deleted and unsettled.
type InstancesEnd struct {
	Ready  int `json:"ready"`
	Failed int `json:"failed"` // dropped by kro after its retry limit, and not gone
	// FailedReasons counts the failed instances by their last error, the
	// instance's name and namespace written <instance> and <namespace>.
	FailedReasons map[string]int `json:"failed_reasons,omitempty"`
	Deleted       int            `json:"deleted"`   // gone from the store
	Unsettled     int            `json:"unsettled"` // still in progress (or never created) when the run ended
	Remaining     int            `json:"remaining"` // still in the store: instances_total minus deleted
}

// Left is what the store held when the run ended.
type Left struct {
	Objects   int `json:"objects"`
	Instances int `json:"instances"` // instances of the run's RGDs
	Children  int `json:"children"`  // objects kro manages (labeled kro.run/owned)
	Other     int `json:"other"`     // everything else, e.g. the objects externalRefs point to
	// ByKind lists them by role (instance, child, other), then kind.
	ByKind []LeftKind `json:"by_kind"`
}

// LeftKind is the objects of one kind and role left in the store.
type LeftKind struct {
	Kind  string `json:"kind"` // kind.group, the group left out for the core group: "Deployment.apps", "ConfigMap"
	Role  string `json:"role"`
	Count int    `json:"count"`
	// Names are the first few, as namespace/name, sorted.
	Names []string `json:"names"`
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
	Verbs               map[verb.Verb]Traffic `json:"verbs"`
	ThrottleWaitSeconds float64               `json:"throttle_wait_seconds"`
	ThrottledCalls      int                   `json:"throttled_calls"`
	Rejected429         int                   `json:"rejected_429"`
	// The consistent LISTs that waited for the server's watch cache to be
	// fresh (apiserver_watch_cache_read_wait_seconds), and their total wait.
	WatchCacheWaits       int     `json:"watch_cache_waits"`
	WatchCacheWaitSeconds float64 `json:"watch_cache_wait_seconds"`
	// WatchCacheWaitBuckets is how those waits spread, in the server's own
	// histogram buckets; empty when no LIST waited.
	WatchCacheWaitBuckets []WaitBucket `json:"watch_cache_wait_buckets,omitempty"`
	ClientQPS             float64      `json:"client_qps"`
	ClientBurst           int          `json:"client_burst"`
	ClientLimiter         string       `json:"client_limiter"`
}

// WaitBucket is one bucket of a wait histogram: the waits longer than the
// bucket before's bound and at most LE (a number of seconds, or "+Inf").
type WaitBucket struct {
	LE    string `json:"le"`
	Waits int    `json:"waits"`
}

// WaitBounds are the API server's buckets of
// apiserver_watch_cache_read_wait_seconds, in seconds.
var WaitBounds = []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3}

// WaitBuckets names counts per bucket of WaitBounds (and +Inf) by their
// bounds; nil when every count is zero.
func WaitBuckets(counts []int) []WaitBucket {
	if !slices.ContainsFunc(counts, func(c int) bool { return c != 0 }) {
		return nil
	}
	out := make([]WaitBucket, len(counts))
	for i, c := range counts {
		le := "+Inf"
		if i < len(WaitBounds) {
			le = strconv.FormatFloat(WaitBounds[i], 'g', -1, 64)
		}
		out[i] = WaitBucket{LE: le, Waits: c}
	}
	return out
}

// Traffic is one verb's requests.
type Traffic struct {
	Calls int `json:"calls"`
	// NotFound is the 404s, which kro expects (a GET before a child exists);
	// Errors is every other failed request.
	NotFound  int       `json:"not_found"`
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

// RGD describes one RGD of the run.
type RGD struct {
	Name           string  `json:"name"`
	Resources      int     `json:"resources"`
	Levels         int     `json:"levels"`
	Expressions    int     `json:"expressions"`
	CompileSeconds float64 `json:"compile_seconds"`
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

// Real is what a run on a real cluster observed beyond a simulation's fields.
type Real struct {
	Phases []Phase `json:"phases"`
	// Excluded are the requests left out of api_calls: watches and the
	// informers' cluster-wide LISTs, by resource then server verb.
	Excluded map[string]map[string]int `json:"excluded"`
	// Krosim are krosim's own requests, subtracted from the server's counts,
	// by resource then server verb.
	Krosim map[string]map[string]int `json:"krosim_requests"`
	// ReconcileSeconds is the sum of kro's reconcile durations.
	ReconcileSeconds float64  `json:"reconcile_seconds"`
	Instances        []Timing `json:"instances"`
	// Standins is the stand-in kind controller krosim ran beside kro, if
	// it ran one (krosim run --kubeconfig with a --target whose readiness
	// covers the RGDs' stand-in kinds).
	Standins *Standins `json:"standins,omitempty"`
	Notes    []string  `json:"notes,omitempty"`
	Host     *Host     `json:"host,omitempty"`
}

// Standins is what the stand-in kind controller of a real run did, from its
// start before the run to its stop after it. Its requests are also in
// krosim_requests and, within the run's phases, in world_api_calls.
type Standins struct {
	// Target is the name of the target whose readiness it used.
	Target string `json:"target"`
	// Seed seeded its readiness delays, as the simulated world's.
	Seed uint64 `json:"seed"`
	// Readiness is the delay it drew from, by the stand-in kind it looked after.
	Readiness    map[string]target.Readiness `json:"readiness"`
	StatusWrites int                         `json:"status_writes"`
	// Conflicts are status writes that lost to another writer and were redone.
	Conflicts int `json:"conflicts"`
	// Errors are status writes that failed otherwise; FirstError is the first.
	Errors     int    `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// Requests by resource then verb.
	Requests map[string]map[verb.Verb]int `json:"requests"`
}

// Host is the load on the machine krosim ran on, from the start of the
// create phase to the end of the last phase, as shares of all its CPUs.
// A run on a busy host is slower than kro is, by 20% to 5x, and its
// timings must not calibrate a target or judge a simulation.
type Host struct {
	CPUs      int     `json:"cpus"`
	Seconds   float64 `json:"seconds"`
	LoadStart float64 `json:"load1_start"` // 1-minute load average
	LoadEnd   float64 `json:"load1_end"`
	Busy      float64 `json:"busy"`  // CPU time not idle, over all CPUs
	Steal     float64 `json:"steal"` // taken by the hypervisor
	// Measured is the share the measured processes used: krosim and, on
	// the project's harness, etcd, the API server and kro.
	Measured  float64 `json:"measured"`
	Processes int     `json:"processes"` // measured processes found
	// Background is the share of processes at a lower priority (nice > 0):
	// they yield the processors, but still slow the measured ones.
	Background float64 `json:"background"`
	Other      float64 `json:"other"` // Busy less Measured and Background
	Quiet      bool    `json:"quiet"`
	Verdict    string  `json:"verdict,omitempty"` // why the host was not quiet
	// Probe is how fast the host was while the run ran; a busy host's
	// verdict does not depend on it.
	Probe *Probe `json:"probe,omitempty"`
}

// Probe is a real run's samples of its host's speed: the CPU time of a
// fixed piece of work that needs the processors' shared cache, taken every
// Interval seconds from the start of the create phase to the end of the
// last. On a virtual machine other tenants crowd that cache unseen by the
// load and the steal, and the CPU time the measured processes spend per
// request follows the probe (from one run to the next on a quiet harness,
// 1.1 to 1.8 times as slow).
type Probe struct {
	Interval float64 `json:"interval_seconds"`
	Samples  int     `json:"samples"`
	Median   float64 `json:"median_us"` // the median sample, microseconds
	Fast     float64 `json:"fast_us"`   // the 10th percentile: the host uncrowded
	Slowdown float64 `json:"slowdown"`  // Median over Fast
}

// Busy says why a real run's timings should not be trusted, "" when they
// can: the host was loaded while it ran, or its load was not recorded.
func (r *Result) Busy() string {
	switch {
	case r.Real == nil:
		return ""
	case r.Real.Host == nil:
		return "the host's load was not recorded"
	case !r.Real.Host.Quiet:
		return r.Real.Host.Verdict
	}
	return ""
}

// Phase is one phase of a real run: create, update, delete, or their total.
type Phase struct {
	Name string `json:"name"`
	// Seconds until every instance was ready (or updated, or gone).
	Seconds float64 `json:"seconds"`
	// IdleSeconds until kro had been idle for the quiet period, minus that period.
	IdleSeconds        float64                      `json:"idle_seconds"`
	Reconciles         int                          `json:"reconciles"`
	ReconcileErrors    int                          `json:"reconcile_errors"`
	Requeues           map[string]int               `json:"requeues"`
	APICalls           map[verb.Verb]int            `json:"api_calls"`
	APICallsByResource map[string]map[verb.Verb]int `json:"api_calls_by_resource"`
	// CPUSeconds is the CPU time the measured processes used from the end
	// of the previous phase to the end of this one, by process: krosim,
	// and on the harness etcd, apiserver and kro (from /proc).
	CPUSeconds map[string]float64 `json:"cpu_seconds,omitempty"`
	// ProbeMicros is the median sample of the host's speed probe in the
	// phase (Host.Probe), microseconds, and ProbeCPUSeconds the probe's
	// own CPU time in it, which CPUSeconds["krosim"] leaves out.
	ProbeMicros     float64 `json:"probe_us,omitempty"`
	ProbeCPUSeconds float64 `json:"probe_cpu_seconds,omitempty"`
	// BusyProbeMicros and IdleProbeMicros split the phase's samples at the
	// moment kro's reconciles last moved: the median of those before, while
	// the run worked, and of those in its quiet end, while the harness's
	// own processes stood still. The probe reads the run's own load too (a
	// calibration run's busy samples read up to a fifth faster than its
	// quiet ones), so ProbeMicros mixes two speeds in proportions that
	// follow the phase's length.
	BusyProbeMicros float64 `json:"busy_probe_us,omitempty"`
	IdleProbeMicros float64 `json:"idle_probe_us,omitempty"`
	// WatchCacheWaits and WatchCacheWaitSeconds are the API server's count
	// of kro's LISTs in the phase that waited for its watch cache, and how
	// long in all (as api.watch_cache_waits counts the whole run's).
	WatchCacheWaits       int     `json:"watch_cache_waits,omitempty"`
	WatchCacheWaitSeconds float64 `json:"watch_cache_wait_seconds,omitempty"`
}

// Timing is one instance's life on a real cluster, in seconds from the
// start of the run.
type Timing struct {
	Name    string   `json:"name"`
	Created float64  `json:"created"`
	Ready   *float64 `json:"ready"`
	// Changed is when the update phase changed its spec, Updated when kro
	// first reported it Ready for that generation.
	Changed *float64 `json:"changed,omitempty"`
	Updated *float64 `json:"updated,omitempty"`
	Deleted *float64 `json:"deleted,omitempty"`
	Gone    *float64 `json:"gone,omitempty"`
}

// Workers is "1 worker" or "N workers", as outputs name a worker count.
func Workers(n int) string {
	if n == 1 {
		return "1 worker"
	}
	return strconv.Itoa(n) + " workers"
}

// SpeedProbe is the phase's probe of its host's speed, in microseconds:
// the reading in its quiet end when idle (IdleProbeMicros), over the whole
// phase otherwise (ProbeMicros); 0 when the run did not take it.
func (p Phase) SpeedProbe(idle bool) float64 {
	if idle {
		return p.IdleProbeMicros
	}
	return p.ProbeMicros
}
