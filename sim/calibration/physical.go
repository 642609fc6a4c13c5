package calibration

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Physical derives a target for a host where the API server, etcd and kro
// share the processors (server.cpus, server.shared_cpus), from real runs of
// calibration RGDs, in physical terms that carry over to any RGD and any
// worker count rather than fitting one run's latency:
//   - kro's CPU per request (cost.request_ns) and per reconcile that
//     resolves the graph (cost.reconcile_ns): a least-squares fit of kro's
//     CPU time in each phase of each run (its create phase, and its delete
//     phase when it deleted) to the phase's requests and such reconciles
//     (a delete phase has none: kro deletes without resolving the graph),
//     so the runs should differ in requests per reconcile (one resource per
//     instance, and a chain of several);
//   - the server's CPU per request (latency.VERB.cpu): the API server's and
//     etcd's CPU time over the requests, shared out among the verbs as
//     base's latency.VERB.cpu are (krosim calibrate --kubeconfig --pid-dir
//     measures them one verb at a time), or evenly;
//   - each verb's latency: what kro saw in the run with the fewest workers
//     (the least contention) and, among those, the most requests, its work
//     fitted by simulating that run on those processors.
//
// The runs need the processes' CPU time (krosim run --kubeconfig --pid-dir,
// which the harness's environment sets). rgds loads a run's RGDs.
//
// Runs that probed their host (real.phases[].probe_us) are moved to one
// speed first (hostSpeed); elasticity, when not 0, is how CPU grows with
// the probe, instead of fitting it from runs that repeat one another.
func Physical(dirs []string, base *target.Target, rgds func(dir string) ([]*model.RGD, error), elasticity float64) (*target.Target, []string, error) {
	if len(dirs) < 2 {
		return nil, nil, fmt.Errorf("fit CPU from at least two runs of RGDs with different requests per reconcile; got %d", len(dirs))
	}
	if base.Server.CPUs == 0 {
		return nil, nil, fmt.Errorf("the base target has no server.cpus: give the host's processors (--server-cpus)")
	}
	runs, largest, err := readCPU(dirs)
	if err != nil {
		return nil, nil, err
	}
	phases := samples(runs)
	speed, speedNote := hostSpeed(runs, elasticity)
	atSpeed(phases, speed)
	slower := 1.0 // how much slower than speed the latency's run's host was
	if speed != nil {
		slower = math.Pow(largest.res.Real.Phases[0].SpeedProbe(speed.Idle)/speed.ProbeUS, speed.Elasticity)
	}
	t := base.Clone()
	report, err := fitCPU(t, base, phases)
	if err != nil {
		return nil, nil, err
	}
	gs, err := rgds(largest.dir)
	if err != nil {
		return nil, nil, err
	}
	lat, err := fitSharedLatency(t, base, largest, gs, slower)
	if err != nil {
		return nil, nil, err
	}
	// The CPU that falls with concurrency is the waking of the processes,
	// which the requests in flight together share (server.wakeup_cpu):
	// count each run's shares by simulating it with the target so far,
	// refit, and again, until the shares settle. Runs at one worker count
	// cannot tell it from the CPU per request; they keep the first guess.
	// The same rounds fit how long the watch cache's progress notifications
	// take (server.progress_delay) to the waits the server reported.
	several := severalWorkerCounts(runs)
	for i := range runs { // each run's RGDs, once for every round
		if runs[i].rgds, err = rgds(runs[i].dir); err != nil {
			return nil, nil, err
		}
	}
	var progress progressFit
	var waits string
	for range calibrationRounds {
		if err := simulateRuns(t, runs); err != nil {
			return nil, nil, err
		}
		delay := t.Server.ProgressDelay
		waits = progress.step(&delay, phases)
		if several {
			t = base.Clone()
			if report, err = fitCPU(t, base, phases); err != nil {
				return nil, nil, err
			}
		}
		t.Server.ProgressDelay = delay
		if lat, err = fitSharedLatency(t, base, largest, gs, slower); err != nil {
			return nil, nil, err
		}
	}
	if waits != "" {
		report = append(report, waits)
	}
	t.Speed = speed
	if speedNote != "" {
		report = append([]string{speedNote}, report...)
	}
	return t, append(report, lat...), nil
}

