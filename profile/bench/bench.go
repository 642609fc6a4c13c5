package bench

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/target"
)

// Format is the version of the bench results.json this package writes.
const Format = "krosim/bench/v1"

// Suite names, in the order they run.
const (
	CRUD    = "crud"
	Workers = "workers"
	CEL     = "cel"
	Graph   = "graph"
	Usage   = "usage"
)

// Suites lists every suite in the order they run.
func Suites() []string { return []string{CRUD, Workers, CEL, Graph, Usage} }

// ExampleRGD is the default RGD of the crud, workers and usage suites: a copy
// of testdata/rgd/webapp.yaml (a test keeps them equal).
//
//go:embed webapp.yaml
var ExampleRGD []byte

// ExampleRGDName is the name ExampleRGD is loaded and recorded under.
const ExampleRGDName = "embedded:testdata/rgd/webapp.yaml"

// Config is what a bench run depends on besides the RGD itself; it is plain
// data, written into results.json so a run can be repeated from it.
type Config struct {
	Mode   string         `json:"mode"` // "sim", or "real" for a real cluster
	Suites []string       `json:"suites"`
	Target *target.Target `json:"target,omitempty"`
	RGD    string         `json:"rgd"`
	// Instances is the crud and workers suites' instance count.
	Instances int `json:"instances"`
	// Count is the repetitions: seeds 1..Count in simulation.
	Count int `json:"count"`
	// WorkerCounts and VCPUs are the workers suite's grid.
	WorkerCounts []int `json:"worker_counts"`
	VCPUs        []int `json:"vcpus"`
	// UsageInstances are the usage suite's sizes.
	UsageInstances []int `json:"usage_instances"`
	// GraphSizes are the graph suite's nodes/edges pairs.
	GraphSizes [][2]int `json:"graph_sizes"`
	// HostBudget bounds each host measurement, in seconds of real time.
	HostBudget float64 `json:"-"`
	// Server is the real cluster's kubeconfig, in real mode.
	Server string `json:"server,omitempty"`
	// KroMetrics is the URL of kro's /metrics, in real mode.
	KroMetrics string `json:"kro_metrics,omitempty"`
	// Warmup is the instances of a discarded run before the measured ones,
	// in real mode (kro starts its informers and caches on first use); 0:
	// none. A simulation needs none: it starts from the same state every time.
	Warmup int `json:"warmup,omitempty"`
}

// Default returns the full suites' config on t.
func Default(t *target.Target) Config {
	return Config{Mode: "sim", Suites: Suites(), Target: t, RGD: ExampleRGDName, Instances: 200, Count: 3,
		WorkerCounts: []int{1, 2, 4, 8, 16}, VCPUs: []int{2, 4, 8, 16},
		UsageInstances: []int{100, 300, 1000, 3000, 10000},
		GraphSizes:     [][2]int{{5, 4}, {15, 25}, {30, 45}, {100, 200}, {1000, 3000}}, HostBudget: 0.2}
}

// Validate reports every problem of a config.
func (c Config) Validate() error {
	var probs []string
	for _, s := range c.Suites {
		if !slices.Contains(Suites(), s) {
			probs = append(probs, fmt.Sprintf("unknown suite %q (want some of %s)", s, strings.Join(Suites(), ",")))
		}
	}
	if c.Count < 1 || c.Count > 100 {
		probs = append(probs, fmt.Sprintf("count must be 1..100, got %d", c.Count))
	}
	if c.Instances < 1 {
		probs = append(probs, fmt.Sprintf("instances must be at least 1, got %d", c.Instances))
	}
	if c.Mode == "sim" && c.Target == nil {
		probs = append(probs, "a simulation needs a target")
	}
	if len(probs) > 0 {
		return fmt.Errorf("bench: %s", strings.Join(probs, "; "))
	}
	return nil
}

// Report is a bench run's results.json. Everything outside Host is
// deterministic in simulation: the same config gives the same bytes.
type Report struct {
	Format     string      `json:"format"`
	Complete   bool        `json:"complete"`
	Incomplete string      `json:"incomplete,omitempty"`
	Config     Config      `json:"config"`
	Benchmarks []Benchmark `json:"benchmarks"`
	// Workers is the workers suite's grid and what it finds.
	Workers *WorkersStudy `json:"workers,omitempty"`
	// Usage is the usage suite's fit.
	Usage *UsageFit `json:"usage,omitempty"`
	// Host holds what was measured on this host: not deterministic.
	Host *Host `json:"host,omitempty"`
}

// Host is this host and what was measured on it in real time.
type Host struct {
	GOOS       string      `json:"goos"`
	GOARCH     string      `json:"goarch"`
	CPUs       int         `json:"cpus"`
	GoVersion  string      `json:"go_version"`
	Benchmarks []Benchmark `json:"benchmarks"`
	// Load is this host's load average as each real run started.
	Load []RunLoad `json:"load,omitempty"`
}

