package bench

import (
	"fmt"
	"math"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
)

// The crud suite's operations.
const (
	OpCreate = "create"
	OpRead   = "read"
	OpUpdate = "update"
	OpDelete = "delete"
	OpList   = "list"
)

// crudRun is one seed's three simulations of the crud scenario: create
// only; create then update every instance; create, update, delete. Each is a
// prefix of the next (the plan and the server draw from their own streams),
// so the differences are each phase's requests.
type crudRun struct {
	create, update, delete *sim.Result
}

// simulateCRUD runs one seed of the crud scenario on t with n instances.
func simulateCRUD(cfg Config, rgd *model.RGD, seed uint64, opts Options) (crudRun, error) {
	var cr crudRun
	n := cfg.Instances
	for i, wl := range []workload.Workload{crudWorkload(n, 0, false), crudWorkload(n, 1, false), crudWorkload(n, 1, true)} {
		res, err := simulate(cfg, cfg.Target, rgd, wl, seed, opts)
		if err != nil {
			return cr, err
		}
		*[]**sim.Result{&cr.create, &cr.update, &cr.delete}[i] = res
	}
	return cr, nil
}

func crudWorkload(n int, update float64, del bool) workload.Workload {
	wl := workload.Default(n)
	wl.Update, wl.Delete = update, del
	return wl
}

// opSample is one seed's measurement of one operation.
type opSample struct {
	throughput float64   // operations per second
	latencies  []float64 // per operation, ms
	apiCalls   float64   // kro's requests per operation
	errorRate  float64   // failed operations / operations
	cpu        float64   // vCPU utilization, %
	workers    float64   // worker utilization, %
	memoryMB   float64
}

// createSample: request to Ready, per instance; throughput is instances per
// second of the phase (instances / converge time).
func createSample(r *sim.Result) opSample {
	s := opSample{cpu: 100 * r.Utilization.VCPUs, workers: 100 * r.Utilization.Workers, memoryMB: mb(float64(r.Memory.PeakBytes))}
	failed := 0
	for _, in := range r.Instances {
		if in.IsReady {
			s.latencies = append(s.latencies, ms(in.Ready-in.Created))
		} else {
			failed++
		}
	}
	n := len(r.Instances)
	if c := r.Summary.ConvergeSeconds; c != nil && *c > 0 {
		s.throughput = float64(n-failed) / *c
	}
	s.apiCalls = float64(calls(r.Summary.APICalls)) / float64(max(1, n))
	s.errorRate = float64(failed) / float64(max(1, n))
	return s
}

// updateSample: the spec change to Ready for the new generation.
func updateSample(before, r *sim.Result) opSample {
	s := opSample{cpu: 100 * r.Utilization.VCPUs, workers: 100 * r.Utilization.Workers, memoryMB: mb(float64(r.Memory.PeakBytes))}
	changed, failed := 0, 0
	for _, in := range r.Instances {
		if !in.Updated {
			continue
		}
		changed++
		if in.UpdateDone {
			s.latencies = append(s.latencies, ms(in.UpdateReady-in.UpdatedAt))
		} else {
			failed++
		}
	}
	if u := r.Summary.UpdateSeconds; u != nil && *u > 0 {
		s.throughput = float64(changed-failed) / *u
	}
	s.apiCalls = float64(calls(r.Summary.APICalls)-calls(before.Summary.APICalls)) / float64(max(1, changed))
	s.errorRate = float64(failed) / float64(max(1, changed))
	return s
}

// deleteSample: the delete request until the object is gone.
func deleteSample(before, r *sim.Result) opSample {
	s := opSample{cpu: 100 * r.Utilization.VCPUs, workers: 100 * r.Utilization.Workers, memoryMB: mb(float64(r.Memory.PeakBytes))}
	failed := 0
	for _, in := range r.Instances {
		if in.IsGone {
			s.latencies = append(s.latencies, ms(in.Gone-in.Deleting))
		} else {
			failed++
		}
	}
	n := len(r.Instances)
	if d := r.Summary.DeleteSeconds; d != nil && *d > 0 {
		s.throughput = float64(n-failed) / *d
	}
	s.apiCalls = float64(calls(r.Summary.APICalls)-calls(before.Summary.APICalls)) / float64(max(1, n))
	s.errorRate = float64(failed) / float64(max(1, n))
	return s
}