// hostSpeed is the speed of the host the runs' CPU is moved to, and says
// how it was found: the median of the phases' probes of their host, read
// in their quiet ends (real.phases[].idle_probe_us) when every phase has
// one, over the whole phases (probe_us) otherwise, which also read the
// runs' own load; and how the CPU per request grows with the probe between
// repeated runs (the same RGDs, workers and phase), as the probe to a power
// fitted by least squares on logs, each group about its means, unless given
// (elasticity > 0). Nil when a phase has no probe, or when no group has two
// and the elasticity is not given.
func hostSpeed(runs []cpuRun, elasticity float64) (*target.Speed, string) {
	idle := true
	for _, r := range runs {
		for _, ph := range r.phases {
			idle = idle && ph.idleProbe > 0
		}
	}
	groups := map[string][]*cpuPhase{}
	var probes []float64
	for i := range runs {
		r := &runs[i]
		for j := range r.phases {
			ph := &r.phases[j]
			if idle {
				ph.probe = ph.idleProbe
			}
			if ph.probe <= 0 { // runs from before the probe: fitted as measured
				return nil, ""
			}
			key := fmt.Sprint(r.run.res.Config.RGDFiles, r.run.res.Config.Cluster.Workers, j)
			groups[key] = append(groups[key], ph)
			probes = append(probes, ph.probe)
		}
	}
	var sxx, sxy float64
	var n, used int
	for _, key := range slices.Sorted(maps.Keys(groups)) {
		g := groups[key]
		if len(g) < 2 {
			continue
		}
		xs, ys := make([]float64, len(g)), make([]float64, len(g)) // log probe, log CPU per request
		for i, ph := range g {
			xs[i], ys[i] = math.Log(ph.probe), math.Log((ph.kro+ph.server)/ph.requests)
		}
		mx, my := stat.Mean(xs, nil), stat.Mean(ys, nil)
		for i := range xs {
			sxx, sxy = sxx+(xs[i]-mx)*(xs[i]-mx), sxy+(xs[i]-mx)*(ys[i]-my)
		}
		n, used = n+len(g), used+1
	}
	how := fmt.Sprintf("between repeated runs (%d phases in %d groups) the CPU per request grew as the probe to the power", n, used)
	switch {
	case elasticity > 0:
		how = "the CPU per request is taken to grow as the probe to the power (--speed-elasticity)"
	case sxx <= 0:
		return nil, "host speed: no two runs repeat one another with different probes of their host: the target has none, and the runs' CPU is fitted as measured"
	default:
		elasticity = min(max(sxy/sxx, 0), target.MaxElasticity)
	}
	s := &target.Speed{ProbeUS: math.Round(result.Median(probes)), Elasticity: math.Round(elasticity*1000) / 1000, Idle: idle}
	where := ""
	if idle {
		where = ", read in their quiet ends (speed.idle),"
	}
	return s, fmt.Sprintf("host speed: the phases' probes of their host%s took %.0f to %.0fus (median %.0fus, speed.probe_us); "+
		"%s %.3f (speed.elasticity); every phase's CPU and the latency are moved to the median probe before they are fitted",
		where, slices.Min(probes), slices.Max(probes), s.ProbeUS, how, s.Elasticity)
}

// atSpeed moves every phase's CPU to what it would have been on a host of
// speed s; nothing without one.
func atSpeed(phases []*cpuPhase, s *target.Speed) {
	if s == nil {
		return
	}
	for _, ph := range phases {
		f := math.Pow(s.ProbeUS/ph.probe, s.Elasticity)
		ph.kro, ph.server = ph.kro*f, ph.server*f
	}
}

// calibrationRounds is how many times Physical simulates the runs and
// refits: the shares of waking the server move by under 1% after the
// second; the progress delay settles within about 0.2ms by the eighth.
const calibrationRounds = 8

