package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/study"
	"github.com/krosim/krosim/sim/verb"
)

// Direction says which way a metric improves.
type Direction int

// Directions of a metric.
const (
	Neutral      Direction = 0  // informational: no way is better
	LowerBetter  Direction = -1 // times, counts, memory
	HigherBetter Direction = 1  // throughput
)

// Source says how a metric's values were obtained, which decides how two
// sets of them are compared.
type Source string

// Sources of values.
const (
	// Simulated values are deterministic: the same config and seed give
	// the same number, so runs of one seed compare exactly.
	Simulated Source = "sim"
	// Measured values (a real cluster, this host's real time) are noisy.
	Measured Source = "measured"
)

// Metric is one named quantity and its values over seeds or runs.
type Metric struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Better Direction `json:"better"`
	Source Source    `json:"source"`
	// Values are one per seed or run, in input order.
	Values []float64 `json:"values"`
	// Seeds are the simulation seeds of Values (0 for a measurement), so
	// that deterministic runs are matched seed by seed.
	Seeds []uint64 `json:"seeds,omitempty"`
}

// Set is the metrics of one side of an analysis, in a stable order.
type Set struct {
	order   []string
	metrics map[string]*Metric
}

// Names lists the metrics in the order they were first added.
func (s *Set) Names() []string { return slices.Clone(s.order) }

// Get returns the metric called name, or nil.
func (s *Set) Get(name string) *Metric { return s.metrics[name] }

// Len is the number of metrics.
func (s *Set) Len() int { return len(s.order) }

func (s *Set) add(name, unit string, better Direction, src Source, seed uint64, v float64) {
	if s.metrics == nil {
		s.metrics = map[string]*Metric{}
	}
	m := s.metrics[name]
	if m == nil {
		m = &Metric{Name: name, Unit: unit, Better: better, Source: src}
		s.metrics[name] = m
		s.order = append(s.order, name)
	}
	if src == Measured {
		m.Source = Measured
	}
	m.Values = append(m.Values, v)
	m.Seeds = append(m.Seeds, seed)
}

// Metrics gathers the metrics of every input: inputs of the same kind add
// their values to the same names, as runs over seeds.
func Metrics(ins []*Input) *Set {
	s := &Set{}
	for _, in := range ins {
		switch {
		case in.Result != nil:
			runMetrics(s, in.Result)
		case in.Sweep != nil:
			sweepMetrics(s, in.Sweep)
		case in.Bench != nil:
			benchMetrics(s, in.Bench)
		}
	}
	return s
}

func runMetrics(s *Set, r *result.Result) {
	src, seed := Simulated, r.Config.Seed
	if r.Config.IsReal() || r.CPUCost == "measured" {
		src, seed = Measured, 0
	}
	add := func(name, unit string, better Direction, v float64) { s.add(name, unit, better, src, seed, v) }
	sum := r.Summary
	opt := func(name string, v *float64) {
		if v != nil {
			add(name, "s", LowerBetter, *v)
		}
	}
	opt("converge_seconds", sum.ConvergeSeconds)
	opt("update_seconds", sum.UpdateSeconds)
	opt("delete_seconds", sum.DeleteSeconds)
	if sum.TimeToReady != (result.Percentiles{}) {
		add("time_to_ready_p50_seconds", "s", LowerBetter, sum.TimeToReady.P50)
		add("time_to_ready_p95_seconds", "s", LowerBetter, sum.TimeToReady.P95)
		add("time_to_ready_p99_seconds", "s", LowerBetter, sum.TimeToReady.P99)
	}
	add("instances_ready", "instances", HigherBetter, float64(sum.InstancesReady))
	add("instances_failed", "instances", LowerBetter, float64(sum.InstancesFailed))
	add("reconciles", "reconciles", LowerBetter, float64(sum.Reconciles))
	add("reconcile_errors", "errors", LowerBetter, float64(sum.ReconcileErrors))
	total := 0
	for _, v := range verb.All {
		total += sum.APICalls[v]
	}
	add("api_calls", "requests", LowerBetter, float64(total))
	for _, v := range verb.All {
		if n, ok := sum.APICalls[v]; ok {
			add("api_calls."+string(v), "requests", LowerBetter, float64(n))
		}
	}
	if !r.Config.IsReal() {
		add("cel_evaluations", "evaluations", LowerBetter, float64(sum.Evaluations))
		add("memory_peak_bytes", "bytes", LowerBetter, float64(r.Memory.PeakBytes))
		add("worker_utilization", "share", Neutral, r.Utilization.Workers)
		add("vcpu_utilization", "share", Neutral, r.Utilization.VCPUs)
		if r.Queue.WaitSeconds != (result.Percentiles{}) {
			add("queue_wait_p99_seconds", "s", LowerBetter, r.Queue.WaitSeconds.P99)
		}
		if total := r.WorkerSeconds(); total > 0 {
			for _, p := range span.Phases() {
				add("attribution."+p.String()+"_share", "share", Neutral, r.Attribution[p.String()]/total)
			}
		}
		add("throttle_wait_seconds", "s", LowerBetter, r.API.ThrottleWaitSeconds)
		add("rejected_429", "requests", LowerBetter, float64(r.API.Rejected429))
	}
}

