package target

import (
	"bytes"
	"embed"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/krosim/krosim/sim/verb"
	"gopkg.in/yaml.v3"
)

// Target is the modeled system. It is plain data: it round-trips through YAML
// and JSON, so every run can print the exact target it used.
type Target struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`

	VCPUs      int        `json:"vcpus" yaml:"vcpus"`
	Controller Controller `json:"controller" yaml:"controller"`
	Client     Client     `json:"client" yaml:"client"`
	Server     Server     `json:"server" yaml:"server"`

	// Latency per verb: get, list, create, update, patch, update_status, delete.
	Latency map[verb.Verb]Latency `json:"latency" yaml:"latency"`
	// Faults per verb, as rates in [0, 1].
	Faults map[verb.Verb]Faults `json:"faults,omitempty" yaml:"faults,omitempty"`
	// Readiness per kind: how long the kind's controller takes to report it ready.
	Readiness map[string]Readiness `json:"readiness" yaml:"readiness"`

	Cost   Cost   `json:"cost" yaml:"cost"`
	Memory Memory `json:"memory" yaml:"memory"`
}

// Controller is kro's instance controller.
type Controller struct {
	Workers         int      `json:"workers" yaml:"workers"`
	RequeueInterval Duration `json:"requeue_interval" yaml:"requeue_interval"`
	RetryMinDelay   Duration `json:"retry_min_delay" yaml:"retry_min_delay"`
	RetryMaxDelay   Duration `json:"retry_max_delay" yaml:"retry_max_delay"`
	QueueQPS        float64  `json:"queue_qps" yaml:"queue_qps"`
	QueueBurst      int      `json:"queue_burst" yaml:"queue_burst"`
	MaxRetries      int      `json:"max_retries" yaml:"max_retries"`
	MaxCollection   int      `json:"max_collection" yaml:"max_collection"`
	// IgnoreChildEvents is a what-if: kro without child watches, driven only by requeues.
	IgnoreChildEvents bool `json:"ignore_child_events,omitempty" yaml:"ignore_child_events,omitempty"`
}

// Client is the controller's client-side rate limiter. QPS 0 means none,
// which is how kro really runs: its --client-qps flag has no effect.
type Client struct {
	QPS        float64 `json:"qps" yaml:"qps"`
	Burst      int     `json:"burst" yaml:"burst"`
	MaxRetries int     `json:"max_retries" yaml:"max_retries"` // retries of 429 and Retry-After responses
}

// Server is the API server's admission of requests.
type Server struct {
	MaxInflight         int      `json:"max_inflight" yaml:"max_inflight"`
	MaxMutatingInflight int      `json:"max_mutating_inflight" yaml:"max_mutating_inflight"`
	RetryAfter          Duration `json:"retry_after" yaml:"retry_after"`
	WatchDelay          Duration `json:"watch_delay" yaml:"watch_delay"`
	// WatchProgressInterval is how often the watch cache of one resource
	// may ask etcd for progress while a consistent LIST waits for it to be
	// fresh (Kubernetes 1.31+: 100ms); 0 serves LISTs at once, as servers
	// before consistent reads from the cache did.
	WatchProgressInterval Duration `json:"watch_progress_interval,omitempty" yaml:"watch_progress_interval,omitempty"`
	Timeout               Duration `json:"timeout" yaml:"timeout"` // how long a timed-out request takes to fail
	// CPUs is the number of processors that serve requests: a request's
	// sampled latency is work that holds one of them, and requests beyond
	// CPUs in flight queue for one. A real server and its clients slow down
	// together as requests crowd the host's processors. 0: unlimited, every
	// request is served at once.
	CPUs int `json:"cpus,omitempty" yaml:"cpus,omitempty"`
	// ObjectSlowdown is how much a request's work grows with every object
	// the server stores: 0.0002 makes it 20% more at 1,000 objects. On a
	// host the API server, etcd and kro share, every process's heap and
	// caches grow with the objects, and so does the latency.
	ObjectSlowdown float64 `json:"object_slowdown,omitempty" yaml:"object_slowdown,omitempty"`
}

// Latency is a verb's latency distribution, given by percentiles. PerObject
// adds to a LIST for every object returned.
type Latency struct {
	P50       Duration `json:"p50" yaml:"p50"`
	P95       Duration `json:"p95" yaml:"p95"`
	P99       Duration `json:"p99" yaml:"p99"`
	PerObject Duration `json:"per_object,omitempty" yaml:"per_object,omitempty"`
}

// Faults are per-request probabilities of server errors.
type Faults struct {
	Err500   float64 `json:"err500,omitempty" yaml:"err500,omitempty"`
	Conflict float64 `json:"conflict,omitempty" yaml:"conflict,omitempty"`
	Throttle float64 `json:"throttle,omitempty" yaml:"throttle,omitempty"` // 429 with Retry-After
	Timeout  float64 `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// Readiness is the delay before a kind's controller writes the status that
// readyWhen reads, given by percentiles.
type Readiness struct {
	P50 Duration `json:"p50" yaml:"p50"`
	P95 Duration `json:"p95" yaml:"p95"`
	P99 Duration `json:"p99" yaml:"p99"`
}

