package study

import (
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
)

// run builds a run of the given length whose worker time splits into the
// given shares (the rest idle).
func run(t *testing.T, workers int, seconds float64, shares map[string]float64) *sim.Result {
	t.Helper()
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	tg = tg.Clone()
	tg.Controller.Workers = workers
	total := float64(workers) * seconds
	r := &sim.Result{Result: result.Result{Config: result.Config{Target: tg}, Attribution: map[string]float64{}}}
	busy := 0.0
	for _, p := range []string{"compile", "eval", "traversal", "api_wait", "throttle_wait", "cpu_wait", "other"} {
		r.Attribution[p] = shares[p] * total
		busy += shares[p]
	}
	r.Attribution["idle"] = (1 - busy) * total
	r.Utilization.Workers = busy
	r.Summary.ConvergeSeconds = &seconds
	r.Summary.APICalls = map[verb.Verb]int{"get": 600, "patch": 400}
	r.Summary.RequeuesByReason = map[string]int{"requeue_after": 120}
	return r
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name     string
		build    func(t *testing.T) *sim.Result
		want     Constraint
		evidence []string
	}{
		{name: "client rate limit", want: ClientQPS, evidence: []string{"throttled 80.0% of worker time", "973 calls", "qps 5, burst 7", "what-if"},
			build: func(t *testing.T) *sim.Result {
				r := run(t, 1, 100, map[string]float64{"throttle_wait": 0.8, "api_wait": 0.2})
				r.API.ThrottledCalls, r.API.ClientQPS, r.API.ClientBurst = 973, 5, 7
				r.Queue.MeanDepth = 19
				return r
			}},
		{name: "client limit, small but largest busy phase", want: ClientQPS, evidence: []string{"throttled 8.0%"},
			build: func(t *testing.T) *sim.Result {
				return run(t, 1, 100, map[string]float64{"throttle_wait": 0.08, "api_wait": 0.05})
			}},
		{name: "API latency with the limiter idle", want: APILatency, evidence: []string{"api_wait 60.0%", "limiter idle", "throttled 0.0%"},
			build: func(t *testing.T) *sim.Result {
				r := run(t, 2, 100, map[string]float64{"api_wait": 0.6, "other": 0.05})
				r.Queue.MeanDepth = 0.3
				return r
			}},
		{name: "API latency, mostly the watch cache", want: APILatency, evidence: []string{"api_wait 60.0%", "LISTs waiting for the server's watch cache 75.0% of it"},
			build: func(t *testing.T) *sim.Result {
				r := run(t, 2, 100, map[string]float64{"api_wait": 0.6, "other": 0.05})
				r.Queue.MeanDepth = 0.3
				list := span.Stack{Thread: "worker", Phase: span.APIWait, Detail: span.Detail{Verb: verb.List}}
				cache := list
				cache.Detail.CacheWait = true
				other := cache
				other.Thread = "rgd-controller" // not a worker's time
				r.Samples = []span.Sample{{Stack: list, D: 30 * time.Second}, {Stack: cache, D: 90 * time.Second}, {Stack: other, D: time.Hour}}
				return r
			}},
		{name: "workers saturated with a backlog", want: WorkerBound, evidence: []string{"1 worker busy 99.0%", "queue depth mean 437.4 (max 500)", "mostly api_wait"},
			build: func(t *testing.T) *sim.Result {
				r := run(t, 1, 40, map[string]float64{"api_wait": 0.97, "other": 0.02})
				r.Queue.MeanDepth, r.Queue.MaxDepth = 437.4, 500
				return r
			}},
		{name: "workers saturated on CPU work, no cpu wait", want: WorkerBound, evidence: []string{"4 workers busy 95.0%", "mostly eval"},
			build: func(t *testing.T) *sim.Result {
				r := run(t, 4, 40, map[string]float64{"eval": 0.6, "api_wait": 0.3, "other": 0.05})
				r.Queue.MeanDepth = 1
				return r
			}},
		{name: "vCPUs", want: VCPUBound, evidence: []string{"cpu_wait 45.0%", "8 vCPUs 97.0% busy"},
			build: func(t *testing.T) *sim.Result {
				r := run(t, 64, 30, map[string]float64{"cpu_wait": 0.45, "eval": 0.3, "api_wait": 0.2})
				r.Utilization.VCPUs = 0.97
				r.Queue.MeanDepth = 200
				return r
			}},
		{name: "server inflight 429s", want: ServerInflight, evidence: []string{"rejected 150 requests with 429", "15.0% of 1,000 calls", "Retry-After"},
			build: func(t *testing.T) *sim.Result {
				// 150 retries x 1s Retry-After in 100 worker-seconds: 150% of worker time is impossible,
				// so use 4 workers: 150 / 400 = 37.5%.
				r := run(t, 4, 100, map[string]float64{"api_wait": 0.7, "throttle_wait": 0.25})
				r.API.Rejected429 = 150
				return r
			}},
		{name: "a few 429s do not bind", want: ClientQPS, evidence: []string{"throttled 50.0%"},
			build: func(t *testing.T) *sim.Result {
				r := run(t, 1, 1000, map[string]float64{"throttle_wait": 0.5, "api_wait": 0.5})
				r.API.Rejected429 = 2
				return r
			}},
		{name: "requeue interval and readiness", want: Requeue, evidence: []string{"workers idle 70.0%", "120 requeue-afters at the 3s interval"},
			build: func(t *testing.T) *sim.Result {
				return run(t, 1, 11, map[string]float64{"api_wait": 0.29, "other": 0.01})
			}},
		{name: "not converged", want: ClientQPS, evidence: []string{"did not converge; throttled"},
			build: func(t *testing.T) *sim.Result {
				r := run(t, 1, 100, map[string]float64{"throttle_wait": 0.9})
				r.Summary.ConvergeSeconds = nil
				return r
			}},
		{name: "no worker time", want: Requeue, evidence: []string{"no worker time"},
			build: func(t *testing.T) *sim.Result { return &sim.Result{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diagnose(tt.build(t))
			if d.Constraint != tt.want {
				t.Errorf("constraint = %s, want %s (evidence: %s)", d.Constraint, tt.want, d.Evidence)
			}
			for _, e := range tt.evidence {
				if !strings.Contains(d.Evidence, e) {
					t.Errorf("evidence %q does not contain %q", d.Evidence, e)
				}
			}
		})
	}
}

func TestEveryConstraintHasWords(t *testing.T) {
	for _, c := range Constraints {
		if c.Label() == "" || c.Advice() == "" {
			t.Errorf("constraint %s has no label or advice", c)
		}
	}
	if c := Constraint("made-up"); c.Advice() != "" {
		t.Errorf("unknown constraint has advice %q", c.Advice())
	}
}
