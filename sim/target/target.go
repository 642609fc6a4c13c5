package target

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"regexp"
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
	// Speed is how fast the host was when the costs were measured; absent
	// where that is unknown.
	Speed *Speed `json:"speed,omitempty" yaml:"speed,omitempty"`
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
	// WatchDelay is how long after a write its watch event reaches a
	// watching client such as kro's informers (the API server's own watch
	// cache has it as the write's response goes out), and a progress
	// notification the cache, before ProgressDelay.
	WatchDelay Duration `json:"watch_delay" yaml:"watch_delay"`
	// WatchProgressInterval is how often the watch cache of one resource
	// may ask etcd for progress while a consistent LIST waits for it to be
	// fresh (Kubernetes 1.31+: 100ms); 0 serves LISTs at once, as servers
	// before consistent reads from the cache did.
	WatchProgressInterval Duration `json:"watch_progress_interval,omitempty" yaml:"watch_progress_interval,omitempty"`
	// ProgressDelay is how long the watch cache's progress request takes to
	// come back as a notification, beyond the watch delay: etcd answering
	// on the watch stream. calibrate --cpu-from fits it to the waits the
	// server reported in the calibration runs.
	ProgressDelay Duration `json:"progress_delay,omitempty" yaml:"progress_delay,omitempty"`
	Timeout       Duration `json:"timeout" yaml:"timeout"` // how long a timed-out request takes to fail
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
	// SharedCPUs puts kro on the server's processors: the API server, etcd
	// and kro share one host (the real-API harness, a single-node cluster),
	// so kro's own CPU (cost) waits for the same processors as requests.
	// Needs CPUs.
	SharedCPUs bool `json:"shared_cpus,omitempty" yaml:"shared_cpus,omitempty"`
	// ActiveCPU is the processors' worth of CPU the host's processes burn
	// while requests flow, however many there are: the Go runtimes'
	// scheduling and garbage collection, etcd's housekeeping. Each request
	// charges it for the time since the previous one (at most ActiveGap),
	// off its path. Needs CPUs.
	ActiveCPU float64 `json:"active_cpu,omitempty" yaml:"active_cpu,omitempty"`
	// WakeupCPU is the CPU of waking the host's processes for requests:
	// the API server's and etcd's threads, their Go runtimes spinning up,
	// kro's waking for the answer. The requests in flight together share
	// it: one that reaches an idle server pays all of it, one that arrives
	// with k others in flight 1/(k+1). So the CPU per request falls with
	// concurrency, as measured. Off the request's path, like
	// latency.VERB.cpu beyond its latency. Needs CPUs.
	WakeupCPU Duration `json:"wakeup_cpu,omitempty" yaml:"wakeup_cpu,omitempty"`
	// EventCPU is the API server's CPU of a watch event: every write (an
	// object created, changed or deleted) is an event the server encodes
	// and sends to kro's informer of its kind (kro watches its instances'
	// kind and every kind it manages). Off the write's path, on the
	// server's processors. krosim calibrate --kubeconfig --pid-dir
	// measures it with cost.event_ns, kro's part. Needs CPUs.
	EventCPU Duration `json:"event_cpu,omitempty" yaml:"event_cpu,omitempty"`
	// InstanceBytes and ObjectBytes are what the server holds on an object
	// beyond what krosim renders of it: metadata.managedFields (an entry
	// per field manager, naming every field it set) and what kro writes
	// that the simulation leaves out (its version and ownership labels and
	// the apply-order annotation on a child; the ApplySet's labels and
	// annotations and each condition's reason, message and time on an
	// instance). InstanceBytes is for an object of an RGD's instance kind,
	// ObjectBytes for any other. Every request's CPU per KiB
	// (latency.VERB.cpu_per_kib) and kro's decoding (cost.encode_byte_ns)
	// count them. Read back from the real-API harness, a FanoutApp instance
	// is 3,131 bytes where krosim renders 990 and a StandinConfigMap child
	// 1,409 where it renders 553 (testdata/realapi/measured/objects).
	InstanceBytes int `json:"instance_bytes,omitempty" yaml:"instance_bytes,omitempty"`
	ObjectBytes   int `json:"object_bytes,omitempty" yaml:"object_bytes,omitempty"`
}

// MaxHeldBytes bounds server.instance_bytes and server.object_bytes: an
// object's whole size is limited to 1.5 MiB by etcd.
const MaxHeldBytes = 1536 * 1024

// ActiveGap is the longest time between two requests that server.active_cpu
// charges: a longer pause is idle.
const ActiveGap = 100 * time.Millisecond