// Cost converts work units into CPU time on the target.
type Cost struct {
	EvalBaseNS    float64 `json:"eval_base_ns" yaml:"eval_base_ns"`             // per evaluation
	EvalUnitNS    float64 `json:"eval_unit_ns" yaml:"eval_unit_ns"`             // per CEL cost unit
	CompileByteNS float64 `json:"compile_byte_ns" yaml:"compile_byte_ns"`       // per byte of CEL source
	CompileBaseNS float64 `json:"compile_base_ns" yaml:"compile_base_ns"`       // per expression
	NodeNS        float64 `json:"node_ns" yaml:"node_ns"`                       // per graph node visited
	EdgeNS        float64 `json:"edge_ns" yaml:"edge_ns"`                       // per dependency checked
	EncodeByteNS  float64 `json:"encode_byte_ns" yaml:"encode_byte_ns"`         // per byte sent or received
	RequestNS     float64 `json:"request_ns" yaml:"request_ns"`                 // client overhead per request
	ReconcileNS   float64 `json:"reconcile_ns" yaml:"reconcile_ns"`             // fixed overhead per reconcile
	Measured      bool    `json:"measured,omitempty" yaml:"measured,omitempty"` // use host elapsed time (not deterministic)
}

// Compile is the CPU time to compile exprs expressions of srcBytes bytes of
// CEL source in all.
func (c Cost) Compile(exprs, srcBytes int) time.Duration {
	return time.Duration(float64(exprs)*c.CompileBaseNS + float64(srcBytes)*c.CompileByteNS)
}

// Memory is the controller's modeled memory.
type Memory struct {
	BaseBytes      int64 `json:"base_bytes" yaml:"base_bytes"`
	PerObjectBytes int64 `json:"per_object_bytes" yaml:"per_object_bytes"` // per object in kro's informer caches
	PerExprBytes   int64 `json:"per_expr_bytes" yaml:"per_expr_bytes"`     // per compiled expression
}

//go:embed builtin/*.yaml
var builtin embed.FS

// Builtins lists the names of the built-in targets.
func Builtins() []string {
	entries, _ := builtin.ReadDir("builtin")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Lookup returns a built-in target by name, or loads a target file.
func Lookup(nameOrFile string) (*Target, error) {
	if data, err := builtin.ReadFile("builtin/" + nameOrFile + ".yaml"); err == nil {
		return Parse("builtin:"+nameOrFile, data)
	}
	data, err := os.ReadFile(nameOrFile)
	if err != nil {
		return nil, fmt.Errorf("target %q is neither built in (%s) nor a readable file: %w",
			nameOrFile, strings.Join(Builtins(), ", "), err)
	}
	return Parse(nameOrFile, data)
}

// Parse reads a target from YAML. Unknown fields are errors, so a typo never
// silently falls back to a default.
func Parse(name string, data []byte) (*Target, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Target
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &t, nil
}

// Validate checks that the target describes a system the simulator can run.
func (t *Target) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if t.VCPUs < 1 {
		bad("vcpus must be at least 1, got %d", t.VCPUs)
	}
	c := t.Controller
	if c.Workers < 1 {
		bad("controller.workers must be at least 1, got %d", c.Workers)
	}
	if c.RequeueInterval <= 0 {
		bad("controller.requeue_interval must be positive")
	}
	if c.QueueQPS <= 0 || c.QueueBurst < 1 {
		bad("controller.queue_qps and queue_burst must be positive")
	}
	if c.MaxCollection < 1 {
		bad("controller.max_collection must be at least 1")
	}
	if t.Client.QPS < 0 || (t.Client.QPS > 0 && t.Client.Burst < 1) {
		bad("client.qps must be >= 0 and client.burst >= 1 when qps is set")
	}
	if t.Server.MaxInflight < 1 || t.Server.MaxMutatingInflight < 1 {
		bad("server.max_inflight and max_mutating_inflight must be at least 1")
	}
	if t.Server.CPUs < 0 || !(t.Server.ObjectSlowdown >= 0) || math.IsInf(t.Server.ObjectSlowdown, 0) {
		bad("server.cpus and object_slowdown must be finite and not negative")
	}
	if t.Server.WatchDelay < 0 || t.Server.WatchProgressInterval < 0 {
		bad("server.watch_delay and watch_progress_interval must not be negative")
	}
	for _, v := range verb.All {
		l, ok := t.Latency[v]
		if !ok {
			bad("latency.%s is missing", v)
			continue
		}
		if l.P50 <= 0 || l.P95 < l.P50 || l.P99 < l.P95 {
			bad("latency.%s: want 0 < p50 <= p95 <= p99, got %s, %s, %s", v, l.P50, l.P95, l.P99)
		}
	}
	for _, v := range slices.Sorted(maps.Keys(t.Latency)) {
		if _, ok := verb.Parse(string(v)); !ok {
			bad("latency.%s: unknown verb (want one of %s)", v, verbNames)
		}
	}
	for _, v := range slices.Sorted(maps.Keys(t.Faults)) {
		if _, ok := verb.Parse(string(v)); !ok {
			bad("faults.%s: unknown verb", v)
		}
		f := t.Faults[v]
		for _, r := range []float64{f.Err500, f.Conflict, f.Throttle, f.Timeout} {
			if r < 0 || r > 1 {
				bad("faults.%s: rates must be in [0, 1]", v)
			}
		}
		if f.Err500+f.Conflict+f.Throttle+f.Timeout > 1 {
			bad("faults.%s: rates sum over 1", v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t.Readiness)) {
		r := t.Readiness[k]
		if r.P50 < 0 || r.P95 < r.P50 || r.P99 < r.P95 {
			bad("readiness.%s: want 0 <= p50 <= p95 <= p99", k)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid target:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// verbNames lists the known verbs for messages.
var verbNames = func() string {
	names := make([]string, len(verb.All))
	for i, v := range verb.All {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}()

// Clone returns a deep copy, so what-if variations never share maps.
func (t *Target) Clone() *Target {
	c := *t
	c.Latency = cloneMap(t.Latency)
	c.Faults = cloneMap(t.Faults)
	c.Readiness = cloneMap(t.Readiness)
	return &c
}

func cloneMap[K ~string, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// YAML renders the target as a target file.
func (t *Target) YAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(t); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
