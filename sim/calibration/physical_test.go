package calibration

import (
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
)

// TestProgressFitMatchesTheServersWaits: the progress delay's fit rounds
// find the delay at which the simulated LISTs wait as long in all as the
// server counted, here a made-up response of 100s + 3,000s per second of
// delay against 121s counted (7ms), and a phase whose waits the server did
// not count takes no part.
func TestProgressFitMatchesTheServersWaits(t *testing.T) {
	phases := []*cpuPhase{
		{realWaits: 2000, realWait: 50, counted: true},
		{realWaits: 2000, realWait: 71, counted: true},
		{}, // a delete phase of a run that counted the run's waits only
	}
	simulate := func(delay target.Duration) {
		x := delay.D().Seconds()
		phases[0].simWaits, phases[0].simWait = 2000, 40+1200*x
		phases[1].simWaits, phases[1].simWait = 2000, 60+1800*x
		phases[2].simWaits, phases[2].simWait = 9000, 1
	}
	var f progressFit
	var delay target.Duration
	var said string
	for range calibrationRounds {
		simulate(delay)
		said = f.step(&delay, phases)
	}
	if got := delay.D(); math.Abs(float64(got-7*time.Millisecond)) > float64(50*time.Microsecond) {
		t.Errorf("fitted progress delay %v, want 7ms", got)
	}
	if !strings.Contains(said, "waited 121.00s in all (4000 waits") {
		t.Errorf("the report does not give the server's count of the counted phases: %s", said)
	}
	if s := f.step(&delay, phases[2:]); s != "" || math.Abs(float64(delay.D()-7*time.Millisecond)) > float64(50*time.Microsecond) {
		t.Errorf("a phase without the server's count moved the delay to %v (%q)", delay.D(), s)
	}
}

// TestPhasesCountTheServersWaits: a phase has the server's count of its
// LISTs' waits from its own scrapes, or from the run's when the run had one
// phase; a delete phase of a run that counted only the run's has none.
func TestPhasesCountTheServersWaits(t *testing.T) {
	cpu := map[string]float64{"kro": 1, "apiserver": 2, "etcd": 1, "krosim": 0.5}
	newRun := func(phases ...result.Phase) *run {
		res := &result.Result{Real: &result.Real{Phases: phases}}
		res.API.WatchCacheWaits, res.API.WatchCacheWaitSeconds = 300, 9
		return &run{res: res}
	}
	create := result.Phase{Name: "create", CPUSeconds: cpu}
	counted := func(p result.Phase, n int, s float64) result.Phase {
		p.WatchCacheWaits, p.WatchCacheWaitSeconds = n, s
		return p
	}
	del := result.Phase{Name: "delete", CPUSeconds: cpu}
	for _, c := range []struct {
		name    string
		r       *run
		phase   int
		counted bool
		n, wait float64
	}{
		{"a run of one phase", newRun(create), 0, true, 300, 9},
		{"a phase's own count", newRun(counted(create, 100, 2), counted(del, 200, 7)), 1, true, 200, 7},
		{"a run counted as a whole", newRun(create, del), 1, false, 0, 0},
	} {
		p, err := readPhase("run", c.r, c.phase)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p.counted != c.counted || p.realWaits != c.n || p.realWait != c.wait {
			t.Errorf("%s: counted %v, %v waits of %vs; want %v, %v, %v", c.name, p.counted, p.realWaits, p.realWait, c.counted, c.n, c.wait)
		}
		if p.server != 3.5 || p.kro != 1 {
			t.Errorf("%s: server CPU %v, kro %v; want 3.5 and 1", c.name, p.server, p.kro)
		}
	}
	if _, err := readPhase("run", newRun(result.Phase{Name: "create", CPUSeconds: map[string]float64{"kro": 1}}), 0); err == nil ||
		!strings.Contains(err.Error(), "no CPU time of apiserver") {
		t.Errorf("a phase without the server's CPU time: %v", err)
	}
}

