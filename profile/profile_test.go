package profile

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	pprofile "github.com/google/pprof/profile"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/profile/flame"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden/profile")

const golden = "../testdata/golden/profile"

// scenario is a fixed small run.
type scenario struct {
	name      string
	rgd       string
	instances int
	qps       float64 // what-if client limit, 0 for none
	workers   int     // 0: the target's
	vcpus     int     // 0: the target's
	delete    bool
	// reconcile is kro's own CPU per reconcile that resolves the graph
	// (cost.reconcile_ns), 0: the target's.
	reconcile time.Duration
}

var scenarios = []scenario{
	{name: "webapp-5", rgd: "webapp.yaml", instances: 5},
	// Throttled, short of vCPUs and deleting: throttle_wait, cpu_wait (four
	// workers' reconciles of 300 ms of CPU on one vCPU) and a delete pass.
	{name: "chain-12-qps5-4workers-1vcpu-delete", rgd: "chain.yaml", instances: 12, qps: 5, workers: 4, vcpus: 1, delete: true, reconcile: 300 * time.Millisecond},
	{name: "multi-4", rgd: "multi.yaml", instances: 4},
}

func (s scenario) run(t testing.TB) *sim.Result {
	t.Helper()
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	tg = tg.Clone()
	if s.qps > 0 {
		tg.Client.QPS, tg.Client.Burst = s.qps, int(s.qps)
	}
	if s.workers > 0 {
		tg.Controller.Workers = s.workers
	}
	if s.vcpus > 0 {
		tg.VCPUs = s.vcpus
	}
	if s.reconcile > 0 {
		tg.Cost.ReconcileNS = float64(s.reconcile)
	}
	file := filepath.Join("..", "testdata", "rgd", s.rgd)
	rgds, err := model.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	wl := workload.Default(s.instances)
	wl.Delete = s.delete
	cfg := result.Config{RGDFiles: []string{"testdata/rgd/" + s.rgd}, Target: tg, Workload: wl, Seed: 1, MaxTime: target.Duration(4 * time.Hour)}
	res, err := sim.Run(cfg, rgds, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete {
		t.Fatalf("run incomplete: %s", res.Incomplete)
	}
	return res
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(golden, name)
	if *update {
		if err := os.MkdirAll(golden, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./profile -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./profile -update rewrites it)\n%s", name, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}

func TestGolden(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := s.run(t)
			p := Wall(res)
			if err := p.CheckValid(); err != nil {
				t.Fatalf("CheckValid: %v", err)
			}
			g, err := flame.New(p, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, s.name+".folded", g.Folded())
			checkGolden(t, s.name+".attribution.txt", []byte(Attribute(res, 10).Text()))
		})
	}
}

// TestWallAccountsForThreadTime checks the profile against the threads'
// own accounting: every busy phase of every worker, and the RGD controller.
func TestWallAccountsForThreadTime(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := s.run(t)
			var want, got [span.NumPhases]time.Duration
			for _, th := range res.Threads {
				for p, d := range th.By {
					want[p] += d
				}
			}
			for p, d := range res.RGDThread.By {
				want[p] += d
			}
			p := Wall(res)
			phases := map[string]span.Phase{}
			for _, ph := range span.Phases() {
				phases[ph.String()] = ph
			}
			var queue int64
			for _, smp := range p.Sample {
				ph := smp.Label[LabelPhase][0]
				if ph == SampleQueueWait {
					queue += smp.Value[1]
					continue
				}
				got[phases[ph]] += time.Duration(smp.Value[0])
			}
			if got[span.Idle] != 0 {
				t.Errorf("idle time is sampled: %v", got[span.Idle])
			}
			for _, ph := range span.Phases() {
				if ph == span.Idle {
					continue
				}
				diff := (got[ph] - want[ph]).Abs()
				if diff > want[ph]/1000+time.Millisecond {
					t.Errorf("%s: profile %v, threads %v", ph, got[ph], want[ph])
				}
			}
			if time.Duration(queue) != res.QueueWait || res.QueueWait <= 0 {
				t.Errorf("queue_wait: profile %v, result %v", time.Duration(queue), res.QueueWait)
			}
		})
	}
}