// severalWorkerCounts says whether the runs were taken at more than one
// worker count.
func severalWorkerCounts(runs []cpuRun) bool {
	for _, s := range runs[1:] {
		if s.run.res.Config.Cluster.Workers != runs[0].run.res.Config.Cluster.Workers {
			return true
		}
	}
	return false
}

// simulateRuns simulates each run with t at the run's worker count, its
// workload as it ran (create, then delete when it deleted), and keeps each
// phase's requests' shares of waking the server and its LISTs' waits for
// the watch cache.
func simulateRuns(t *target.Target, runs []cpuRun) error {
	for i := range runs {
		s := &runs[i]
		tt := t.Clone()
		tt.Controller.Workers = max(1, s.run.res.Config.Cluster.Workers)
		res, err := sim.Run(s.run.asRun(tt, len(s.phases) > 1), s.rgds, sim.Options{})
		if err != nil {
			return fmt.Errorf("%s: simulating it: %w", s.dir, err)
		}
		ends := res.PhaseEnds()
		if len(ends) < len(s.phases) {
			return fmt.Errorf("%s: simulated, %d of its %d phases ended: %s", s.dir, len(ends), len(s.phases), res.Incomplete)
		}
		var was sim.PhaseEnd
		for j := range s.phases {
			ph, e := &s.phases[j], ends[j]
			ph.wakeups = e.Wakeups - was.Wakeups
			ph.events = float64(e.Events - was.Events)
			for i := range ph.kib {
				ph.kib[i] = e.KiB[i] - was.KiB[i]
			}
			ph.simWaits, ph.simWait = float64(e.CacheWaits-was.CacheWaits), (e.CacheWait - was.CacheWait).Seconds()
			was = e
		}
	}
	return nil
}

// progressFit fits server.progress_delay so that the runs' simulated LISTs
// wait for the watch cache as long in all as the server reported (its
// apiserver_watch_cache_read_wait_seconds). The total wait grows about
// linearly with the delay, but each round's refit of the CPU moves it a
// little on its own: every step solves the least-squares line through all
// the rounds so far, which settles where a secant through the last two
// would chase that noise. The first step takes every wait to grow by the
// delay.
type progressFit struct {
	delays, waits []float64 // each round's delay and simulated total wait, seconds
}

// step moves delay toward the fit and says what the runs waited; it leaves
// delay alone when the runs have no waits to fit (only phases whose waits
// the server counted take part).
func (f *progressFit) step(delay *target.Duration, phases []*cpuPhase) string {
	var real, simulated, realN, simN float64
	for _, ph := range phases {
		if !ph.counted {
			continue
		}
		real += ph.realWait
		realN += ph.realWaits
		simulated += ph.simWait
		simN += ph.simWaits
	}
	if realN == 0 || simN == 0 {
		return ""
	}
	x := delay.D().Seconds()
	f.delays, f.waits = append(f.delays, x), append(f.waits, simulated)
	next := x + (real-simulated)/simN
	if a, b, ok := line(f.delays, f.waits); ok && b > 0 {
		next = (real - a) / b
	}
	*delay = target.Duration(time.Duration(max(0, next) * 1e9).Round(10 * time.Microsecond))
	return fmt.Sprintf("watch cache: the runs' LISTs waited %.2fs in all (%.0f waits, %.1fms each) by the server's count, "+
		"%.2fs (%.0f, %.1fms) simulated with a progress delay of %s; server.progress_delay %s",
		real, realN, 1e3*real/realN, simulated, simN, 1e3*simulated/simN, time.Duration(x*1e9).Round(10*time.Microsecond), delay.D())
}

// cpuRun is a calibration run and what each of its phases cost in CPU.
type cpuRun struct {
	dir    string
	run    *run
	rgds   []*model.RGD // its RGDs, loaded to simulate it
	phases []cpuPhase   // its create phase, then its delete phase when it deleted
}

