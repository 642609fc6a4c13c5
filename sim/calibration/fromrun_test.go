package calibration

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
)

// measured is where make fidelity's real runs are kept.
const measured = "../../testdata/realapi/measured"

var (
	w4     = filepath.Join(measured, "calibration-w4")
	w4n500 = filepath.Join(measured, "calibration-w4-n500")
)

// fidelityRGDs are the RGDs of the measured runs.
func fidelityRGDs(t *testing.T) []*model.RGD {
	t.Helper()
	rgds, err := model.LoadFile("../../testdata/realapi/fidelity-rgd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return rgds
}

// micro is the target the measured runs are calibrated from (calibrate
// --kubeconfig on the harness), with serverCPUs processors serving requests.
func micro(t *testing.T, serverCPUs int) *target.Target {
	t.Helper()
	base, err := target.Lookup(filepath.Join(measured, "target-micro.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base = base.Clone()
	base.Server.CPUs = serverCPUs
	return base
}

// fittedW4 is FromRuns of the 4-worker runs on the harness's 2 CPUs, as
// make fidelity calibrates them, fitted once for the tests that read it: it
// simulates the runs 24 times.
var fittedW4 struct {
	once   sync.Once
	t      *target.Target
	report []string
	err    error
}

func fitW4(t *testing.T) (*target.Target, []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("fitting a target to the measured runs simulates them 24 times")
	}
	base, rgds := micro(t, 2), fidelityRGDs(t)
	fittedW4.once.Do(func() {
		fittedW4.t, fittedW4.report, fittedW4.err = FromRuns([]string{w4, w4n500}, base, rgds)
	})
	if fittedW4.err != nil {
		t.Fatal(fittedW4.err)
	}
	return fittedW4.t, fittedW4.report
}

// TestFromRunsFitsTheMeasuredRuns checks the target fitted to the 4-worker
// runs: a latency for every verb kro used, work growing with the objects
// stored, the run's workers, no readiness delays, and the create phase,
// simulated again, converging as the run did. The bar is make fidelity's,
// 15% of the real converge time (TestSimulationReproducesMeasuredKro in
// cmd/cli; 25% is for comparing with another single run, and this is the
// run the target was fitted to).
func TestFromRunsFitsTheMeasuredRuns(t *testing.T) {
	got, report := fitW4(t)
	r, err := readRun(w4)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []verb.Verb{verb.Get, verb.List, verb.Patch, verb.UpdateStatus} { // what kro requested in the create phase
		l := got.Latency[v]
		if !(0 < l.P50 && l.P50 <= l.P95 && l.P95 <= l.P99) {
			t.Errorf("%s latency %+v: want 0 < p50 <= p95 <= p99", v, l)
		}
		if !strings.Contains(strings.Join(report, "\n"), string(v)+" mean ") {
			t.Errorf("the report has no line for %s:\n%s", v, strings.Join(report, "\n"))
		}
	}
	if s := got.Server.ObjectSlowdown; !(s > 0) {
		t.Errorf("server.object_slowdown %v from runs of 200 and 500 instances, want > 0", s)
	}
	if w := got.Controller.Workers; w != 4 {
		t.Errorf("controller.workers %d, want the run's 4", w)
	}
	if len(got.Readiness) != 0 {
		t.Errorf("readiness %v, want none: the harness's stand-ins are ready when they exist", got.Readiness)
	}
	sr, err := sim.Run(r.createPhase(got), fidelityRGDs(t), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := r.res.Real.Phases[0].Seconds
	if sr.Summary.ConvergeSeconds == nil {
		t.Fatalf("the simulated create phase never converged (real: %.2fs)", want)
	}
	if c := *sr.Summary.ConvergeSeconds; math.Abs(c-want) > 0.15*want {
		t.Errorf("the simulated create phase converged in %.2fs, the real one in %.2fs: more than 15%% apart", c, want)
	}
}

// TestFromRunsMakesTheCommittedTarget wants the target make fidelity
// committed for 4 workers (calibrate --from, which adds the name and a
// description ending in the report) from the package alone.
func TestFromRunsMakesTheCommittedTarget(t *testing.T) {
	got, report := fitW4(t)
	path := filepath.Join(measured, "target-w4.yaml")
	committed, err := target.Lookup(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(committed.Description, strings.Join(report, "; ")) {
		t.Errorf("%s's description lacks the report:\n%s", path, strings.Join(report, "; "))
	}
	got = got.Clone()
	got.Name, got.Description = committed.Name, committed.Description
	gy, err := got.YAML()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gy, raw) {
		t.Errorf("FromRuns no longer makes %s (go test ./cmd/cli -run Measured -update rewrites it):\n%s", path, gy)
	}
}

// simulatedRun writes a simulation's results.json to a directory of its own.
func simulatedRun(t *testing.T) string {
	t.Helper()
	base := micro(t, 0)
	cfg := result.Config{Target: base, Seed: 1, MaxTime: target.Duration(time.Hour)}
	cfg.Workload.Instances, cfg.Workload.Arrival, cfg.Workload.Namespace = 5, "all", "krosim-*"
	r, err := sim.Run(cfg, fidelityRGDs(t), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := result.Encode(&r.Result)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, result.File), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFromRunsRefuses(t *testing.T) {
	// Without server.cpus the fit simulates each run 3 times, not 8.
	base, rgds := micro(t, 0), fidelityRGDs(t)
	simulated := simulatedRun(t)
	for _, tt := range []struct {
		name string
		dirs []string
		want string
	}{
		{"no run", nil, "one run, or two of different sizes; got 0"},
		{"three runs", []string{w4, w4n500, w4}, "one run, or two of different sizes; got 3"},
		{"a simulation", []string{simulated}, simulated + ` is not a real run (config.mode "")`},
		{"a simulation second", []string{w4, simulated}, simulated + ` is not a real run`},
		{"no run there", []string{filepath.Join(measured, "nothing")}, "no such file"},
		{"no scrapes", []string{filepath.Join(measured, "w4-n50-r1")}, "apiserver-0.prom"},
		{"the same size", []string{w4, w4}, w4 + " stored no more objects than " + w4},
		{"the larger first", []string{w4n500, w4}, w4 + " stored no more objects than " + w4n500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && len(tt.dirs) == 2 && tt.dirs[1] != simulated {
				t.Skip("fits both runs before comparing their sizes")
			}
			got, _, err := FromRuns(tt.dirs, base, rgds)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FromRuns(%v) = %v, %v; want an error saying %q", tt.dirs, got != nil, err, tt.want)
			}
			if strings.Contains(tt.want, "stored no more") && !strings.HasSuffix(err.Error(), "the second run must be the larger") {
				t.Errorf("%v does not say which run must be the larger", err)
			}
		})
	}
}

func TestObjectSlowdown(t *testing.T) {
	ms := func(x float64) time.Duration { return time.Duration(x * 1e6) }
	small := fitted{stored: 1000, calls: map[verb.Verb]int{"get": 100, "patch": 100},
		work: map[verb.Verb]time.Duration{"get": ms(2), "patch": ms(4), "list": ms(1)}}
	for _, tt := range []struct {
		name                string
		large               fitted
		wantRatio, wantSlow float64
	}{
		// 1.3 everywhere: (1 + 3000 s) / (1 + 1000 s) = 1.3, s = 0.3/1700.
		{"grows", fitted{stored: 3000, calls: map[verb.Verb]int{"get": 300, "patch": 100},
			work: map[verb.Verb]time.Duration{"get": ms(2.6), "patch": ms(5.2)}}, 1.3, 0.3 / 1700},
		// Weighted by the larger run's requests: (3 * 1.5 + 1 * 1.1) / 4.
		{"by requests", fitted{stored: 3000, calls: map[verb.Verb]int{"get": 300, "patch": 100},
			work: map[verb.Verb]time.Duration{"get": ms(3), "patch": ms(4.4)}}, 1.4, 0.4 / 1600},
		// Only verbs with work in both runs and requests in the larger count:
		// update was not measured in the smaller, patch not requested in the larger.
		{"verbs of both", fitted{stored: 3000, calls: map[verb.Verb]int{"get": 300, "update": 50},
			work: map[verb.Verb]time.Duration{"get": ms(2.6), "patch": ms(40), "update": ms(3)}}, 1.3, 0.3 / 1700},
		{"no growth", fitted{stored: 3000, calls: map[verb.Verb]int{"get": 300},
			work: map[verb.Verb]time.Duration{"get": ms(2)}}, 1, 0},
		{"shrinks", fitted{stored: 3000, calls: map[verb.Verb]int{"get": 300},
			work: map[verb.Verb]time.Duration{"get": ms(1.5)}}, 0.75, 0},
		{"nothing in common", fitted{stored: 3000, calls: map[verb.Verb]int{"create": 300},
			work: map[verb.Verb]time.Duration{"create": ms(1.5)}}, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			slow, ratio := objectSlowdown(small, tt.large)
			if math.Abs(ratio-tt.wantRatio) > 1e-9 || math.Abs(slow-tt.wantSlow) > 1e-12 {
				t.Errorf("objectSlowdown = %g, ratio %g; want %g, ratio %g", slow, ratio, tt.wantSlow, tt.wantRatio)
			}
			if slow > 0 { // the model the slowdown is of gives the ratio back
				if back := (1 + slow*tt.large.stored) / (1 + slow*small.stored); math.Abs(back-ratio) > 1e-9 {
					t.Errorf("work(%g)/work(%g) = %g with slowdown %g, want %g", tt.large.stored, small.stored, back, slow, ratio)
				}
			}
		})
	}
}