// TestPhaseActiveFromItsOwnStart: a phase's idle_seconds is read on the
// run's clock, from the create phase's start, so the delete phase was
// active from its own start (the create phase's idle plus the quiet
// period) until kro went idle, not since the create phase began.
func TestPhaseActiveFromItsOwnStart(t *testing.T) {
	cpu := map[string]float64{"kro": 1, "apiserver": 2, "etcd": 1}
	res := &result.Result{Real: &result.Real{Phases: []result.Phase{
		{Name: "create", Seconds: 3.5, IdleSeconds: 13.5, CPUSeconds: cpu},
		{Name: "delete", Seconds: 20, IdleSeconds: 39, CPUSeconds: cpu},
	}}}
	res.Config.Cluster = &result.Cluster{Quiet: 5}
	for i, want := range []float64{13.5, 20.5} {
		p, err := readPhase("run", &run{res: res}, i)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.active-want) > 1e-9 {
			t.Errorf("phase %d active %vs, want %vs", i, p.active, want)
		}
	}
	// A phase that settled after kro's last reconcile was active until it settled.
	res.Real.Phases[1].IdleSeconds = 30
	if p, _ := readPhase("run", &run{res: res}, 1); p.active != 20 {
		t.Errorf("a phase idle before it settled: active %vs, want 20s", p.active)
	}
}

// TestHostSpeedFitsHowCPUFollowsTheProbe: two RGDs run twice each, once on a
// fast host and once on one whose probe read twice as long, where the CPU
// per request grew 2^0.6 times: the elasticity is 0.6, the speed the median
// probe, and every phase's CPU moves to that speed. A run without a probe
// leaves the target without speed.
func TestHostSpeedFitsHowCPUFollowsTheProbe(t *testing.T) {
	mk := func(rgd string, probe, cpuPerRequest float64) cpuRun {
		r := &run{res: &result.Result{Config: result.Config{RGDFiles: []string{rgd}, Cluster: &result.Cluster{Workers: 4}}}}
		return cpuRun{run: r, phases: []cpuPhase{{name: rgd, requests: 1000, kro: 200 * cpuPerRequest, server: 800 * cpuPerRequest, probe: probe}}}
	}
	slow := math.Pow(2, 0.6)
	runs := []cpuRun{mk("a", 2000, 0.003), mk("a", 4000, 0.003*slow), mk("b", 2000, 0.005), mk("b", 4000, 0.005*slow), mk("c", 2500, 0.004)}
	s, note := hostSpeed(runs, 0)
	if s == nil {
		t.Fatalf("no speed: %s", note)
	}
	if s.Elasticity != 0.6 || s.ProbeUS != 2500 {
		t.Errorf("speed %+v, want elasticity 0.6 at the median probe 2500", *s)
	}
	if !strings.Contains(note, "(4 phases in 2 groups)") {
		t.Errorf("note %q, want it to count the repeated runs", note)
	}
	phases := samples(runs)
	atSpeed(phases, s)
	for _, ph := range phases[:2] {
		if got, want := (ph.kro+ph.server)/ph.requests, 0.003*math.Pow(1.25, 0.6); math.Abs(got/want-1) > 1e-9 {
			t.Errorf("%s at probe %g: %g CPU per request at the median probe, want %g", ph.name, ph.probe, got, want)
		}
	}
	// Given, the elasticity is used as it is, runs that repeat or not.
	if s, note := hostSpeed(runs[4:], 0.85); s == nil || s.Elasticity != 0.85 || s.ProbeUS != 2500 || !strings.Contains(note, "--speed-elasticity") {
		t.Errorf("one run with --speed-elasticity 0.85: speed %+v, note %q", s, note)
	}
	if s, _ := hostSpeed(runs[4:], 0); s != nil {
		t.Errorf("one run, no elasticity given: speed %+v, want none", s)
	}
	runs = append(runs, mk("d", 0, 0.004))
	if s, note := hostSpeed(runs, 0.85); s != nil || note != "" {
		t.Errorf("a run without a probe: speed %+v, note %q, want none", s, note)
	}
}