// cpuPhase is what one phase of a calibration run cost in CPU: a sample
// of the fit.
type cpuPhase struct {
	name                 string // the run's directory and the phase
	calls                map[verb.Verb]float64
	requests, reconciles float64
	// resolving are the reconciles that resolved the graph: all of a
	// create phase's, none of a delete phase's (kro deletes an instance's
	// children without building its runtime or evaluating any CEL), which
	// cost.reconcile_ns charges for.
	resolving float64
	// users are the workload's own requests in the phase, krosim's creates
	// or deletes of the instances (and externals), by verb: the server
	// serves them as it serves kro's, and a simulation sends them so.
	users       map[verb.Verb]float64
	kro, server float64 // CPU seconds; server counts krosim's own too
	probe       float64 // the host's speed probe in the phase, microseconds (the quiet end's once hostSpeed chose those); 0: none
	idleProbe   float64 // the probe in the phase's quiet end; 0: none

	active  float64 // seconds from the phase's start until kro was last busy in it
	wakeups float64 // the requests' shares of waking the server, simulated; 0: not counted yet
	// events are the phase's writes, each a watch event whose CPU base
	// measured (server.event_cpu, cost.event_ns), simulated.
	events float64
	// kib are the sizes of the objects the requests read or wrote, by
	// verb.Index, simulated: what latency.VERB.cpu_per_kib charges for.
	kib [verb.Count]float64
	// realWaits and realWait are the LISTs' waits for the watch cache by
	// the server's count, how many and how long in all (seconds), when
	// counted; simWaits and simWait the simulated ones.
	realWaits, realWait float64
	counted             bool
	simWaits, simWait   float64
}

// served is every request the server served in the phase, kro's and the
// workload's.
func (s *cpuPhase) served() float64 {
	n := s.requests
	for _, u := range s.users {
		n += u
	}
	return n
}

// samples are the runs' phases, the fit's samples.
func samples(runs []cpuRun) []*cpuPhase {
	var out []*cpuPhase
	for i := range runs {
		for j := range runs[i].phases {
			out = append(out, &runs[i].phases[j])
		}
	}
	return out
}

// readCPU reads the runs' create and delete phases, and returns the one the
// latency is fitted to: the first with the fewest workers and, among those,
// the most requests in its create phase.
func readCPU(dirs []string) ([]cpuRun, *run, error) {
	var runs []cpuRun
	var largest *run
	most, fewest := -1.0, 0
	for _, dir := range dirs {
		r, err := readRun(dir)
		if err != nil {
			return nil, nil, err
		}
		s := cpuRun{dir: dir, run: r}
		// The create phase, and the delete phase of a run that went
		// straight on to it: a run with an update phase between is
		// simulated and fitted by its create phase only.
		n := 1
		if ph := r.res.Real.Phases; len(ph) == 2 && ph[1].Name == "delete" && r.res.Config.Workload.Delete {
			n = 2
		}
		for i := range n {
			p, err := readPhase(dir, r, i)
			if err != nil {
				return nil, nil, err
			}
			s.phases = append(s.phases, p)
		}
		runs = append(runs, s)
		w := max(1, r.res.Config.Cluster.Workers)
		if req := s.phases[0].requests; largest == nil || w < fewest || (w == fewest && req > most) {
			largest, most, fewest = r, req, w
		}
	}
	return runs, largest, nil
}

// readPhase reads run r's i-th phase.
func readPhase(dir string, r *run, i int) (cpuPhase, error) {
	ph := r.res.Real.Phases[i]
	cpu := ph.CPUSeconds
	for _, p := range []string{"kro", "apiserver", "etcd"} {
		if _, ok := cpu[p]; !ok {
			return cpuPhase{}, fmt.Errorf("%s: the %s phase has no CPU time of %s (real.phases[%d].cpu_seconds): run it with --pid-dir on the harness", dir, ph.Name, p, i)
		}
	}
	// krosim's own CPU in a real run (its watch of the instances, its
	// stand-in controller) takes the same processors as the server's,
	// in every run the target predicts: it is priced with the server's.
	s := cpuPhase{name: dir + " (" + ph.Name + ")", calls: map[verb.Verb]float64{}, reconciles: float64(ph.Reconciles),
		kro: cpu["kro"], server: cpu["apiserver"] + cpu["etcd"] + cpu["krosim"], active: max(ph.Seconds, ph.IdleSeconds-phaseStart(r, i)),
		probe: ph.ProbeMicros, idleProbe: ph.IdleProbeMicros}
	if ph.Name != "delete" {
		s.resolving = s.reconciles
	}
	for v, n := range ph.APICalls {
		s.calls[v] = float64(n)
		s.requests += float64(n)
	}
	s.users = userRequests(r.res.Real.Krosim, ph.Name)
	// The server's count of waits: the phase's own, or a run of one phase's.
	switch {
	case ph.WatchCacheWaits > 0:
		s.realWaits, s.realWait, s.counted = float64(ph.WatchCacheWaits), ph.WatchCacheWaitSeconds, true
	case len(r.res.Real.Phases) == 1:
		s.realWaits, s.realWait, s.counted = float64(r.res.API.WatchCacheWaits), r.res.API.WatchCacheWaitSeconds, true
	}
	return s, nil
}

