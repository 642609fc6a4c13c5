package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/workload"
)

// RealWorkloadUpdate is the share of instances the real crud scenario changes.
const RealWorkloadUpdate = 1.0

// RealSuites are the suites a real cluster runs: cel and graph measure
// libraries on this host and workers reconfigures kro, so they run in
// simulation only.
func RealSuites() []string { return []string{CRUD, Usage} }

// ClusterRun runs one scenario on a real cluster; sim/cluster.Run is one.
type ClusterRun func(ctx context.Context, cfg cluster.Config, rgds []*model.RGD) (*result.Result, map[string][]byte, error)

// Real is how a real bench reaches its cluster.
type Real struct {
	// Cluster is every run's connection and pacing (kubeconfig, kro's
	// metrics URL, quiet period, timeout, parallelism, log); RunReal sets
	// the workload and seed of each run.
	Cluster cluster.Config
	// Run runs a scenario; nil is sim/cluster.Run.
	Run ClusterRun
	// Ping checks that the cluster answers before anything runs; nil is
	// sim/cluster.Ping.
	Ping func(ctx context.Context, kubeconfig cluster.Kubeconfig, kroMetrics string) error
	// Load reads this host's load average before each run; nil reads
	// /proc/loadavg.
	Load func() (load1 float64, ok bool)
}

// RunReal runs cfg's suites (crud and usage) on a real cluster: a warm-up
// run first (discarded), then the crud scenario cfg.Count times (seeds
// 1..Count) and the usage suite's sizes in increasing order, each created
// then deleted again. A run started while this host was loaded is flagged.
// A stop (opts.Stop, or ctx) keeps what finished, marked incomplete.
func RunReal(ctx context.Context, cfg Config, rgd *model.RGD, rl Real, opts Options) (*Report, error) {
	if err := cfg.validateReal(); err != nil {
		return nil, err
	}
	if rl.Run == nil {
		rl.Run = cluster.Run
	}
	if rl.Ping == nil {
		rl.Ping = cluster.Ping
	}
	if rl.Load == nil {
		rl.Load = HostLoad
	}
	if err := rl.Ping(ctx, rl.Cluster.Kubeconfig, rl.Cluster.KroMetrics); err != nil {
		return nil, fmt.Errorf("real mode: the cluster is unreachable (start it with `make realapi-up`, or pass --kubeconfig and --kro-metrics of a running kro): %w", err)
	}
	r := &Report{Format: Format, Complete: true, Config: cfg}
	host(r)
	opts = opts.counting(cfg)
	rr := &realRunner{ctx: ctx, cfg: cfg, rgd: rgd, rl: rl, opts: opts, r: r}
	err := rr.all()
	if errStop, ok := err.(stopped); ok {
		r.Complete, r.Incomplete = false, fmt.Sprintf("stopped during the %s: %v", rr.stage, errStop.err)
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("real %s: %w", rr.stage, err)
	}
	return r, nil
}