// modelSample is a GET or LIST of instances as the target's latency model
// serves it: latency at evenly spaced quantiles of the model (no run), and
// throughput as the controller's workers issuing them back to back.
func modelSample(t *target.Target, v verb.Verb, objects int) opSample {
	const points = 1000
	l := t.Latency[v]
	s := opSample{latencies: make([]float64, points)}
	sum := 0.0
	for i := range points {
		z := normalQuantile((float64(i) + 0.5) / points)
		s.latencies[i] = ms(l.Sample(z, objects))
		sum += s.latencies[i]
	}
	if sum > 0 {
		s.throughput = float64(t.Controller.Workers) * 1000 / (sum / points)
	}
	s.apiCalls = 1
	return s
}

// normalQuantile is the standard normal distribution's inverse CDF.
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

func runCRUD(r *Report, rgd *model.RGD, opts Options) error {
	cfg := r.Config
	if cfg.Mode == "real" {
		return fmt.Errorf("the real crud scenario runs through RunReal")
	}
	samples := map[string][]opSample{}
	for seed := uint64(1); seed <= uint64(cfg.Count); seed++ {
		opts.progress("crud: seed %d of %d: %d instances created, updated, deleted", seed, cfg.Count, cfg.Instances)
		cr, err := simulateCRUD(cfg, rgd, seed, opts)
		if err != nil {
			return err
		}
		samples[OpCreate] = append(samples[OpCreate], createSample(cr.create))
		samples[OpUpdate] = append(samples[OpUpdate], updateSample(cr.create, cr.update))
		samples[OpDelete] = append(samples[OpDelete], deleteSample(cr.update, cr.delete))
	}
	samples[OpRead] = []opSample{modelSample(cfg.Target, verb.Get, 1)}
	samples[OpList] = []opSample{modelSample(cfg.Target, verb.List, cfg.Instances)}
	notes := map[string]string{
		OpCreate: "end to end: instance created to kro's ACTIVE; throughput = instances / converge time",
		OpUpdate: "end to end: spec changed to Ready for the new generation, every instance changed once all were ready",
		OpDelete: "end to end: delete requested to the instance object gone (kro deletes its children in reverse topological waves)",
		OpRead:   "the API server's GET of one instance: the target's latency model at 1,000 evenly spaced quantiles, not a run; throughput = workers / mean latency",
		OpList:   fmt.Sprintf("the API server's LIST of %d instances: the target's latency model (per-object term included), not a run; throughput = workers / mean latency", cfg.Instances),
	}
	for _, op := range []string{OpCreate, OpRead, OpUpdate, OpDelete, OpList} {
		mode := "sim"
		if op == OpRead || op == OpList {
			mode = "model"
		}
		b := benchmarkOf(CRUD, op, mode, samples[op])
		b.Note = notes[op]
		if op == OpRead || op == OpList {
			b.Ops = 1000
		} else {
			b.Ops = cfg.Instances
		}
		r.Benchmarks = append(r.Benchmarks, b)
	}
	return nil
}

// benchmarkOf summarizes an operation's samples, one per repetition:
// throughput by median and interval, latency pooled over every repetition.
func benchmarkOf(suite, name, mode string, ss []opSample) Benchmark {
	b := Benchmark{Suite: suite, Name: name, Mode: mode, ThroughputUnit: "instances/s", Metrics: map[string]float64{}}
	var tps, lat, cpu, wk, mem, errs, api []float64
	for _, s := range ss {
		tps = append(tps, s.throughput)
		lat = append(lat, s.latencies...)
		cpu, wk, mem = append(cpu, s.cpu), append(wk, s.workers), append(mem, s.memoryMB)
		errs, api = append(errs, s.errorRate), append(api, s.apiCalls)
	}
	b.Throughput = summarize(tps)
	b.LatencyMS = latencyOf(lat)
	b.CPUPercent, b.MemoryMB, b.ErrorRate = median(cpu), median(mem), median(errs)
	b.Metrics["api_calls_per_op"] = median(api)
	b.Metrics["worker_utilization_percent"] = median(wk)
	if mode == "model" {
		b.ThroughputUnit = "requests/s"
		delete(b.Metrics, "worker_utilization_percent")
	}
	return b
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return summarize(xs).Median
}

func calls(m map[verb.Verb]int) int {
	n := 0
	for _, v := range verb.All {
		n += m[v]
	}
	return n
}

// maxVirtual bounds each simulation in virtual time.
const maxVirtual = 4 * time.Hour

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
