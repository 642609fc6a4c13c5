package study

import (
	"fmt"

	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/span"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Constraint names what binds a run: the limit whose easing would speed it up most.
type Constraint string

// The constraints a diagnosis can name, in the order they are checked.
const (
	ServerInflight Constraint = "server-inflight" // the API server rejects requests with 429
	ClientQPS      Constraint = "client-qps"      // the client-side rate limiter (a what-if in kro)
	VCPUBound      Constraint = "vcpus"           // workers wait for a CPU
	WorkerBound    Constraint = "workers"         // every worker busy, keys waiting in the queue
	APILatency     Constraint = "api-latency"     // workers mostly wait on API responses, no backlog
	Requeue        Constraint = "requeue"         // workers idle: instances wait for requeues and child readiness
)

// Constraints lists every constraint in check order.
var Constraints = []Constraint{ServerInflight, ClientQPS, VCPUBound, WorkerBound, APILatency, Requeue}

// Label is the constraint in words.
func (c Constraint) Label() string {
	switch c {
	case ServerInflight:
		return "the API server's inflight limit (429s)"
	case ClientQPS:
		return "the client-side QPS limit (a what-if)"
	case VCPUBound:
		return "vCPUs"
	case WorkerBound:
		return "workers"
	case APILatency:
		return "API latency"
	case Requeue:
		return "the requeue interval and child readiness"
	}
	return string(c)
}

// verb agrees with Label: "workers bind", "API latency binds".
func (c Constraint) verb() string {
	if c == WorkerBound || c == VCPUBound || c == Requeue {
		return "bind"
	}
	return "binds"
}

// Advice is what to change when the constraint binds.
func (c Constraint) Advice() string {
	switch c {
	case ServerInflight:
		return "raise the API server's --max-requests-inflight / --max-mutating-requests-inflight or lower kro's concurrency"
	case ClientQPS:
		return "raise the limit, or leave the client unlimited as kro runs today"
	case VCPUBound:
		return "add vCPUs or cut CEL and serialization work"
	case WorkerBound:
		return "add workers first (--dynamic-controller-concurrent-reconciles)"
	case APILatency:
		return "each reconcile waits on its API calls one at a time (its LISTs also on the server's watch cache, which a faster server does not shorten), so a faster API server helps and more qps does not"
	case Requeue:
		return "more qps, workers or vCPUs will not help: --instance-requeue-interval and how fast children become ready set the pace"
	}
	return ""
}

// Diagnosis is a point's binding constraint and the numbers that show it.
type Diagnosis struct {
	Constraint Constraint `json:"constraint"`
	Evidence   string     `json:"evidence"`
}

// Thresholds of the diagnosis, as shares of total worker time (workers x duration).
const (
	dominantShare  = 0.20 // a wait this large binds, whatever else happens
	presentShare   = 0.05 // a wait this large binds when it is the largest busy phase
	saturated      = 0.90 // worker utilization at which workers count as fully busy
	latencyShare   = 0.40 // api_wait share at which API latency binds
	retryWaitShare = 0.10 // share of worker time in Retry-After sleeps at which 429s bind
	rejectRate     = 0.05 // share of calls rejected with 429 at which 429s bind
)

// Diagnose names what binds run r, with evidence. It reads only the result,
// so it can be checked on constructed results.
func Diagnose(r *sim.Result) Diagnosis {
	d := diagnose(r)
	if r.Summary.ConvergeSeconds == nil {
		d.Evidence = "did not converge; " + d.Evidence
	}
	return d
}

func diagnose(r *sim.Result) Diagnosis {
	total := r.WorkerSeconds()
	if total <= 0 {
		return Diagnosis{Requeue, "no worker time recorded"}
	}
	share := func(p span.Phase) float64 { return r.Attribution[p.String()] / total }
	throttle, cpu, api, idle := share(span.ThrottleWait), share(span.CPUWait), share(span.APIWait), share(span.Idle)
	busy := []span.Phase{span.APIWait, span.ThrottleWait, span.CPUWait, span.Eval, span.Traversal, span.Compile, span.Other}
	top := busy[0]
	for _, p := range busy[1:] {
		if share(p) > share(top) {
			top = p
		}
	}
	binds := func(p span.Phase) bool {
		return share(p) >= dominantShare || (share(p) >= presentShare && top == p)
	}
	calls := 0
	for _, n := range r.Summary.APICalls {
		calls += n
	}
	workers, vcpus := 0, 0
	var retryAfter, interval float64
	if t := r.Config.Target; t != nil {
		workers, vcpus = t.Controller.Workers, t.VCPUs
		retryAfter, interval = t.Server.RetryAfter.D().Seconds(), t.Controller.RequeueInterval.D().Seconds()
	}
	util, q := r.Utilization.Workers, r.Queue

	if n := r.API.Rejected429; n > 0 {
		wait := float64(n) * retryAfter / total
		rate := float64(n) / float64(max(1, calls))
		if wait >= retryWaitShare || rate >= rejectRate {
			return Diagnosis{ServerInflight, fmt.Sprintf("the API server rejected %s requests with 429 (%s of %s calls); Retry-After sleeps take about %s of worker time",
				Thousands(n), pct(rate), Thousands(calls), pct(wait))}
		}
	}
	if binds(span.ThrottleWait) {
		return Diagnosis{ClientQPS, fmt.Sprintf("throttled %s of worker time (%s calls delayed) by a client limit of qps %g, burst %d (a what-if)",
			pct(throttle), Thousands(r.API.ThrottledCalls), r.API.ClientQPS, r.API.ClientBurst)}
	}
	if binds(span.CPUWait) {
		return Diagnosis{VCPUBound, fmt.Sprintf("cpu_wait %s of worker time; %d vCPUs %s busy",
			pct(cpu), vcpus, pct(r.Utilization.VCPUs))}
	}
	if util >= saturated && q.MeanDepth >= float64(max(1, workers)) {
		return Diagnosis{WorkerBound, fmt.Sprintf("%s busy %s, queue depth mean %.1f (max %d); busy time mostly %s (%s of worker time)",
			Plural(workers, "worker"), pct(util), q.MeanDepth, q.MaxDepth, top, pct(share(top)))}
	}
	if api >= latencyShare {
		evidence := fmt.Sprintf("api_wait %s of worker time with the client limiter idle (throttled %s); queue depth mean %.1f for %s",
			pct(api), pct(throttle), q.MeanDepth, Plural(workers, "worker"))
		if c := r.CacheWait().Seconds() / total; c > 0 {
			evidence += fmt.Sprintf("; LISTs waiting for the server's watch cache %s of it", pct(c/api))
		}
		return Diagnosis{APILatency, evidence}
	}
	if util >= saturated {
		return Diagnosis{WorkerBound, fmt.Sprintf("%s busy %s; busy time mostly %s (%s of worker time)",
			Plural(workers, "worker"), pct(util), top, pct(share(top)))}
	}
	return Diagnosis{Requeue, fmt.Sprintf("workers idle %s of the time: instances wait between reconciles (%s requeue-afters at the %gs interval) and on their children's readiness",
		pct(idle), Thousands(r.Summary.RequeuesByReason["requeue_after"]), interval)}
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// Plural is n and word, with an s unless n is 1: "1 worker", "4 workers".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// english formats numbers as English does: 12,898.
var english = message.NewPrinter(language.English)

// Thousands renders n with thousands separators: 12,898, -1,234.
func Thousands(n int) string { return english.Sprint(n) }