// phaseStart is when run r's i-th phase began on the run's clock, which
// starts with the create phase and on which a phase's idle_seconds is
// read: a phase ends once kro has been idle for the quiet period after it
// settled (the last poll and scrape, a few tenths of a second, not
// counted).
func phaseStart(r *run, i int) float64 {
	var start, quiet float64
	if c := r.res.Config.Cluster; c != nil {
		quiet = c.Quiet
	}
	for _, prev := range r.res.Real.Phases[:i] {
		start += max(prev.Seconds, prev.IdleSeconds-start) + quiet
	}
	return start
}

// fitCPU sets t's CPU costs from the runs' phases and says what it fitted:
// kro: cpu = q requests + r reconciles that resolve the graph + k load; the server (the API server
// and etcd, and krosim's watching of the run, which shares their
// processors): cpu = a requests + b load, its requests the workload's
// own as well as kro's. The load term is what falls with
// concurrency: measured, a request costs a third less CPU with 4 workers
// than with 1. Once the runs' shares of waking the server are counted
// (simulateRuns) it is that waking (server.wakeup_cpu, k + b, shared by the
// requests in flight together); before, the seconds the run was active
// (server.active_cpu), a first guess to simulate the runs with.
// The server's per-request CPU is shared among the verbs as base's are,
// and so is its part per KiB of the requests' objects
// (latency.VERB.cpu_per_kib): one factor scales both.
func fitCPU(t, base *target.Target, phases []*cpuPhase) ([]string, error) {
	wake := phases[0].wakeups > 0 // counted (a run of requests has some)
	load := func(s *cpuPhase) float64 { return s.active }
	if wake {
		load = func(s *cpuPhase) float64 { return s.wakeups }
	}
	share := map[verb.Verb]float64{}
	for _, v := range verb.All {
		share[v] = 1
		if c := base.Latency[v].CPU; c > 0 {
			share[v] = float64(c)
		}
	}
	var weighted, n float64
	for _, s := range phases {
		for _, calls := range []map[verb.Verb]float64{s.calls, s.users} {
			for v, c := range calls {
				weighted += c * share[v]
				n += c
			}
		}
	}
	if weighted == 0 {
		return nil, fmt.Errorf("the runs made no requests")
	}
	// A request's server CPU is its verb's share, and base's
	// cpu_per_kib for every KiB of its object on top: served counts
	// requests of the mean share, so the objects' KiB count as the
	// requests of the mean share that would cost what they do.
	work := func(s *cpuPhase) float64 {
		var sized float64
		for i, v := range verb.All {
			sized += s.kib[i] * float64(base.Latency[v].CPUPerKiB)
		}
		return s.served() + sized*n/weighted
	}
	// The watch events' CPU is measured (base's server.event_cpu and
	// cost.event_ns, which the target keeps): the fits share out the rest.
	kroEvent, srvEvent := base.Cost.EventNS/1e9, base.Server.EventCPU.D().Seconds()
	kroFit := nonNegative(phases, func(s *cpuPhase) []float64 { return []float64{s.requests, s.resolving, load(s)} },
		func(s *cpuPhase) float64 { return s.kro - s.events*kroEvent })
	srvFit := nonNegative(phases, func(s *cpuPhase) []float64 { return []float64{work(s), load(s)} },
		func(s *cpuPhase) float64 { return s.server - s.events*srvEvent })
	perWeight := srvFit[0] * n / weighted

	t.Server.SharedCPUs = true
	t.Cost.RequestNS = math.Round(kroFit[0] * 1e9)
	t.Cost.ReconcileNS = math.Round(kroFit[1] * 1e9)
	loadTerm := fmt.Sprintf("%.3f processors while active", kroFit[2])
	srvLoad := fmt.Sprintf("%.3f processors while active", srvFit[1])
	total := fmt.Sprintf("server.active_cpu %.3f", kroFit[2]+srvFit[1])
	if wake {
		t.Server.WakeupCPU = target.Duration(time.Duration((kroFit[2] + srvFit[1]) * 1e9).Round(time.Microsecond))
		loadTerm = fmt.Sprintf("%.3fms per wakeup", kroFit[2]*1e3)
		srvLoad = fmt.Sprintf("%.3fms per wakeup", srvFit[1]*1e3)
		total = fmt.Sprintf("server.wakeup_cpu %s", t.Server.WakeupCPU.D())
	} else {
		t.Server.ActiveCPU = math.Round((kroFit[2]+srvFit[1])*1e4) / 1e4
	}
	var perVerb []string
	for _, v := range verb.All {
		l := t.Latency[v]
		l.CPU = target.Duration(time.Duration(share[v] * perWeight * 1e9).Round(time.Microsecond))
		l.CPUPerKiB = target.Duration(time.Duration(float64(base.Latency[v].CPUPerKiB) * perWeight * 1e9).Round(time.Microsecond))
		t.Latency[v] = l
		cpu := fmt.Sprintf("%s %.3fms", v, float64(l.CPU)/1e6)
		if l.CPUPerKiB > 0 {
			cpu += fmt.Sprintf(" + %.3fms per KiB", float64(l.CPUPerKiB)/1e6)
		}
		perVerb = append(perVerb, cpu)
	}
	events := ""
	if kroEvent > 0 || srvEvent > 0 {
		events = fmt.Sprintf("; besides, each write's watch event %.3fms of kro's and %.3fms of the server's, as measured (cost.event_ns, server.event_cpu)",
			kroEvent*1e3, srvEvent*1e3)
	}
	report := []string{fmt.Sprintf("kro's CPU: %.3fms per request, %.3fms per reconcile resolving the graph and %s; "+
		"the API server's, etcd's and krosim's watching: %.3fms per request and %s (%s in all; least squares over %d phases of the runs)%s",
		kroFit[0]*1e3, kroFit[1]*1e3, loadTerm, srvFit[0]*1e3, srvLoad, total, len(phases), events)}
	for _, s := range phases {
		fitK := kroFit[0]*s.requests + kroFit[1]*s.resolving + kroFit[2]*load(s) + s.events*kroEvent
		fitS := srvFit[0]*work(s) + srvFit[1]*load(s) + s.events*srvEvent
		wakeups := ""
		if wake {
			wakeups = fmt.Sprintf(" (%.0f wakeups, shared; %.0f writes)", s.wakeups, s.events)
		}
		report = append(report, fmt.Sprintf("%s: %.0f requests and %.0f of the workload's%s, %.0f reconciles in %.2fs; kro CPU %.2fs (fit %.2fs), API server, etcd and krosim CPU %.2fs (fit %.2fs)",
			s.name, s.requests, s.served()-s.requests, wakeups, s.reconciles, s.active, s.kro, fitK, s.server, fitS))
	}
	return append(report, "server CPU per request: "+strings.Join(perVerb, ", ")), nil
}