func TestWallLabelsAndIDs(t *testing.T) {
	res := scenarios[1].run(t)
	p := Wall(res)
	if len(p.SampleType) != 2 || p.SampleType[0].Type != "wall" || p.SampleType[0].Unit != "nanoseconds" || p.DefaultSampleType != "wall" {
		t.Errorf("sample types %v, default %q; want wall/nanoseconds first and default", p.SampleType, p.DefaultSampleType)
	}
	for i, f := range p.Function {
		if f.ID != uint64(i+1) || p.Location[i].ID != f.ID {
			t.Fatalf("function %d has ID %d, location ID %d: IDs are not dense", i, f.ID, p.Location[i].ID)
		}
		if i > 0 && p.Function[i-1].Name > f.Name {
			t.Errorf("functions not sorted: %q before %q", p.Function[i-1].Name, f.Name)
		}
	}
	seen := map[string]bool{}
	for _, s := range p.Sample {
		for _, k := range []string{LabelPhase, LabelThread} {
			if len(s.Label[k]) != 1 {
				t.Fatalf("sample without %s label: %v", k, s.Label)
			}
		}
		ph := s.Label[LabelPhase][0]
		seen[ph] = true
		leaf := s.Location[0].Line[0].Function.Name
		if ph == "api_wait" || ph == "throttle_wait" {
			if v := s.Label[LabelVerb]; len(v) != 1 || v[0] != strings.TrimSuffix(leaf, " watch-cache wait") {
				t.Errorf("%s sample %q has verb label %v", ph, leaf, v)
			}
		}
		if s.Label[LabelThread][0] == "worker" && (len(s.Label[LabelRGD]) != 1 || len(s.Label[LabelPass]) != 1) {
			t.Errorf("worker sample %q lacks rgd or pass label: %v", leaf, s.Label)
		}
	}
	for _, ph := range []string{"compile", "eval", "traversal", "api_wait", "throttle_wait", "cpu_wait", "other", "queue_wait"} {
		if !seen[ph] {
			t.Errorf("no sample in phase %s", ph)
		}
	}
}

// TestEncodeDeterministic runs the same scenario twice: the same bytes,
// and they parse back into a valid profile.
func TestEncodeDeterministic(t *testing.T) {
	s := scenarios[1]
	a, err := Encode(Wall(s.run(t)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(Wall(s.run(t)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two runs of the same config encode to different bytes")
	}
	p, err := pprofile.ParseData(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if a[0] != 0x1f || a[1] != 0x8b {
		t.Errorf("not gzip: % x", a[:2])
	}
}

func TestFrames(t *testing.T) {
	tests := []struct {
		name  string
		stack span.Stack
		want  string
	}{
		{"instance-level work", span.Stack{Thread: "worker", RGD: "a.kro.run", Pass: "1", Phase: span.APIWait, Detail: span.Detail{Verb: verb.Get}},
			"worker;a.kro.run;reconcile #1;(instance);api_wait;get"},
		{"resource work", span.Stack{Thread: "worker", RGD: "a.kro.run", Pass: "5+", Resource: "db", Phase: span.Eval, Detail: span.Detail{Expr: "${x}"}},
			"worker;a.kro.run;reconcile #5+;db;eval;${x}"},
		{"delete pass", span.Stack{Thread: "worker", RGD: "a.kro.run", Pass: "delete", Resource: "db", Phase: span.APIWait, Detail: span.Detail{Verb: verb.Delete}},
			"worker;a.kro.run;delete reconcile;db;api_wait;delete"},
		{"graph build", span.Stack{Thread: "rgd-controller", RGD: "a.kro.run", Phase: span.Compile, Detail: span.Detail{Step: "graph build"}},
			"rgd-controller;a.kro.run;compile;graph build"},
		{"no rgd, no detail", span.Stack{Thread: "worker", Pass: "1", Phase: span.Other},
			"worker;(unknown rgd);reconcile #1;(instance);other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			for _, f := range Frames(tt.stack) {
				names = append(names, f.Name)
			}
			if got := strings.Join(names, ";"); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestByLabel(t *testing.T) {
	fn := &pprofile.Function{ID: 1, Name: "f"}
	loc := &pprofile.Location{ID: 1, Line: []pprofile.Line{{Function: fn}}}
	p := &pprofile.Profile{
		SampleType: []*pprofile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*pprofile.Sample{
			{Location: []*pprofile.Location{loc}, Value: []int64{1, 30}, Label: map[string][]string{"phase": {"eval"}}},
			{Location: []*pprofile.Location{loc}, Value: []int64{1, 10}, Label: map[string][]string{"phase": {"api"}}},
			{Location: []*pprofile.Location{loc}, Value: []int64{1, 30}, Label: map[string][]string{"phase": {"sim"}}},
			{Location: []*pprofile.Location{loc}, Value: []int64{1, 20}},
			{Location: []*pprofile.Location{loc}, Value: []int64{1, 10}, Label: map[string][]string{"phase": {"eval"}}},
		},
		Location: []*pprofile.Location{loc}, Function: []*pprofile.Function{fn},
	}
	got := ByLabel(p, "phase", 1)
	want := []Share{{"eval", 40, 0.4}, {"sim", 30, 0.3}, {"(none)", 20, 0.2}, {"api", 10, 0.1}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Value != want[i].Value || got[i].Total != want[i].Total || got[i].Fraction != want[i].Fraction {
			t.Errorf("share %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