// Latency is a verb's latency distribution, given by percentiles. PerObject
// adds to a LIST for every object returned.
type Latency struct {
	P50       Duration `json:"p50" yaml:"p50"`
	P95       Duration `json:"p95" yaml:"p95"`
	P99       Duration `json:"p99" yaml:"p99"`
	PerObject Duration `json:"per_object,omitempty" yaml:"per_object,omitempty"`
	// CPU is the processor time a request costs the server (the API
	// server's and etcd's, watch events and garbage collection included),
	// when server.cpus limits the processors. Without it a request's whole
	// latency is work on a processor. With it, a request holds a processor
	// for at most its CPU, spends the rest of its latency waiting on
	// something else (the network, etcd's disk), and CPU beyond its latency
	// runs on the processors after it, off the request's path: measured on
	// the harness, a request costs more processor time than it takes.
	CPU Duration `json:"cpu,omitempty" yaml:"cpu,omitempty"`
	// CPUPerKiB is the processor time a request spends on top of CPU for
	// every KiB of the object it reads or writes (its encoded size: as it
	// was, or as created): a server-side apply merges field by field and
	// every request encodes the object, so a big object costs more.
	// Measured on the harness, an apply of an object 1 KiB larger took
	// about twice the CPU. It is part of the request's CPU, held as CPU is.
	// Needs server.cpus and cpu.
	CPUPerKiB Duration `json:"cpu_per_kib,omitempty" yaml:"cpu_per_kib,omitempty"`
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
	ReconcileNS   float64 `json:"reconcile_ns" yaml:"reconcile_ns"`             // fixed overhead per reconcile that resolves the graph (not a deletion)
	EventNS       float64 `json:"event_ns,omitempty" yaml:"event_ns,omitempty"` // per watch event received (a write of a kind kro watches), off the workers' path
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
// silently falls back to a default. Problems are reported as
// name:line:col: what is wrong.
func Parse(name string, data []byte) (*Target, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, decodeError(name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Target
	if err := dec.Decode(&t); err != nil {
		return nil, decodeError(name, err)
	}
	if err := t.Validate(); err != nil {
		var inv *InvalidError
		if !errors.As(err, &inv) {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		msgs := make([]string, len(inv.Fields))
		for i, f := range inv.Fields {
			line, col := fieldPos(&root, f.Field)
			msgs[i] = fmt.Sprintf("%s:%d:%d: %s", name, line, col, f.Msg)
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	return &t, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeError puts name:line:1 before each of yaml.v3's "line N:" messages.
func decodeError(name string, err error) error {
	var lines []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		lines = te.Errors
	} else {
		lines = []string{err.Error()}
	}
	for i, l := range lines {
		if m := yamlLine.FindStringSubmatch(l); m != nil {
			lines[i] = fmt.Sprintf("%s:%s:1: %s", name, m[1], m[2])
		} else {
			lines[i] = fmt.Sprintf("%s:1:1: %s", name, strings.TrimPrefix(l, "yaml: "))
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

// fieldPos returns the position of a dotted field path in a target file:
// its value's when the file sets it, else that of its nearest ancestor the
// file sets, else 1:1.
func fieldPos(root *yaml.Node, path string) (line, col int) {
	line, col = 1, 1
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, key := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return line, col
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line, col = n.Content[i].Line, n.Content[i].Column
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return line, col
		}
		n = next
	}
	if n.Kind == yaml.ScalarNode {
		line, col = n.Line, n.Column
	}
	return line, col
}

// Bounds on target numbers: beyond them the simulator would exhaust memory
// (a goroutine per worker), overflow time, or model no real system.
const (
	MaxWorkers  = 10000 // controller.workers
	MaxCPUs     = 10000 // vcpus and server.cpus
	MaxCostNS   = 1e9   // each cost: one second per unit
	MaxLatency  = time.Hour
	MaxMemBytes = 1 << 40 // each memory figure
)

// FieldError is one target field the simulator cannot run with.
type FieldError struct {
	Field string // path in a target file, as client.qps or latency.get.p50
	Msg   string // what is wrong, naming the field
}

// InvalidError is every invalid field of a target, in file order.
type InvalidError struct {
	Fields []FieldError
}

func (e *InvalidError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Msg
	}
	return "invalid target:\n  " + strings.Join(msgs, "\n  ")
}

// Validate checks that the target describes a system the simulator can run.
// It returns an *InvalidError naming every invalid field.
func (t *Target) Validate() error {
	c := &checker{}
	c.intIn("vcpus", t.VCPUs, 1, MaxCPUs)
	c.controller(t.Controller)
	c.client(t.Client)
	c.server(t.Server)
	c.latency(t.Latency)
	for _, v := range verb.All {
		if t.Latency[v].CPUPerKiB > 0 && (t.Server.CPUs == 0 || t.Latency[v].CPU == 0) {
			c.bad("latency."+string(v)+".cpu_per_kib", "latency.%s.cpu_per_kib needs server.cpus and latency.%s.cpu", v, v)
		}
	}
	c.faults(t.Faults)
	c.readiness(t.Readiness)
	c.cost(t.Cost)
	c.memory(t.Memory)
	c.speed(t.Speed)
	if len(c.errs) > 0 {
		return &InvalidError{Fields: c.errs}
	}
	return nil
}

// checker collects every invalid field of a target.
type checker struct{ errs []FieldError }

// long bounds durations that only must not overflow.
const long = 100 * 365 * 24 * time.Hour

func (c *checker) bad(field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) intIn(field string, v, lo, hi int) {
	if v < lo || v > hi {
		c.bad(field, "%s must be in [%d, %d], got %d", field, lo, hi, v)
	}
}

func (c *checker) atLeast(field string, v, lo int) {
	if v < lo {
		c.bad(field, "%s must be at least %d, got %d", field, lo, v)
	}
}

// number checks lo <= v <= hi (NaN fails) and reports whether it holds.
func (c *checker) number(field string, v, lo, hi float64) bool {
	switch {
	case v >= lo && v <= hi: // NaN fails both
		return true
	case hi == math.MaxFloat64:
		c.bad(field, "%s must be a finite number, at least %g, got %g", field, lo, v)
	default:
		c.bad(field, "%s must be a number in [%g, %g], got %g", field, lo, hi, v)
	}
	return false
}

func (c *checker) duration(field string, d Duration, hi time.Duration) {
	if d < 0 || d.D() > hi {
		c.bad(field, "%s must be in [0, %s], got %s", field, hi, d)
	}
}

func (c *checker) controller(ct Controller) {
	c.intIn("controller.workers", ct.Workers, 1, MaxWorkers)
	if ct.RequeueInterval <= 0 {
		c.bad("controller.requeue_interval", "controller.requeue_interval must be positive, got %s", ct.RequeueInterval)
	}
	c.duration("controller.requeue_interval", max(ct.RequeueInterval, 0), long)
	c.duration("controller.retry_min_delay", ct.RetryMinDelay, long)
	c.duration("controller.retry_max_delay", ct.RetryMaxDelay, long)
	if ct.RetryMaxDelay < ct.RetryMinDelay {
		c.bad("controller.retry_max_delay", "controller.retry_max_delay %s is below retry_min_delay %s", ct.RetryMaxDelay, ct.RetryMinDelay)
	}
	if c.number("controller.queue_qps", ct.QueueQPS, 0, math.MaxFloat64) && ct.QueueQPS == 0 {
		c.bad("controller.queue_qps", "controller.queue_qps must be positive")
	}
	c.atLeast("controller.queue_burst", ct.QueueBurst, 1)
	c.atLeast("controller.max_retries", ct.MaxRetries, 0)
	c.atLeast("controller.max_collection", ct.MaxCollection, 1)
}

func (c *checker) client(cl Client) {
	qpsOK := c.number("client.qps", cl.QPS, 0, math.MaxFloat64)
	c.atLeast("client.burst", cl.Burst, 0)
	if qpsOK && cl.QPS > 0 && cl.Burst < 1 {
		c.bad("client.burst", "client.burst must be at least 1 when client.qps is set")
	}
	c.atLeast("client.max_retries", cl.MaxRetries, 0)
}

func (c *checker) server(s Server) {
	c.atLeast("server.max_inflight", s.MaxInflight, 1)
	c.atLeast("server.max_mutating_inflight", s.MaxMutatingInflight, 1)
	c.duration("server.retry_after", s.RetryAfter, long)
	c.duration("server.watch_delay", s.WatchDelay, long)
	c.duration("server.watch_progress_interval", s.WatchProgressInterval, long)
	c.duration("server.progress_delay", s.ProgressDelay, long)
	c.duration("server.timeout", s.Timeout, long)
	c.intIn("server.cpus", s.CPUs, 0, MaxCPUs)
	c.number("server.object_slowdown", s.ObjectSlowdown, 0, 1)
	c.number("server.active_cpu", s.ActiveCPU, 0, MaxCPUs)
	c.duration("server.wakeup_cpu", s.WakeupCPU, time.Second)
	c.duration("server.event_cpu", s.EventCPU, time.Second)
	c.intIn("server.instance_bytes", s.InstanceBytes, 0, MaxHeldBytes)
	c.intIn("server.object_bytes", s.ObjectBytes, 0, MaxHeldBytes)
	if (s.SharedCPUs || s.ActiveCPU > 0 || s.WakeupCPU > 0 || s.EventCPU > 0) && s.CPUs == 0 {
		c.bad("server.cpus", "server.shared_cpus, server.active_cpu, server.wakeup_cpu and server.event_cpu need server.cpus: the processors kro shares with the server")
	}
}

func (c *checker) latency(lat map[verb.Verb]Latency) {
	for _, v := range verb.All {
		l, ok := lat[v]
		if !ok {
			c.bad("latency", "latency.%s is missing", v)
			continue
		}
		f := "latency." + string(v)
		for _, p := range []struct {
			name string
			d    Duration
		}{{"p50", l.P50}, {"p95", l.P95}, {"p99", l.P99}, {"per_object", l.PerObject}, {"cpu", l.CPU}, {"cpu_per_kib", l.CPUPerKiB}} {
			c.duration(f+"."+p.name, p.d, MaxLatency)
		}
		if l.P50 <= 0 || l.P95 < l.P50 || l.P99 < l.P95 {
			c.bad(f, "%s: want 0 < p50 <= p95 <= p99, got %s, %s, %s", f, l.P50, l.P95, l.P99)
		}
	}
	for _, v := range slices.Sorted(maps.Keys(lat)) {
		if _, ok := verb.Parse(string(v)); !ok {
			c.bad("latency."+string(v), "latency.%s: unknown verb (want one of %s)", v, verbNames)
		}
	}
}

func (c *checker) faults(faults map[verb.Verb]Faults) {
	for _, v := range slices.Sorted(maps.Keys(faults)) {
		if _, ok := verb.Parse(string(v)); !ok {
			c.bad("faults."+string(v), "faults.%s: unknown verb", v)
		}
		f := faults[v]
		ok := true
		for _, r := range []struct {
			name string
			v    float64
		}{{"err500", f.Err500}, {"conflict", f.Conflict}, {"throttle", f.Throttle}, {"timeout", f.Timeout}} {
			ok = c.number("faults."+string(v)+"."+r.name, r.v, 0, 1) && ok
		}
		if ok && f.Err500+f.Conflict+f.Throttle+f.Timeout > 1 {
			c.bad("faults."+string(v), "faults.%s: rates sum over 1", v)
		}
	}
}

func (c *checker) readiness(rd map[string]Readiness) {
	for _, k := range slices.Sorted(maps.Keys(rd)) {
		r := rd[k]
		f := "readiness." + k
		c.duration(f+".p50", r.P50, MaxLatency)
		c.duration(f+".p95", r.P95, MaxLatency)
		c.duration(f+".p99", r.P99, MaxLatency)
		if r.P50 < 0 || r.P95 < r.P50 || r.P99 < r.P95 {
			c.bad(f, "%s: want 0 <= p50 <= p95 <= p99", f)
		}
	}
}

func (c *checker) cost(cost Cost) {
	for _, x := range []struct {
		name string
		v    float64
	}{
		{"eval_base_ns", cost.EvalBaseNS}, {"eval_unit_ns", cost.EvalUnitNS},
		{"compile_byte_ns", cost.CompileByteNS}, {"compile_base_ns", cost.CompileBaseNS},
		{"node_ns", cost.NodeNS}, {"edge_ns", cost.EdgeNS}, {"encode_byte_ns", cost.EncodeByteNS},
		{"request_ns", cost.RequestNS}, {"reconcile_ns", cost.ReconcileNS}, {"event_ns", cost.EventNS},
	} {
		c.number("cost."+x.name, x.v, 0, MaxCostNS)
	}
}

func (c *checker) memory(m Memory) {
	for _, x := range []struct {
		name string
		v    int64
	}{{"base_bytes", m.BaseBytes}, {"per_object_bytes", m.PerObjectBytes}, {"per_expr_bytes", m.PerExprBytes}} {
		if x.v < 0 || x.v > MaxMemBytes {
			c.bad("memory."+x.name, "memory.%s must be in [0, %d], got %d", x.name, int64(MaxMemBytes), x.v)
		}
	}
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
	if t.Speed != nil {
		s := *t.Speed
		c.Speed = &s
	}
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
