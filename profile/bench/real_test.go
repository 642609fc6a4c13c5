package bench_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/result"
)

// realCfg is a real bench's config of suites.
func realCfg(suites ...string) bench.Config {
	return bench.Config{Mode: "real", Suites: suites, RGD: bench.ExampleRGDName, Instances: 50, Count: 3,
		UsageInstances: []int{1000, 100, 500, 200}, Warmup: 5, Server: "kubeconfig", KroMetrics: "http://kro/metrics"}
}

// fakeCluster replays recorded runs: the crud scenario's results.json (a
// real run of 50 instances), and the usage sizes' hand-written kro scrapes
// in testdata/realusage/nN.
type fakeCluster struct {
	t    *testing.T
	runs []cluster.Config
	// stopAfter cancels ctx once that many runs returned; 0: never.
	stopAfter int
	cancel    context.CancelFunc
}

func (f *fakeCluster) run(ctx context.Context, cfg cluster.Config, _ []*model.RGD) (*result.Result, map[string][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	f.runs = append(f.runs, cfg)
	defer func() {
		if f.stopAfter > 0 && len(f.runs) == f.stopAfter {
			f.cancel()
		}
	}()
	data, err := os.ReadFile("../../testdata/realapi/measured/w1-n50-update-r1/results.json")
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := result.Decode(data)
	if err != nil {
		f.t.Fatal(err)
	}
	n := cfg.Workload.Instances
	if cfg.Workload.Update > 0 { // the crud scenario or the warm-up
		return res, nil, nil
	}
	scrapes := map[string][]byte{}
	for _, name := range []string{"kro-0.prom", "kro-1.prom"} {
		raw, err := os.ReadFile(filepath.Join("testdata/realusage", fmt.Sprintf("n%d", n), name))
		if err != nil {
			return nil, nil, fmt.Errorf("no recorded scrape for %d instances: %w", n, err)
		}
		scrapes[name] = raw
	}
	res.Real.Phases = []result.Phase{{Name: "create", Seconds: float64(n) / 10}, {Name: "delete", Seconds: 1}}
	return res, scrapes, nil
}

func realHooks(f *fakeCluster, loads ...float64) bench.Real {
	i := 0
	return bench.Real{Run: f.run, Cluster: cluster.Config{Kubeconfig: cluster.Kubeconfig{Path: "kubeconfig"}, KroMetrics: "http://kro/metrics"},
		Ping: func(context.Context, cluster.Kubeconfig, string) error { return nil },
		Load: func() (float64, bool) {
			i++
			if i <= len(loads) {
				return loads[i-1], true
			}
			return 0, true
		}}
}

func TestParseProcess(t *testing.T) {
	raw, err := os.ReadFile("testdata/realusage/n100/kro-1.prom")
	if err != nil {
		t.Fatal(err)
	}
	p, err := bench.ParseProcess("kro-1.prom", raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.RSSBytes != 50110000 || p.CPUSeconds != 3.78 {
		t.Errorf("%+v, want RSS 50110000 and CPU 3.78", p)
	}
	noProcess := "# TYPE instance_reconcile_total counter\ninstance_reconcile_total{gvr=\"x\"} 3\n"
	if _, err := bench.ParseProcess("kro-7.prom", []byte(noProcess)); err == nil ||
		!strings.Contains(err.Error(), "kro-7.prom") || !strings.Contains(err.Error(), bench.MetricRSS) || !strings.Contains(err.Error(), bench.MetricCPU) {
		t.Errorf("a scrape without process metrics: %v", err)
	}
	if _, err := bench.ParseProcess("kro-8.prom", []byte("process_resident_memory_bytes one\n")); err == nil || !strings.Contains(err.Error(), "kro-8.prom") {
		t.Errorf("a malformed scrape: %v", err)
	}
}

func TestRealUsageFitsKroProcessMetrics(t *testing.T) {
	f := &fakeCluster{t: t}
	rep, err := bench.RunReal(context.Background(), realCfg(bench.Usage), example(t), realHooks(f), bench.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := rep.Usage
	if u == nil || u.Mode != "real" || len(u.Points) != 4 {
		t.Fatalf("usage: %+v", u)
	}
	// Smallest first, whatever the order asked; each size created and
	// deleted again, after the warm-up.
	var sizes []int
	for _, r := range f.runs[1:] {
		sizes = append(sizes, r.Workload.Instances)
		if !r.Workload.Delete || r.Workload.Update != 0 {
			t.Errorf("%d instances: workload %+v, want create then delete", r.Workload.Instances, r.Workload)
		}
	}
	if fmt.Sprint(sizes) != "[100 200 500 1000]" || f.runs[0].Workload.Instances != 5 {
		t.Errorf("runs of %d (warm-up) then %v", f.runs[0].Workload.Instances, sizes)
	}
	p := u.Points[0]
	// webapp: an instance, its ConfigMap, Deployment, Service and Ingress... as simulated: 4 objects.
	if p.Instances != 100 || p.Resources != 400 || p.PeakBytes != 50110000 || p.RSSBeforeBytes != 41200000 || p.CPUSeconds != 0.37 {
		t.Errorf("point of 100: %+v", p)
	}
	if p.Converge != 10 || math.Abs(p.CPUPercent-3.7) > 1e-9 {
		t.Errorf("create phase %v s, CPU %v%%; want 10 s, 3.7%%", p.Converge, p.CPUPercent)
	}
	// The least-squares line through the four scrapes (computed apart):
	// 44.997 MB + 12.0015 KB per resource, R² 0.99966.
	if math.Abs(u.Memory.Base-44997244.898) > 1 || math.Abs(u.Memory.Slope-12001.5306) > 1e-3 || math.Abs(u.Memory.R2-0.999658) > 1e-6 {
		t.Errorf("memory fit %+v", u.Memory)
	}
	want := []float64{312142.857, -488469.388, 219693.878, -43367.347}
	sum := 0.0
	for i, p := range u.Points {
		sum += p.MemResidual
		if math.Abs(p.MemResidual-want[i]) > 0.01 {
			t.Errorf("%d instances: residual %v, want %v", p.Instances, p.MemResidual, want[i])
		}
	}
	if math.Abs(sum) > 0.01 || u.CPU.Slope <= 0 || u.CPU.R2 <= 0.99 {
		t.Errorf("residuals sum to %v; CPU fit %+v", sum, u.CPU)
	}
	tables := string(bench.Tables(rep))
	for _, s := range []string{"real cluster: kro's process metrics", "| memory, krosim (real) | 45 MB | 12 KB | 0.9997 |", "| memory, published | 119 MB | ~500 KB |"} {
		if !strings.Contains(tables, s) {
			t.Errorf("tables.md lacks %q:\n%s", s, tables)
		}
	}
}

func TestRealCRUDRepeatsAndFlagsALoadedHost(t *testing.T) {
	f := &fakeCluster{t: t}
	cfg := realCfg(bench.CRUD)
	// The warm-up starts on a loaded host (not measured: no flag), then the
	// second measured run does.
	rep, err := bench.RunReal(context.Background(), cfg, example(t), realHooks(f, 64, 0.1, 64, 0.2), bench.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.runs) != 1+cfg.Count || f.runs[0].Workload.Instances != cfg.Warmup {
		t.Fatalf("%d runs, the first of %d instances; want a warm-up of %d then %d", len(f.runs), f.runs[0].Workload.Instances, cfg.Warmup, cfg.Count)
	}
	for i, r := range f.runs[1:] {
		if r.Seed != uint64(i+1) || r.Workload.Instances != cfg.Instances || r.Workload.Update != 1 || !r.Workload.Delete {
			t.Errorf("run %d: seed %d, workload %+v", i+1, r.Seed, r.Workload)
		}
	}
	b, ok := findB(rep.Benchmarks, bench.OpCreate)
	if !ok || len(b.Throughput.Runs) != cfg.Count || math.Abs(b.Throughput.Median-50/9.761742) > 1e-5 {
		t.Fatalf("create: %+v", b)
	}
	if !b.Throughput.Noisy || !strings.Contains(b.Throughput.Warning, "run 3 (load 64") || strings.Contains(b.Throughput.Warning, "run 1 ") {
		t.Errorf("create: noisy %v, %q; want run 3 flagged, the warm-up not", b.Throughput.Noisy, b.Throughput.Warning)
	}
	if len(rep.Host.Load) != 4 || !rep.Host.Load[0].Loaded || rep.Host.Load[1].Loaded {
		t.Errorf("host load: %+v", rep.Host.Load)
	}
	if tables := string(bench.Tables(rep)); !strings.Contains(tables, "Noisy (*)") || !strings.Contains(tables, "loaded host") {
		t.Errorf("tables.md does not flag the loaded run:\n%s", tables)
	}
}

func TestRealStopKeepsWhatFinished(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	f := &fakeCluster{t: t, stopAfter: 3}
	f.cancel = func() { cancel(errInterrupted) }
	opts := bench.Options{Stop: func() error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}}
	rep, err := bench.RunReal(ctx, realCfg(bench.CRUD, bench.Usage), example(t), realHooks(f), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete || !strings.Contains(rep.Incomplete, "crud suite") || !strings.Contains(rep.Incomplete, "interrupted") {
		t.Errorf("complete %v, %q", rep.Complete, rep.Incomplete)
	}
	// The warm-up and two measured runs finished: both are kept, usage never ran.
	b, ok := findB(rep.Benchmarks, bench.OpCreate)
	if !ok || len(b.Throughput.Runs) != 2 || rep.Usage != nil {
		t.Errorf("create %+v, usage %+v", b, rep.Usage)
	}
}

func TestRealFailsClearlyWhenTheClusterIsUnreachable(t *testing.T) {
	kc := "../../testdata/realapi/unreachable.kubeconfig" // nothing listens there
	f := &fakeCluster{t: t}
	rl := realHooks(f)
	rl.Ping, rl.Cluster.Kubeconfig = nil, cluster.Kubeconfig{Path: kc} // the real check
	rep, err := bench.RunReal(context.Background(), realCfg(bench.CRUD), example(t), rl, bench.Options{})
	if err == nil || rep != nil || len(f.runs) > 0 {
		t.Fatalf("report %v, %d runs, error %v; want an error and nothing run", rep, len(f.runs), err)
	}
	for _, s := range []string{"unreachable", "make realapi-up", "API server", "127.0.0.1:1"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q: %v", s, err)
		}
	}
	if _, err := bench.RunReal(context.Background(), realCfg(bench.CEL), example(t), realHooks(f), bench.Options{}); err == nil || !strings.Contains(err.Error(), "simulation only") {
		t.Errorf("the cel suite on a real cluster: %v", err)
	}
}
