package bench_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
)

func example(t *testing.T) *model.RGD {
	t.Helper()
	gs, err := model.Load(bench.ExampleRGDName, bench.ExampleRGD)
	if err != nil {
		t.Fatal(err)
	}
	return gs[0]
}

// small is a config of every simulated suite that runs in seconds.
func small(t *testing.T, suites ...string) bench.Config {
	t.Helper()
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	c := bench.Default(tg)
	c.Suites, c.Instances, c.Count = suites, 10, 2
	c.WorkerCounts, c.VCPUs, c.UsageInstances = []int{1, 2, 4}, []int{2}, []int{10, 20, 40}
	c.GraphSizes, c.HostBudget = [][2]int{{5, 4}, {30, 45}}, 0.002
	return c
}

func TestEmbeddedExampleIsTestdata(t *testing.T) {
	want, err := os.ReadFile("../../testdata/rgd/webapp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, bench.ExampleRGD) {
		t.Error("profile/bench/webapp.yaml differs from testdata/rgd/webapp.yaml: copy it again")
	}
}

func TestCRUDThroughputAtOneWorker(t *testing.T) {
	cfg := small(t, bench.CRUD)
	cfg.Count = 1
	cfg.Target.Controller.Workers = 1
	rep, err := bench.Run(cfg, example(t), bench.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The same scenario through the plain simulation: instances / converge time.
	crt, _ := findB(rep.Benchmarks, bench.OpCreate)
	conv := convergeOf(t, cfg)
	if want := float64(cfg.Instances) / conv; math.Abs(crt.Throughput.Median-want) > 1e-4*want {
		t.Errorf("create throughput %v, want instances / converge = %v", crt.Throughput.Median, want)
	}
	for _, op := range []string{bench.OpCreate, bench.OpUpdate, bench.OpDelete} {
		b, ok := findB(rep.Benchmarks, op)
		if !ok || b.Throughput.Median <= 0 || b.LatencyMS.P50 <= 0 || b.LatencyMS.Min > b.LatencyMS.P50 || b.LatencyMS.P99 > b.LatencyMS.Max {
			t.Errorf("%s: %+v", op, b)
		}
		if b.Metric("api_calls_per_op") <= 0 {
			t.Errorf("%s: no API calls per operation", op)
		}
	}
}

func TestWorkersNeverClaimGainsWhereAPILatencyOrIdleBinds(t *testing.T) {
	cfg := small(t, bench.Workers)
	rep, err := bench.Run(cfg, example(t), bench.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ps := rep.Workers.Points
	if len(ps) != len(cfg.WorkerCounts)*len(cfg.VCPUs) {
		t.Fatalf("%d points", len(ps))
	}
	for i := 1; i < len(ps); i++ {
		p, q := ps[i], ps[i-1]
		ratio := p.Throughput.Median / q.Throughput.Median
		// A gain is claimed only where the throughput really rose.
		if (p.Gain == "linear" || p.Gain == "diminishing") && ratio < 1.1 {
			t.Errorf("%d workers: claims %s at a %.2fx change", p.Workers, p.Gain, ratio)
		}
		// Where the workers already sat mostly idle, waiting on request
		// chains and requeues, doubling them must not be called linear.
		if q.Shares["idle"] >= 0.5 && p.Gain == "linear" {
			t.Errorf("%d workers: claims linear gains though %d workers were %.0f%% idle", p.Workers, q.Workers, 100*q.Shares["idle"])
		}
	}
	if len(rep.Workers.Findings) == 0 {
		t.Error("no findings")
	}
}

// More vCPUs are never sold as a gain where the attribution shows the
// workers waiting on the API server or idle: the throughput at the same
// worker count stays put, and the answer to the report's "per core" claim
// names as CPU-bound exactly the points whose workers wait for a vCPU.
func TestWorkersNeverClaimCoreGainsWhereAPILatencyBinds(t *testing.T) {
	cfg := small(t, bench.Workers)
	cfg.VCPUs = []int{2, 8}
	rep := run(t, cfg)
	byWorkers := map[int][]bench.WorkerPoint{}
	var cpuBound []string
	for _, p := range rep.Workers.Points {
		byWorkers[p.Workers] = append(byWorkers[p.Workers], p)
		if (p.Binding == "api-latency" || p.Binding == "idle") && p.Shares["cpu_wait"] >= 0.2 {
			t.Errorf("%dw/%dvCPU binds on %s with %.0f%% waiting for a vCPU", p.Workers, p.VCPUs, p.Binding, 100*p.Shares["cpu_wait"])
		}
		if p.Binding == "cpu" {
			cpuBound = append(cpuBound, fmt.Sprintf("%dw/%dvCPU", p.Workers, p.VCPUs))
		}
	}
	for w, ps := range byWorkers {
		lo, hi := ps[0], ps[len(ps)-1]
		if lo.Binding != "cpu" && hi.Throughput.Median > 1.1*lo.Throughput.Median {
			t.Errorf("%d workers: %v instances/s on %d vCPUs, %v on %d, though %s binds", w, lo.Throughput.Median, lo.VCPUs, hi.Throughput.Median, hi.VCPUs, lo.Binding)
		}
	}
	claim := rep.Workers.Findings[len(rep.Workers.Findings)-1]
	if len(cpuBound) == 0 && !strings.Contains(claim, "not what krosim finds") {
		t.Errorf("no point is CPU-bound, yet the claim reads: %s", claim)
	}
	for _, p := range cpuBound {
		if !strings.Contains(claim, p) {
			t.Errorf("CPU-bound point %s not named in: %s", p, claim)
		}
	}
}

func TestCELClassesRankByCost(t *testing.T) {
	env, err := bench.NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := bench.CompileAll(env, bench.Activation())
	if err != nil {
		t.Fatal(err)
	}
	if got := bench.CostRank(cs); !slices.Equal(got, bench.ReportClasses) {
		t.Errorf("classes by cost %v, want %v", got, bench.ReportClasses)
	}
	for _, c := range cs {
		if c.CostUnits == 0 {
			t.Errorf("%s: no cost units", c.Name)
		}
	}
}

func TestGraphBuildOf1000NodesIsUnderTheModelBar(t *testing.T) {
	cfg := small(t, bench.Graph)
	cfg.GraphSizes = [][2]int{{100, 200}, {1000, 3000}}
	rep, err := bench.Run(cfg, nil, bench.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, ok := findHost(rep, "nodes=1000/edges=3000/op=build")
	tr, ok2 := findHost(rep, "nodes=1000/edges=3000/op=traversal")
	if !ok || !ok2 {
		t.Fatal("no build or traversal benchmark")
	}
	if b.Metric("nodes") != 1000 || b.Metric("edges") != 3000 || b.Metric("critical_path") < 2 {
		t.Errorf("graph: %v", b.Metrics)
	}
	// The model issue's bars, stated for this machine when quiet: a build
	// (load, compile, sort) of 100 resources in 20 ms, a sort with cycle
	// check of 1000 nodes in 2 ms. Go benchmarks measure the times (model's
	// BenchmarkBuild and BenchmarkOrder); a timed assertion here failed on
	// a busy host. What a test can hold under any load is the bar's shape,
	// linear in resources: the work of a build, counted in allocations, of
	// 1000 resources and 3000 edges against 100 and 200, may be 15 times
	// (the edges' growth), 2x for slack. A quadratic build would be 100.
	allocs := func(nodes, edges int) float64 {
		data, err := bench.GraphRGD(nodes, edges)
		if err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(2, func() {
			if _, err := model.Load("graph", data); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(100, 200), allocs(1000, 3000)
	if ratio := large / small; ratio > 2*15 {
		t.Errorf("a build of 1000/3000 allocates %.1fx what one of 100/200 does (%.0f vs %.0f): worse than linear", ratio, large, small)
	}
	t.Logf("build of 1000/3000: p50 %.1f ms (bar %.0f ms), %.0f allocations (%.1fx 100/200's); traversal p50 %.3f ms (bar %.0f ms)",
		b.LatencyMS.P50, bench.BuildBarMS(1000), large, large/small, tr.LatencyMS.P50, bench.TraversalBarMS(1000))
	if b.MemoryMB > 1000 {
		t.Errorf("build of 1000/3000: %v MB", b.MemoryMB)
	}
}

func TestBenchTxtParses(t *testing.T) {
	rep := run(t, small(t, bench.CRUD, bench.CEL, bench.Usage))
	r := benchfmt.NewReader(bytes.NewReader(bench.BenchTxt(rep)), "bench.txt")
	n := 0
	units := map[string]bool{}
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Errorf("%v", rec)
		case *benchfmt.Result:
			n++
			for _, v := range rec.Values {
				units[v.Unit] = true
			}
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	// One line per repetition: benchstat computes its own statistics.
	if got := bytes.Count(bench.BenchTxt(rep), []byte("BenchmarkCRUD/op=create ")); got != rep.Config.Count {
		t.Errorf("%d create lines, want one per repetition (%d)", got, rep.Config.Count)
	}
	for _, u := range []string{"sec/op", "instances/s", "B/op", "allocs/op", "evals/s", "api-calls/op"} {
		if !units[u] {
			t.Errorf("no %s values", u)
		}
	}
	if n < 10 {
		t.Errorf("%d results", n)
	}
}

func TestSimulatedSuitesAreDeterministic(t *testing.T) {
	cfg := small(t, bench.CRUD, bench.Workers, bench.CEL, bench.Graph, bench.Usage)
	a, b := encodeWithoutHost(t, run(t, cfg)), encodeWithoutHost(t, run(t, cfg))
	if !bytes.Equal(a, b) {
		t.Error("two runs of the same config differ outside host")
	}
}

func TestUsageFit(t *testing.T) {
	rep := run(t, small(t, bench.Usage))
	u := rep.Usage
	if len(u.Points) != 3 || u.Memory.Slope <= 0 || u.Memory.R2 < 0.999 {
		t.Errorf("usage: %+v", u)
	}
	tg := small(t).Target
	if math.Abs(u.Memory.Slope-float64(tg.Memory.PerObjectBytes)) > 1 {
		t.Errorf("memory slope %v, want the target's %d per object", u.Memory.Slope, tg.Memory.PerObjectBytes)
	}
}

func TestStopKeepsWhatFinished(t *testing.T) {
	cfg := small(t, bench.CRUD, bench.CEL)
	calls := 0
	rep, err := bench.Run(cfg, example(t), bench.Options{Stop: func() error {
		calls++
		if calls > 3 {
			return errInterrupted
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete || rep.Incomplete == "" {
		t.Errorf("complete %v, %q", rep.Complete, rep.Incomplete)
	}
	if !bytes.Contains(bench.Tables(rep), []byte("Incomplete")) {
		t.Error("tables.md does not say the run is incomplete")
	}
}

func TestFromClusterMapsARecordedRun(t *testing.T) {
	data, err := os.ReadFile("../../testdata/realapi/measured/w1-n50-update-r1/results.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := result.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := bench.FromCluster(res)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{bench.OpCreate: 50 / 9.761742, bench.OpUpdate: 25 / 5.056569, bench.OpDelete: 50 / 25.084705}
	for op, tp := range want {
		b, ok := findB(bs, op)
		if !ok {
			t.Fatalf("no %s", op)
		}
		if math.Abs(b.Throughput.Median-tp) > 1e-5 || b.Mode != "real" || b.Metric("api_calls_per_op") <= 0 {
			t.Errorf("%s: %+v, want throughput %v", op, b, tp)
		}
	}
	if _, err := bench.FromCluster(&result.Result{}); err == nil {
		t.Error("a simulation's results.json was mapped as a real run")
	}
}

// A real run that kept each instance's change and update times gives the
// update its latencies, and an instance changed but never Ready for its new
// generation counts as an error.
func TestFromClusterTimesEachUpdate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	res := &result.Result{Config: result.Config{Mode: "real"},
		Summary: result.Summary{InstancesTotal: 4, InstancesReady: 4, InstancesUpdated: 4},
		Real: &result.Real{Phases: []result.Phase{{Name: "create", Seconds: 2}, {Name: "update", Seconds: 4}},
			Instances: []result.Timing{
				{Name: "ns/a", Created: 0, Ready: f(1), Changed: f(2), Updated: f(2.5)},
				{Name: "ns/b", Created: 0, Ready: f(1), Changed: f(2), Updated: f(3)},
				{Name: "ns/c", Created: 0, Ready: f(1), Changed: f(2.5), Updated: f(4)},
				{Name: "ns/d", Created: 0, Ready: f(1), Changed: f(3)},
			}}}
	bs, err := bench.FromCluster(res)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := findB(bs, bench.OpUpdate)
	if !ok {
		t.Fatal("no update")
	}
	if l := b.LatencyMS; l.Min != 500 || l.Max != 1500 || l.P50 != 1000 || l.Avg != 1000 {
		t.Errorf("update latency %+v, want min 500, p50 and avg 1000, max 1500", l)
	}
	if b.ErrorRate != 0.25 || b.Throughput.Median != 3.0/4 {
		t.Errorf("error rate %v, throughput %v; want 0.25 and 0.75/s", b.ErrorRate, b.Throughput.Median)
	}
	if strings.Contains(b.Note, "no per-instance") {
		t.Errorf("note %q says the times were not recorded", b.Note)
	}
}