// fitSharedLatency sets t's latency to what kro saw in r, less kro's own
// CPU for each request (cost.request_ns, charged apart), its work fitted by
// simulating r on the shared processors, and says what it fitted. r's host
// was slower than t's speed by the factor slower (1: the same, or unknown):
// what kro saw is divided by it.
func fitSharedLatency(t, base *target.Target, r *run, gs []*model.RGD, slower float64) ([]string, error) {
	q := r.requests()
	want, lat := q.fitLatency(t, base)
	if slower != 1 {
		for v, m := range want {
			want[v] = time.Duration(float64(m) / slower)
			q.overhead[v] = time.Duration(float64(q.overhead[v]) / slower)
			l := t.Latency[v]
			l.P50, l.P95, l.P99 = scale(l.P50, 1/slower), scale(l.P95, 1/slower), scale(l.P99, 1/slower)
			t.Latency[v] = l
		}
	}
	kroCPU := time.Duration(t.Cost.RequestNS)
	for v, m := range want {
		cut := min(kroCPU, q.overhead[v], m/2)
		if cut <= 0 {
			continue
		}
		want[v] = m - cut
		f := float64(m-cut) / float64(m)
		l := t.Latency[v]
		l.P50, l.P95, l.P99 = scale(l.P50, f), scale(l.P95, f), scale(l.P99, f)
		t.Latency[v] = l
	}
	t.Readiness = map[string]target.Readiness{}
	t.Controller.Workers = max(1, r.res.Config.Cluster.Workers)
	realMean := r.meanReconcile()
	fit, err := fitWork(r.createPhase(t), gs, want)
	if err != nil {
		return nil, err
	}
	report := []string{fmt.Sprintf("latency from %s: %s", r.dir, strings.Join(lat, ", "))}
	report = append(report, fitReport(t, fit.fitted, realMean)...)
	return append(report, fmt.Sprintf("simulated create-phase reconcile %.2fms on average against %.2fms real", fit.reconcile*1e3, realMean*1e3)), nil
}