func (c Config) validateReal() error {
	var probs []string
	if c.Mode != "real" {
		probs = append(probs, fmt.Sprintf("mode %q, want real", c.Mode))
	}
	for _, s := range c.Suites {
		if !slices.Contains(RealSuites(), s) {
			probs = append(probs, fmt.Sprintf("suite %q runs in simulation only (a real cluster runs %s)", s, strings.Join(RealSuites(), ",")))
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("bench: %s", strings.Join(probs, "; "))
	}
	return c.Validate()
}

// realRunner is a real bench in progress.
type realRunner struct {
	ctx   context.Context
	cfg   Config
	rgd   *model.RGD
	rl    Real
	opts  Options
	r     *Report
	stage string // what runs now, for messages
	runs  int    // runs started, warm-up included
}

func (rr *realRunner) all() error {
	if rr.cfg.Warmup > 0 {
		rr.stage = "warm-up"
		rr.opts.progress("real: warm-up: %d instances created, updated, deleted (discarded)", rr.cfg.Warmup)
		if _, _, err := rr.run(crudWorkload(rr.cfg.Warmup, RealWorkloadUpdate, true), 1); err != nil {
			return err
		}
	}
	if slices.Contains(rr.cfg.Suites, CRUD) {
		rr.stage = "crud suite"
		if err := rr.crud(); err != nil {
			return err
		}
	}
	if slices.Contains(rr.cfg.Suites, Usage) {
		rr.stage = "usage suite"
		if err := rr.usage(); err != nil {
			return err
		}
	}
	return nil
}

// run runs one scenario, recording the host's load as it starts. An error
// after a stop is the stop.
func (rr *realRunner) run(wl workload.Workload, seed uint64) (*result.Result, map[string][]byte, error) {
	if err := rr.opts.check(); err != nil {
		return nil, nil, err
	}
	rr.runs++
	load, ok := rr.rl.Load()
	if ok {
		h := host(rr.r)
		h.Load = append(h.Load, RunLoad{Run: rr.runs, What: rr.stage, Load1: round(load), Loaded: load >= float64(h.CPUs)})
	}
	cc := rr.rl.Cluster
	cc.RGDFiles, cc.Workload, cc.Seed = []string{rr.cfg.RGD}, wl, seed
	res, scrapes, err := rr.rl.Run(rr.ctx, cc, []*model.RGD{rr.rgd})
	if err != nil {
		if serr := rr.opts.check(); serr != nil {
			return nil, nil, serr
		}
		if rr.ctx.Err() != nil {
			return nil, nil, stopped{context.Cause(rr.ctx)}
		}
		return nil, nil, err
	}
	if !res.Complete {
		if serr := rr.opts.check(); serr != nil {
			return nil, nil, serr
		}
		return nil, nil, fmt.Errorf("%d instances, seed %d: incomplete: %s", wl.Instances, seed, res.Incomplete)
	}
	return res, scrapes, nil
}

// loaded says which of the runs numbered from..to started on a loaded host.
func (rr *realRunner) loaded(from, to int) []string {
	var out []string
	if rr.r.Host == nil {
		return nil
	}
	for _, l := range rr.r.Host.Load {
		if l.Run >= from && l.Run <= to && l.Loaded {
			out = append(out, fmt.Sprintf("run %d (load %.2f on %d CPUs)", l.Run, l.Load1, rr.r.Host.CPUs))
		}
	}
	return out
}

func (rr *realRunner) crud() error {
	cfg := rr.cfg
	samples := map[string][]opSample{}
	var ops map[string]int
	first := rr.runs + 1
	defer func() {
		// What finished is kept, a stopped run's repetitions too.
		for _, op := range []string{OpCreate, OpUpdate, OpDelete} {
			if len(samples[op]) == 0 {
				continue
			}
			b := realBenchmark(op, samples[op], ops[op])
			if l := rr.loaded(first, rr.runs); len(l) > 0 {
				b.Throughput.Noisy = true
				b.Throughput.Warning = "started on a loaded host (load average at least its CPU count): " + strings.Join(l, ", ")
			}
			rr.r.Benchmarks = append(rr.r.Benchmarks, b)
		}
	}()
	for seed := uint64(1); seed <= uint64(cfg.Count); seed++ {
		rr.opts.progress("real crud: run %d of %d: %d instances created, updated, deleted", seed, cfg.Count, cfg.Instances)
		res, _, err := rr.run(crudWorkload(cfg.Instances, RealWorkloadUpdate, true), seed)
		if err != nil {
			return err
		}
		ss, n, err := clusterSamples(res)
		if err != nil {
			return err
		}
		ops = n
		for op, s := range ss {
			samples[op] = append(samples[op], s)
		}
	}
	return nil
}

// realBenchmark is one crud operation's benchmark over a real cluster's
// repetitions.
func realBenchmark(op string, ss []opSample, ops int) Benchmark {
	b := benchmarkOf(CRUD, op, "real", ss)
	delete(b.Metrics, "worker_utilization_percent")
	b.Ops = ops
	b.Note = "a real cluster: phase time from kro's and the API server's metrics, per-instance times from the instances' status"
	for _, s := range ss {
		if len(s.latencies) == 0 {
			b.Note += "; a run recorded no per-instance " + op + " times (taken before they were kept)"
			break
		}
	}
	return b
}

// FromCluster maps a real run of the crud scenario (create, update every
// instance, delete; sim/cluster.Run's results.json) to the crud suite's
// benchmarks, one repetition: per-instance create and delete latency from
// each instance's timings, throughput and API calls per operation from
// each phase. Runs recorded before per-instance update times were kept
// give update no percentiles.
func FromCluster(res *result.Result) ([]Benchmark, error) {
	ss, ops, err := clusterSamples(res)
	if err != nil {
		return nil, err
	}
	var out []Benchmark
	for _, op := range []string{OpCreate, OpUpdate, OpDelete} {
		s, ok := ss[op]
		if !ok {
			continue
		}
		out = append(out, realBenchmark(op, []opSample{s}, ops[op]))
	}
	return out, nil
}

// clusterSamples is a real run's sample of each operation, and its
// operation count.
func clusterSamples(res *result.Result) (map[string]opSample, map[string]int, error) {
	if res.Real == nil {
		return nil, nil, fmt.Errorf("bench: results.json is not of a real run (no real section)")
	}
	phases := map[string]result.Phase{}
	for _, p := range res.Real.Phases {
		phases[p.Name] = p
	}
	// Older runs recorded no per-instance timings: then only throughput,
	// API calls and errors are known.
	n := res.Summary.InstancesTotal
	createFailed, deleteFailed := n-res.Summary.InstancesReady, 0
	var create, update, del []float64
	updateFailed := 0
	for _, in := range res.Real.Instances {
		if in.Ready != nil {
			create = append(create, 1000*(*in.Ready-in.Created))
		}
		if in.Changed != nil && in.Updated != nil {
			update = append(update, 1000*(*in.Updated-*in.Changed))
		} else if in.Changed != nil {
			updateFailed++
		}
		if in.Deleted != nil && in.Gone != nil {
			del = append(del, 1000*(*in.Gone-*in.Deleted))
		} else if res.Config.Workload.Delete {
			deleteFailed++
		}
	}
	out, ops := map[string]opSample{}, map[string]int{}
	add := func(op string, lat []float64, n, failed int) {
		p, ok := phases[op]
		if !ok || n == 0 {
			return
		}
		s := opSample{latencies: lat, apiCalls: float64(calls(p.APICalls)) / float64(n), errorRate: float64(failed) / float64(n)}
		if p.Seconds > 0 {
			s.throughput = float64(n-failed) / p.Seconds
		}
		out[op], ops[op] = s, n
	}
	add(OpCreate, create, n, createFailed)
	add(OpUpdate, update, max(res.Summary.InstancesUpdated, 0), updateFailed)
	add(OpDelete, del, n, deleteFailed)
	return out, ops, nil
}