// sweepMetrics names each group's numbers by its varied dimensions:
// converge_seconds{qps=20,workers=1}, one value per seed.
func sweepMetrics(s *Set, sw *study.Sweep) {
	for _, row := range sw.Points {
		var parts []string
		for _, d := range sw.Dimensions {
			parts = append(parts, d+"="+study.FormatValue(d, row.Params[d]))
		}
		at := "{" + strings.Join(parts, ",") + "}"
		if row.ConvergeSeconds != nil {
			s.add("converge_seconds"+at, "s", LowerBetter, Simulated, row.Seed, *row.ConvergeSeconds)
		}
		s.add("time_to_ready_p99_seconds"+at, "s", LowerBetter, Simulated, row.Seed, row.TimeToReady.P99)
		s.add("api_calls"+at, "requests", LowerBetter, Simulated, row.Seed, float64(row.APICalls))
	}
}

func benchMetrics(s *Set, r *bench.Report) {
	bms := slices.Clone(r.Benchmarks)
	if r.Host != nil {
		bms = append(bms, r.Host.Benchmarks...)
	}
	for _, b := range bms {
		src := Simulated
		if b.Mode == "host" || b.Mode == "real" {
			src = Measured
		}
		name := fmt.Sprintf("%s/%s[%s]", b.Suite, b.Name, b.Mode)
		for i, v := range b.Throughput.Runs {
			s.add(name+" throughput", b.ThroughputUnit, HigherBetter, src, uint64(i+1), v)
		}
		if b.Suite == bench.CRUD && b.LatencyMS.P50 > 0 {
			s.add(name+" latency_p50_ms", "ms", LowerBetter, src, 0, b.LatencyMS.P50)
			s.add(name+" latency_p99_ms", "ms", LowerBetter, src, 0, b.LatencyMS.P99)
		}
		if c, ok := b.Metrics["cost_units"]; ok && b.Mode == "model" {
			s.add(name+" cost_units", "units", LowerBetter, Simulated, 0, c)
		}
	}
	if w := r.Workers; w != nil {
		for _, p := range w.Points {
			name := fmt.Sprintf("workers/workers=%d/vcpus=%d throughput", p.Workers, p.VCPUs)
			for i, v := range p.Throughput.Runs {
				s.add(name, "instances/s", HigherBetter, Simulated, uint64(i+1), v)
			}
		}
	}
	if u := r.Usage; u != nil && len(u.Points) >= 2 {
		s.add("usage/memory base_bytes", "bytes", LowerBetter, Simulated, 0, u.Memory.Base)
		s.add("usage/memory per_resource_bytes", "bytes", LowerBetter, Simulated, 0, u.Memory.Slope)
		s.add("usage/cpu base_seconds", "cpu-s", LowerBetter, Simulated, 0, u.CPU.Base)
		s.add("usage/cpu per_resource_seconds", "cpu-s", LowerBetter, Simulated, 0, u.CPU.Slope)
	}
}