// RunLoad is the host's one-minute load average as a real run started;
// Loaded when it reached the host's CPU count, which flags the run's
// measurements noisy.
type RunLoad struct {
	Run    int     `json:"run"`
	What   string  `json:"what"`
	Load1  float64 `json:"load1"`
	Loaded bool    `json:"loaded"`
}

// Benchmark is one measured operation.
type Benchmark struct {
	Suite string `json:"suite"`
	Name  string `json:"name"`
	// Mode is how it was measured: "sim" (virtual time), "model" (the
	// target's cost or latency model, no run), "host" (real time on this
	// host) or "real" (a real cluster).
	Mode string `json:"mode"`
	// Ops is the operations of one repetition.
	Ops int `json:"ops"`
	// Throughput is operations per second, ThroughputUnit's.
	Throughput     Stat    `json:"throughput"`
	ThroughputUnit string  `json:"throughput_unit"`
	LatencyMS      Latency `json:"latency_ms"`
	CPUPercent     float64 `json:"cpu_percent"`
	MemoryMB       float64 `json:"memory_mb"`
	ErrorRate      float64 `json:"error_rate"`
	// Metrics are the suite's own numbers (api_calls_per_op, bytes_per_op,
	// allocs_per_op, cost_units, ...).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	Note    string             `json:"note,omitempty"`
}

// Metric returns a named metric, 0 when absent.
func (b Benchmark) Metric(name string) float64 { return b.Metrics[name] }

// Encode renders a report as indented JSON with a final newline.
func Encode(r *Report) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Step is where a bench run is: the step starting, how many steps started
// before it and how many the run has in all.
type Step struct {
	Done, Total int
	What        string
}

// Options are a run's host-side hooks.
type Options struct {
	// Progress is called as each step (a seed, a grid point, an expression,
	// a size) starts; nil discards.
	Progress func(Step)
	// Stop is polled between runs; an error stops the bench, what finished
	// kept and the report marked incomplete.
	Stop func() error
	// Sim are the options of every simulation (its own abort hook).
	Sim sim.Options

	done  *int // steps started so far
	total int
}

// counting returns o with a fresh step count of a run of cfg.
func (o Options) counting(cfg Config) Options {
	o.done, o.total = new(int), cfg.Steps()
	return o
}

func (o Options) progress(format string, args ...any) {
	if o.done == nil {
		o.done = new(int)
	}
	if o.Progress != nil {
		o.Progress(Step{Done: *o.done, Total: max(o.total, *o.done+1), What: fmt.Sprintf(format, args...)})
	}
	*o.done++
}

// Steps is how many steps (progress lines) a run of c takes.
func (c Config) Steps() int {
	n := 0
	for _, s := range c.Suites {
		switch s {
		case CRUD:
			n += c.Count
		case Workers:
			n += len(c.WorkerCounts) * len(c.VCPUs)
		case CEL:
			n += 1 + len(Expressions)
		case Graph:
			n += len(c.GraphSizes)
		case Usage:
			n += len(c.UsageInstances)
		}
	}
	if c.Mode == "real" && c.Warmup > 0 {
		n++
	}
	return n
}

func (o Options) stop() error {
	if o.Stop == nil {
		return nil
	}
	return o.Stop()
}

// Run runs cfg's suites in simulation on rgd (the crud, workers and usage
// suites') and on this host (cel and graph), and returns the report. A
// stop keeps what finished, marked incomplete.
func Run(cfg Config, rgd *model.RGD, opts Options) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Report{Format: Format, Complete: true, Config: cfg}
	opts = opts.counting(cfg)
	suites := map[string]func(*Report, *model.RGD, Options) error{
		CRUD: runCRUD, Workers: runWorkers, CEL: runCEL, Graph: runGraph, Usage: runUsage,
	}
	for _, s := range Suites() {
		if !slices.Contains(cfg.Suites, s) {
			continue
		}
		if err := suites[s](r, rgd, opts); err != nil {
			if errStop, ok := err.(stopped); ok {
				r.Complete, r.Incomplete = false, fmt.Sprintf("stopped during the %s suite: %v", s, errStop.err)
				break
			}
			return r, fmt.Errorf("%s suite: %w", s, err)
		}
	}
	return r, nil
}

// stopped is a Stop hook's error, carried out of a suite.
type stopped struct{ err error }

func (s stopped) Error() string { return "stopped: " + s.err.Error() }

// check polls the stop hook, wrapping its error.
func (o Options) check() error {
	if err := o.stop(); err != nil {
		return stopped{err}
	}
	return nil
}
