package study

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/target"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const chain = "../../testdata/rgd/chain.yaml"

// smallStudy is 40 instances of the five-deep chain with every API call ten
// times slower than measured, so one worker is busy enough to bind.
func smallStudy() *Study {
	s := &Study{RGDs: []string{chain}, Dimensions: map[string][]float64{
		QPS: {5, 50}, Workers: {1, 2}, LatencyScale: {10}}}
	s.Workload.Instances = 40
	s.SetDefaults()
	return s
}

func loadChain(t *testing.T) []*model.RGD {
	t.Helper()
	rgds, err := model.LoadFile(chain)
	if err != nil {
		t.Fatal(err)
	}
	return rgds
}

func TestSweepFindsWhatBinds(t *testing.T) {
	sw, err := Run(context.Background(), smallStudy(), loadChain(t), Options{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !sw.Complete || len(sw.Points) != 4 || len(sw.Groups) != 4 {
		t.Fatalf("complete %v, %d points, %d groups; want true, 4, 4", sw.Complete, len(sw.Points), len(sw.Groups))
	}
	conv := map[[2]float64]float64{}
	for _, g := range sw.Groups {
		if g.ConvergeSeconds == nil {
			t.Fatalf("qps=%g workers=%g did not converge", g.Params[QPS], g.Params[Workers])
		}
		conv[[2]float64{g.Params[QPS], g.Params[Workers]}] = g.ConvergeSeconds.Mean
	}
	for _, r := range sw.Points {
		if r.Params[QPS] != 5 {
			continue
		}
		if r.Diagnosis.Constraint != ClientQPS || r.ThrottleShare < 0.5 {
			t.Errorf("qps=5 workers=%g: %s binds, throttle share %.2f; want client-qps over half the worker time (%s)",
				r.Params[Workers], r.Diagnosis.Constraint, r.ThrottleShare, r.Diagnosis.Evidence)
		}
	}
	workersBound := 0
	for _, r := range sw.Points {
		if r.Diagnosis.Constraint != WorkerBound || r.Params[Workers] != 1 {
			continue
		}
		workersBound++
		q := r.Params[QPS]
		if one, two := conv[[2]float64{q, 1}], conv[[2]float64{q, 2}]; two >= one*0.95 {
			t.Errorf("qps=%g: workers bind at 1 worker (%s), but 2 workers converge in %.2fs vs %.2fs", q, r.Diagnosis.Evidence, two, one)
		}
	}
	if workersBound == 0 {
		t.Error("no point found workers binding; the study is meant to show one")
	}
	if last := sw.Recommendations[len(sw.Recommendations)-1]; last != WhatIfNote {
		t.Errorf("the last recommendation is %q, want the what-if note", last)
	}
	if !strings.Contains(strings.Join(sw.Recommendations, "\n"), "workers bind, not qps: add workers first") {
		t.Errorf("no recommendation says to add workers:\n%s", strings.Join(sw.Recommendations, "\n"))
	}
}

func TestParallelSweepEqualsSequential(t *testing.T) {
	rgds := loadChain(t)
	render := func(par int) (js, csv []byte) {
		sw, err := Run(context.Background(), smallStudy(), rgds, Options{Parallel: par})
		if err != nil {
			t.Fatal(err)
		}
		if js, err = sw.JSON(); err != nil {
			t.Fatal(err)
		}
		if csv, err = sw.CSV(); err != nil {
			t.Fatal(err)
		}
		return js, csv
	}
	seqJSON, seqCSV := render(1)
	parJSON, parCSV := render(4)
	if !bytes.Equal(seqJSON, parJSON) {
		t.Error("sweep.json differs between 1 and 4 parallel points")
	}
	if !bytes.Equal(seqCSV, parCSV) {
		t.Error("sweep.csv differs between 1 and 4 parallel points")
	}
}

func TestCancelledSweepKeepsFinishedPoints(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	sw, err := Run(ctx, smallStudy(), loadChain(t), Options{Parallel: 1, Progress: func(p Progress) {
		calls++
		if p.Total != 4 || p.Done != calls || p.Row == nil {
			t.Errorf("progress %+v after %d calls", p, calls)
		}
		cancel()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sw.Complete || len(sw.Points) != 1 || sw.PointsTotal != 4 || !strings.Contains(sw.Incomplete, "1 of 4 points") {
		t.Errorf("complete %v, %d of %d points, %q; want an incomplete sweep of 1 of 4 points", sw.Complete, len(sw.Points), sw.PointsTotal, sw.Incomplete)
	}
	if _, err := sw.JSON(); err != nil {
		t.Error(err)
	}
}

func TestRunRejectsBadStudies(t *testing.T) {
	s := smallStudy()
	s.Target = "no-such-target"
	if _, err := Run(context.Background(), s, loadChain(t), Options{}); err == nil || !strings.Contains(err.Error(), "no-such-target") {
		t.Errorf("unknown target: err = %v", err)
	}
	s = smallStudy()
	s.Dimensions[Workers] = []float64{0}
	if _, err := Run(context.Background(), s, loadChain(t), Options{}); err == nil {
		t.Error("workers=0: no error")
	}
}

// TestSummaryGolden renders a sweep of constructed rows, so the golden file
// tracks the report's format, not the simulator's numbers.
func TestSummaryGolden(t *testing.T) {
	s := &Study{RGDs: []string{"chain.yaml"}, Seeds: []uint64{1, 2},
		Dimensions: map[string][]float64{QPS: {5, 50, 0}, Workers: {1, 2}}}
	s.Workload.Instances = 2000
	s.SetDefaults()
	base, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	g := s.Grid()
	var rows []Row
	for _, p := range g.Points {
		q, w := p.Values[0], p.Values[1]
		conv := 400.0 / w // workers bind once qps is high enough
		d := Diagnosis{WorkerBound, "workers busy"}
		if q == 5 {
			conv, d = 4000, Diagnosis{ClientQPS, "throttled"}
		}
		conv += float64(p.Seed) // spread over seeds
		row := Row{Index: p.Index, Seed: p.Seed, Complete: true, Params: map[string]float64{QPS: q, Workers: w, Instances: 2000},
			ConvergeSeconds: &conv, Reconciles: 10000, APICalls: 100000, Diagnosis: d, values: p.Values,
			Shares: map[string]float64{"api_wait": 0.9, "idle": 0.1}}
		if q == 5 {
			row.ThrottleShare = 0.9
		}
		rows = append(rows, row)
	}
	sw := summarize(s, base, g, rows)
	sw.RGDNames = []string{"chains.kro.run"}
	var b bytes.Buffer
	if err := sw.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n-- sweep.csv --\n")
	csv, err := sw.CSV()
	if err != nil {
		t.Fatal(err)
	}
	b.Write(csv)
	golden := filepath.Join("testdata", "summary.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("summary differs from %s (go test -update to accept):\n%s", golden, got)
	}
	if !strings.Contains(b.String(), "raising qps above 50 buys nothing") {
		t.Error("the summary does not say that qps above 50 buys nothing")
	}
	// The table's header names each column once: the workers dimension and
	// the workers' utilization are different columns.
	head := strings.Split(b.String(), "\n")[2]
	seen := map[string]bool{}
	for _, col := range regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(head), -1) {
		if seen[col] {
			t.Errorf("the table has two columns named %q: %s", col, head)
		}
		seen[col] = true
	}
}

// TestQPSNoneSaysNoLimit checks that sweep.json writes qps none as client-go's
// -1 ("no limit"; its 0 means "the default, 5"), sweep.csv as none, and that
// the study inside sweep.json reads back as the same study.
func TestQPSNoneSaysNoLimit(t *testing.T) {
	s := &Study{RGDs: []string{chain}, Dimensions: map[string][]float64{QPS: {50, 0}}}
	s.Workload.Instances = 3
	s.SetDefaults()
	sw, err := Run(context.Background(), s, loadChain(t), Options{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	js, err := sw.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Study  json.RawMessage `json:"study"`
		Values [][]float64     `json:"values"`
		Points []struct {
			Params map[string]float64 `json:"params"`
		} `json:"points"`
		Groups []struct {
			Params map[string]float64 `json:"params"`
		} `json:"groups"`
		Knees []struct {
			Value   float64 `json:"value"`
			Loosest float64 `json:"loosest"`
		} `json:"knees"`
	}
	if err := json.Unmarshal(js, &out); err != nil {
		t.Fatal(err)
	}
	if want := [][]float64{{50, -1}}; !reflect.DeepEqual(out.Values, want) {
		t.Errorf("values %v, want %v", out.Values, want)
	}
	for i, p := range out.Points {
		if want := []float64{50, -1}[i]; p.Params[QPS] != want {
			t.Errorf("point %d: qps %g, want %g", i, p.Params[QPS], want)
		}
	}
	if q := out.Groups[1].Params[QPS]; q != -1 {
		t.Errorf("group 1: qps %g, want -1", q)
	}
	for _, k := range out.Knees {
		if k.Loosest != -1 {
			t.Errorf("knee's loosest qps %g, want -1", k.Loosest)
		}
	}
	back, err := Parse("sweep.json", out.Study)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Dimensions, s.Dimensions) {
		t.Errorf("the study read back from sweep.json varies %v, want %v", back.Dimensions, s.Dimensions)
	}
	if sw.Values[0][1] != 0 || sw.Points[1].Params[QPS] != 0 {
		t.Error("JSON changed the sweep it wrote")
	}
	csv, err := sw.CSV()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(csv), "\n")
	if !strings.HasPrefix(lines[1], "0,50,") || !strings.HasPrefix(lines[2], "1,none,") {
		t.Errorf("sweep.csv's qps column: %q, %q; want 50 and none", lines[1], lines[2])
	}
}
