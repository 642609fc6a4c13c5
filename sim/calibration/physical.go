package calibration

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"gonum.org/v1/gonum/mat"
)

// Physical derives a target for a host where the API server, etcd and kro
// share the processors (server.cpus, server.shared_cpus), from real runs of
// calibration RGDs, in physical terms that carry over to any RGD and any
// worker count rather than fitting one run's latency:
//   - kro's CPU per request (cost.request_ns) and per reconcile
//     (cost.reconcile_ns): a least-squares fit of kro's CPU time in each
//     run's create phase to its requests and reconciles, so the runs should
//     differ in requests per reconcile (one resource per instance, and a
//     chain of several);
//   - the server's CPU per request (latency.VERB.cpu): the API server's and
//     etcd's CPU time over the requests, shared out among the verbs as
//     base's latency.VERB.cpu are (krosim calibrate --kubeconfig --pid-dir
//     measures them one verb at a time), or evenly;
//   - each verb's latency: what kro saw in the run with the most requests,
//     its work fitted by simulating that run on those processors.
//
// The runs need the processes' CPU time (krosim run --kubeconfig --pid-dir,
// which the harness's environment sets). rgds loads a run's RGDs.
func Physical(dirs []string, base *target.Target, rgds func(dir string) ([]*model.RGD, error)) (*target.Target, []string, error) {
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
	t := base.Clone()
	report, err := fitCPU(t, base, runs)
	if err != nil {
		return nil, nil, err
	}
	gs, err := rgds(largest.dir)
	if err != nil {
		return nil, nil, err
	}
	lat, err := fitSharedLatency(t, base, largest, gs)
	if err != nil {
		return nil, nil, err
	}
	return t, append(report, lat...), nil
}

// cpuRun is what a calibration run's create phase cost in CPU.
type cpuRun struct {
	dir                  string
	calls                map[verb.Verb]float64
	requests, reconciles float64
	kro, server          float64 // CPU seconds; server counts krosim's own too

	active float64 // seconds until kro was last busy in the create phase
}

// readCPU reads the runs' create phases, and returns the run with the most
// requests, which the latency is fitted to.
func readCPU(dirs []string) ([]cpuRun, *run, error) {
	var runs []cpuRun
	var largest *run
	most := -1.0
	for _, dir := range dirs {
		r, err := readRun(dir)
		if err != nil {
			return nil, nil, err
		}
		ph := r.res.Real.Phases[0]
		cpu := ph.CPUSeconds
		for _, p := range []string{"kro", "apiserver", "etcd"} {
			if _, ok := cpu[p]; !ok {
				return nil, nil, fmt.Errorf("%s: the create phase has no CPU time of %s (real.phases[0].cpu_seconds): run it with --pid-dir on the harness", dir, p)
			}
		}
		// krosim's own CPU in a real run (its watch of the instances, its
		// stand-in controller) takes the same processors as the server's,
		// in every run the target predicts: it is priced with the server's.
		s := cpuRun{dir: dir, calls: map[verb.Verb]float64{}, reconciles: float64(ph.Reconciles),
			kro: cpu["kro"], server: cpu["apiserver"] + cpu["etcd"] + cpu["krosim"], active: max(ph.Seconds, ph.IdleSeconds)}
		for v, n := range ph.APICalls {
			s.calls[v] = float64(n)
			s.requests += float64(n)
		}
		runs = append(runs, s)
		if s.requests > most { // the first of the largest
			largest, most = r, s.requests
		}
	}
	return runs, largest, nil
}

// fitCPU sets t's CPU costs from runs and says what it fitted:
// kro: cpu = q requests + r reconciles + k seconds active; the server (the
// API server and etcd, and krosim's watching of the run, which shares their
// processors): cpu = a requests + b seconds active. The time terms
// are what the processes burn while requests flow, whatever their number
// (the Go runtimes' scheduling and garbage collection, etcd's housekeeping):
// measured, a request costs a third less CPU with 4 workers than with 1.
// The server's per-request CPU is shared among the verbs as base's are.
func fitCPU(t, base *target.Target, runs []cpuRun) ([]string, error) {
	kroFit := nonNegative(runs, func(s cpuRun) []float64 { return []float64{s.requests, s.reconciles, s.active} },
		func(s cpuRun) float64 { return s.kro })
	srvFit := nonNegative(runs, func(s cpuRun) []float64 { return []float64{s.requests, s.active} },
		func(s cpuRun) float64 { return s.server })
	share := map[verb.Verb]float64{}
	for _, v := range verb.All {
		share[v] = 1
		if c := base.Latency[v].CPU; c > 0 {
			share[v] = float64(c)
		}
	}
	var weighted, n float64
	for _, s := range runs {
		for v, c := range s.calls {
			weighted += c * share[v]
			n += c
		}
	}
	if weighted == 0 {
		return nil, fmt.Errorf("the runs made no requests")
	}
	perWeight := srvFit[0] * n / weighted

	t.Server.SharedCPUs = true
	t.Cost.RequestNS = math.Round(kroFit[0] * 1e9)
	t.Cost.ReconcileNS = math.Round(kroFit[1] * 1e9)
	t.Server.ActiveCPU = math.Round((kroFit[2]+srvFit[1])*1e4) / 1e4
	var perVerb []string
	for _, v := range verb.All {
		l := t.Latency[v]
		l.CPU = target.Duration(time.Duration(share[v] * perWeight * 1e9).Round(time.Microsecond))
		t.Latency[v] = l
		perVerb = append(perVerb, fmt.Sprintf("%s %.3fms", v, float64(l.CPU)/1e6))
	}
	report := []string{fmt.Sprintf("kro's CPU: %.3fms per request, %.3fms per reconcile and %.3f processors while active; "+
		"the API server's, etcd's and krosim's watching: %.3fms per request and %.3f processors while active (server.active_cpu %.3f in all; least squares over %d runs' create phases)",
		kroFit[0]*1e3, kroFit[1]*1e3, kroFit[2], srvFit[0]*1e3, srvFit[1], t.Server.ActiveCPU, len(runs))}
	for _, s := range runs {
		fitK := kroFit[0]*s.requests + kroFit[1]*s.reconciles + kroFit[2]*s.active
		fitS := srvFit[0]*s.requests + srvFit[1]*s.active
		report = append(report, fmt.Sprintf("%s: %.0f requests, %.0f reconciles in %.2fs; kro CPU %.2fs (fit %.2fs), API server, etcd and krosim CPU %.2fs (fit %.2fs)",
			s.dir, s.requests, s.reconciles, s.active, s.kro, fitK, s.server, fitS))
	}
	return append(report, "server CPU per request: "+strings.Join(perVerb, ", ")), nil
}

// fitSharedLatency sets t's latency to what kro saw in r, less kro's own
// CPU for each request (cost.request_ns, charged apart), its work fitted by
// simulating r on the shared processors, and says what it fitted.
func fitSharedLatency(t, base *target.Target, r *run, gs []*model.RGD) ([]string, error) {
	q := r.requests()
	want, lat := q.fitLatency(t, base)
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
