package calibration

import (
	"fmt"
	"math"
	"slices"
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
	type sample struct {
		dir                  string
		calls                map[verb.Verb]float64
		requests, reconciles float64
		kro, server          float64 // CPU seconds
	}
	var runs []sample
	largest := 0
	for i, dir := range dirs {
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
		s := sample{dir: dir, calls: map[verb.Verb]float64{}, reconciles: float64(ph.Reconciles),
			kro: cpu["kro"], server: cpu["apiserver"] + cpu["etcd"]}
		for v, n := range ph.APICalls {
			s.calls[v] = float64(n)
			s.requests += float64(n)
		}
		runs = append(runs, s)
		if s.requests > runs[largest].requests {
			largest = i
		}
	}

	// kro: cpu = q * requests + r * reconciles.
	a := mat.NewDense(len(runs), 2, nil)
	y := mat.NewVecDense(len(runs), nil)
	for i, s := range runs {
		a.Set(i, 0, s.requests)
		a.Set(i, 1, s.reconciles)
		y.SetVec(i, s.kro)
	}
	var qr mat.VecDense
	perRequest, perReconcile := 0.0, 0.0
	if err := qr.SolveVec(a, y); err == nil && qr.AtVec(0) >= 0 && qr.AtVec(1) >= 0 {
		perRequest, perReconcile = qr.AtVec(0), qr.AtVec(1)
	} else { // collinear runs, or a negative share: all of it per request
		var cpu, n float64
		for _, s := range runs {
			cpu += s.kro
			n += s.requests
		}
		perRequest = cpu / n
	}

	// The server: one scale over base's verb shares.
	share := map[verb.Verb]float64{}
	for _, v := range verb.All {
		share[v] = 1
		if c := base.Latency[v].CPU; c > 0 {
			share[v] = float64(c)
		}
	}
	var cpu, weighted float64
	for _, s := range runs {
		cpu += s.server
		for v, n := range s.calls {
			weighted += n * share[v]
		}
	}
	if weighted == 0 {
		return nil, nil, fmt.Errorf("the runs made no requests")
	}
	perWeight := cpu / weighted

	t := base.Clone()
	t.Server.SharedCPUs = true
	t.Cost.RequestNS = math.Round(perRequest * 1e9)
	t.Cost.ReconcileNS = math.Round(perReconcile * 1e9)
	for _, v := range verb.All {
		l := t.Latency[v]
		l.CPU = target.Duration(time.Duration(share[v] * perWeight * 1e9).Round(time.Microsecond))
		t.Latency[v] = l
	}
	report := []string{fmt.Sprintf("kro's CPU: %.3fms per request and %.3fms per reconcile (least squares over %d runs' create phases)",
		perRequest*1e3, perReconcile*1e3, len(runs))}
	for _, s := range runs {
		fit := perRequest*s.requests + perReconcile*s.reconciles
		report = append(report, fmt.Sprintf("%s: %.0f requests, %.0f reconciles, kro CPU %.2fs (fit %.2fs), API server and etcd CPU %.2fs (%.3fms per request)",
			s.dir, s.requests, s.reconciles, s.kro, fit, s.server, s.server/s.requests*1e3))
	}
	var perVerb []string
	for _, v := range verb.All {
		perVerb = append(perVerb, fmt.Sprintf("%s %.3fms", v, float64(t.Latency[v].CPU)/1e6))
	}
	report = append(report, "server CPU per request: "+joinComma(perVerb))

	// The latency kro saw, fitted as work on the shared processors.
	dir := dirs[largest]
	r, err := readRun(dir)
	if err != nil {
		return nil, nil, err
	}
	gs, err := rgds(dir)
	if err != nil {
		return nil, nil, err
	}
	q := r.requests()
	want, lat := q.fitLatency(t, base)
	// Part of what kro's client adds to the server's time is kro's own CPU
	// for the request, which the simulation charges apart (cost.request_ns).
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
	report = append(report, fmt.Sprintf("latency from %s: %s", dir, joinComma(lat)))
	realMean := r.meanReconcile()
	fit, err := fitWork(r.createPhase(t), gs, want)
	if err != nil {
		return nil, nil, err
	}
	report = append(report, fitReport(t, fit.fitted, realMean)...)
	report = append(report, fmt.Sprintf("simulated create-phase reconcile %.2fms on average against %.2fms real", fit.reconcile*1e3, realMean*1e3))
	return t, report, nil
}

func joinComma(xs []string) string {
	out := ""
	for i, x := range slices.Clone(xs) {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