// line fits y = a + b x by least squares; ok is false while every x is
// the same.
func line(xs, ys []float64) (a, b float64, ok bool) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i, x := range xs {
		sx, sy, sxx, sxy = sx+x, sy+ys[i], sxx+x*x, sxy+x*ys[i]
	}
	d := n*sxx - sx*sx
	if d <= 1e-12*n*n {
		return 0, 0, false
	}
	b = (n*sxy - sx*sy) / d
	return (sy - b*sx) / n, b, true
}

// nonNegative fits y = x . c by least squares with every c >= 0: a term
// whose coefficient comes out negative is dropped and the rest refitted.
func nonNegative[S any](samples []S, x func(S) []float64, y func(S) float64) []float64 {
	k := len(x(samples[0]))
	use := make([]bool, k)
	for i := range use {
		use[i] = true
	}
	for {
		var cols []int
		for i, u := range use {
			if u {
				cols = append(cols, i)
			}
		}
		out := make([]float64, k)
		if len(cols) == 0 {
			return out
		}
		a := mat.NewDense(len(samples), len(cols), nil)
		b := mat.NewVecDense(len(samples), nil)
		for r, s := range samples {
			xs := x(s)
			for c, i := range cols {
				a.Set(r, c, xs[i])
			}
			b.SetVec(r, y(s))
		}
		var sol mat.VecDense
		if err := sol.SolveVec(a, b); err != nil {
			use[cols[len(cols)-1]] = false // collinear: drop the last term
			continue
		}
		worst := -1
		for c, i := range cols {
			out[i] = sol.AtVec(c)
			if out[i] < 0 && (worst < 0 || out[i] < out[worst]) {
				worst = i
			}
		}
		if worst < 0 {
			return out
		}
		use[worst] = false
	}
}

// userRequests are the workload's own requests in the phase named phase,
// from krosim's requests in the whole run (by resource, then server verb):
// a run's POSTs are its create phase's, its DELETEs its delete phase's.
// The rest of krosim's requests (its watches, a stand-in controller's) a
// simulation does not send through the server, and the fit leaves them in
// the per-request CPU.
func userRequests(krosim map[string]map[string]int, phase string) map[verb.Verb]float64 {
	out := map[verb.Verb]float64{}
	var server string
	var v verb.Verb
	switch phase {
	case "create":
		server, v = "POST", verb.Create
	case "delete":
		server, v = "DELETE", verb.Delete
	default:
		return out
	}
	for _, byVerb := range krosim {
		if n := byVerb[server]; n > 0 {
			out[v] += float64(n)
		}
	}
	return out
}