func TestHostSpeedPrefersTheQuietProbe(t *testing.T) {
	// Where every phase has a probe of its quiet end, calibration reads
	// those (here they carry how the CPU per request grew, the whole
	// phases' do not); where one phase lacks it, the whole phases'.
	mk := func(rgd string, probe, idle, cpuPerRequest float64) cpuRun {
		r := &run{res: &result.Result{Config: result.Config{RGDFiles: []string{rgd}, Cluster: &result.Cluster{Workers: 8}}}}
		return cpuRun{run: r, phases: []cpuPhase{{name: rgd, requests: 1000, kro: 200 * cpuPerRequest, server: 800 * cpuPerRequest, probe: probe, idleProbe: idle}}}
	}
	slow := math.Pow(1.5, 0.8)
	runs := func() []cpuRun {
		return []cpuRun{mk("a", 2300, 2000, 0.003), mk("a", 2300, 3000, 0.003*slow), mk("b", 2000, 2000, 0.005), mk("b", 2600, 3000, 0.005*slow)}
	}
	s, note := hostSpeed(runs(), 0)
	if s == nil || !s.Idle || s.Elasticity != 0.8 || s.ProbeUS != 2500 {
		t.Errorf("every phase with a quiet probe: speed %+v, want the quiet probes' (idle, elasticity 0.8, median 2500)", s)
	}
	if !strings.Contains(note, "quiet ends") {
		t.Errorf("note %q, want it to say the probes were read in the quiet ends", note)
	}
	rs := runs()
	rs[3].phases[0].idleProbe = 0 // a run from before the quiet probe
	if s, _ := hostSpeed(rs, 0.85); s == nil || s.Idle || s.ProbeUS != 2300 {
		t.Errorf("one phase without a quiet probe: speed %+v, want the whole phases' probes (median 2300, not idle)", s)
	}
}

// TestUserRequestsByPhase: the workload's own requests are its POSTs in the
// create phase and its DELETEs in the delete phase, over every resource;
// krosim's other requests (its watches) are not the workload's.
func TestUserRequestsByPhase(t *testing.T) {
	krosim := map[string]map[string]int{
		"apps":       {"POST": 100, "DELETE": 100, "LIST": 3, "WATCH": 2},
		"configmaps": {"POST": 1},
	}
	for _, tc := range []struct {
		phase string
		want  map[verb.Verb]float64
	}{
		{"create", map[verb.Verb]float64{verb.Create: 101}},
		{"delete", map[verb.Verb]float64{verb.Delete: 100}},
		{"update", map[verb.Verb]float64{}},
	} {
		if got := userRequests(krosim, tc.phase); !maps.Equal(got, tc.want) {
			t.Errorf("%s phase: %v, want %v", tc.phase, got, tc.want)
		}
	}
}

// TestFitLeavesTheEventsMeasured: the CPU of the writes' watch events is
// measured (base's cost.event_ns and server.event_cpu) and kept; the fits
// share out the rest, so phases made of known per-request, per-reconcile,
// per-wakeup and per-event costs give back the first three.
func TestFitLeavesTheEventsMeasured(t *testing.T) {
	const q, r, k, a, w = 0.5e-3, 1e-3, 0.2e-3, 1.5e-3, 1e-3 // seconds
	base, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	base = base.Clone()
	base.Server.CPUs = 2
	base.Server.EventCPU = target.Duration(50 * time.Microsecond)
	base.Cost.EventNS = 100e3
	for v, l := range base.Latency {
		l.CPU, l.CPUPerKiB = target.Duration(time.Millisecond), 0
		base.Latency[v] = l
	}
	var phases []*cpuPhase
	for _, p := range []struct{ requests, resolving, wakeups, events float64 }{
		{1000, 100, 500, 200}, {2000, 100, 800, 600}, {500, 0, 300, 100}, {3000, 400, 900, 300},
	} {
		phases = append(phases, &cpuPhase{calls: map[verb.Verb]float64{verb.Get: p.requests}, requests: p.requests,
			resolving: p.resolving, wakeups: p.wakeups, events: p.events,
			kro:    q*p.requests + r*p.resolving + k*p.wakeups + 100e-6*p.events,
			server: a*p.requests + w*p.wakeups + 50e-6*p.events})
	}
	tg := base.Clone()
	if _, err := fitCPU(tg, base, phases); err != nil {
		t.Fatal(err)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-3*want }
	if !near(tg.Cost.RequestNS, q*1e9) || !near(tg.Cost.ReconcileNS, r*1e9) || !near(tg.Latency[verb.Get].CPU.D().Seconds(), a) ||
		!near(tg.Server.WakeupCPU.D().Seconds(), k+w) {
		t.Errorf("fitted request_ns %.0f, reconcile_ns %.0f, get cpu %v, wakeup_cpu %v; want %.0f, %.0f, %v, %v",
			tg.Cost.RequestNS, tg.Cost.ReconcileNS, tg.Latency[verb.Get].CPU, tg.Server.WakeupCPU, q*1e9, r*1e9,
			time.Duration(a*1e9), time.Duration((k+w)*1e9))
	}
	if tg.Server.EventCPU != base.Server.EventCPU || tg.Cost.EventNS != base.Cost.EventNS {
		t.Errorf("the events' measured CPU moved: %v and %vns", tg.Server.EventCPU, tg.Cost.EventNS)
	}
}
