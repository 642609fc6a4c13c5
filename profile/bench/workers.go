package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
)

// WorkersStudy is the workers suite: create throughput over a grid of
// worker counts and vCPUs, each point's worker time by phase, and what it
// finds about the report's "linear up to 4 workers per core".
type WorkersStudy struct {
	Points   []WorkerPoint `json:"points"`
	Findings []string      `json:"findings"`
}

// WorkerPoint is one grid point, medians over the seeds.
type WorkerPoint struct {
	Workers int `json:"workers"`
	VCPUs   int `json:"vcpus"`
	// Throughput is created instances per second.
	Throughput Stat `json:"throughput"`
	// Speedup is throughput over the same vCPUs' 1-worker throughput;
	// Efficiency is Speedup / Workers.
	Speedup    float64 `json:"speedup"`
	Efficiency float64 `json:"efficiency"`
	// Shares of the workers' time: api_wait, cpu_wait, throttle_wait,
	// compute (compile + eval + traversal + other) and idle, 0..1.
	Shares map[string]float64 `json:"shares"`
	// Binding names what limits the point: "api-latency" (busy workers wait
	// on the API server; more workers overlap more waits), "idle" (workers
	// wait for requeues and child readiness: more workers cannot help),
	// "cpu" (waiting for a vCPU) or "compute".
	Binding string `json:"binding"`
	// Gain is the claim about the step from the previous worker count at
	// the same vCPUs: "linear" (speedup kept at least 90% of the added
	// workers), "diminishing" (at least 10% faster, less than that), or
	// "none"; empty at the first point.
	Gain string `json:"gain,omitempty"`
}

// Shares of worker time, the keys of WorkerPoint.Shares.
var shareKeys = []string{"api_wait", "cpu_wait", "throttle_wait", "compute", "idle"}

func shares(r *result.Result) map[string]float64 {
	total := r.WorkerSeconds()
	out := map[string]float64{}
	if total <= 0 {
		return out
	}
	a := r.Attribution
	compute := a[span.Compile.String()] + a[span.Eval.String()] + a[span.Traversal.String()] + a[span.Other.String()]
	out["api_wait"] = round(a[span.APIWait.String()] / total)
	out["cpu_wait"] = round(a[span.CPUWait.String()] / total)
	out["throttle_wait"] = round(a[span.ThrottleWait.String()] / total)
	out["compute"] = round(compute / total)
	out["idle"] = round(a[span.Idle.String()] / total)
	return out
}

// binding names a point's limit from its shares.
func binding(s map[string]float64) string {
	switch {
	case s["cpu_wait"] >= 0.2:
		return "cpu"
	case s["idle"] >= 0.5:
		return "idle"
	case s["compute"] > s["api_wait"]+s["throttle_wait"]:
		return "compute"
	default:
		return "api-latency"
	}
}

func runWorkers(r *Report, rgd *model.RGD, opts Options) error {
	cfg := r.Config
	st := &WorkersStudy{}
	r.Workers = st
	// A stopped grid is judged on the points that finished.
	defer func() {
		judge(st.Points)
		st.Findings = findings(st.Points)
	}()
	for _, vcpus := range cfg.VCPUs {
		for _, w := range cfg.WorkerCounts {
			opts.progress("workers: %s on %d vCPUs, %d seeds of %d instances", result.Workers(w), vcpus, cfg.Count, cfg.Instances)
			p, err := workerPoint(cfg, rgd, w, vcpus, opts)
			if err != nil {
				return err
			}
			st.Points = append(st.Points, p)
		}
	}
	return nil
}

func workerPoint(cfg Config, rgd *model.RGD, workers, vcpus int, opts Options) (WorkerPoint, error) {
	t := cfg.Target.Clone()
	t.Controller.Workers, t.VCPUs = workers, vcpus
	p := WorkerPoint{Workers: workers, VCPUs: vcpus, Shares: map[string]float64{}}
	var tps []float64
	per := map[string][]float64{}
	for seed := uint64(1); seed <= uint64(cfg.Count); seed++ {
		res, err := simulate(cfg, t, rgd, crudWorkload(cfg.Instances, 0, false), seed, opts)
		if err != nil {
			return p, err
		}
		tps = append(tps, createSample(res).throughput)
		for k, v := range shares(&res.Result) {
			per[k] = append(per[k], v)
		}
	}
	p.Throughput = summarize(tps)
	for _, k := range shareKeys {
		p.Shares[k] = median(per[k])
	}
	p.Binding = binding(p.Shares)
	return p, nil
}

// judge fills speedup, efficiency and the gain claimed at each step. A
// claim comes from the measured throughput alone.
func judge(ps []WorkerPoint) {
	base := map[int]float64{}
	prev := map[int]*WorkerPoint{}
	for i := range ps {
		p := &ps[i]
		if p.Workers == 1 || base[p.VCPUs] == 0 {
			base[p.VCPUs] = p.Throughput.Median / float64(p.Workers)
		}
		if b := base[p.VCPUs]; b > 0 {
			p.Speedup = round(p.Throughput.Median / b)
			p.Efficiency = round(p.Speedup / float64(p.Workers))
		}
		if q := prev[p.VCPUs]; q != nil && q.Throughput.Median > 0 {
			p.Gain = gainOf(q, p)
		}
		prev[p.VCPUs] = p
	}
}

func gainOf(from, to *WorkerPoint) string {
	ratio := to.Throughput.Median / from.Throughput.Median
	added := float64(to.Workers) / float64(from.Workers)
	switch {
	case ratio-1 >= 0.9*(added-1):
		return "linear"
	case ratio >= 1.1:
		return "diminishing"
	default:
		return "none"
	}
}

// findings says, per vCPU count, up to how many workers scaling stays
// linear, where returns diminish and why, and answers the report's claim.
func findings(ps []WorkerPoint) []string {
	var out []string
	byCPU := map[int][]WorkerPoint{}
	var cpus []int
	for _, p := range ps {
		if _, ok := byCPU[p.VCPUs]; !ok {
			cpus = append(cpus, p.VCPUs)
		}
		byCPU[p.VCPUs] = append(byCPU[p.VCPUs], p)
	}
	slices.Sort(cpus)
	for _, c := range cpus {
		pts := byCPU[c]
		linear := pts[0].Workers
		var knee *WorkerPoint
		for i := 1; i < len(pts); i++ {
			if pts[i].Gain == "linear" && knee == nil {
				linear = pts[i].Workers
				continue
			}
			if knee == nil {
				knee = &pts[i]
			}
		}
		line := fmt.Sprintf("%d vCPUs: create throughput scales linearly up to %s (%.3g instances/s, %.0f%% of linear)",
			c, result.Workers(linear), pointAt(pts, linear).Throughput.Median, 100*pointAt(pts, linear).Efficiency)
		if knee != nil {
			line += fmt.Sprintf("; from %s returns diminish (gain %s, efficiency %.0f%%): %s",
				result.Workers(knee.Workers), knee.Gain, 100*knee.Efficiency, why(*knee))
		} else {
			line += " across the whole range"
		}
		out = append(out, line)
	}
	out = append(out, claim(ps))
	return out
}

func pointAt(ps []WorkerPoint, workers int) WorkerPoint {
	for _, p := range ps {
		if p.Workers == workers {
			return p
		}
	}
	return WorkerPoint{}
}

func why(p WorkerPoint) string {
	s := p.Shares
	pct := func(k string) string { return fmt.Sprintf("%s %.0f%%", k, 100*s[k]) }
	switch p.Binding {
	case "idle":
		return fmt.Sprintf("workers sit idle (%s, %s): instances wait for kro's requeue interval and their children's readiness, not for a worker", pct("idle"), pct("api_wait"))
	case "cpu":
		return fmt.Sprintf("workers wait for a vCPU (%s)", pct("cpu_wait"))
	case "compute":
		return fmt.Sprintf("the workers' own CPU work binds (%s)", pct("compute"))
	default:
		return fmt.Sprintf("each reconcile waits on its API calls one at a time (%s, %s): the instances' own request chains, not worker count, set the pace", pct("api_wait"), pct("idle"))
	}
}

// claim answers "linear up to 4 workers per core" from the points.
func claim(ps []WorkerPoint) string {
	var cpuBound []string
	for _, p := range ps {
		if p.Binding == "cpu" {
			cpuBound = append(cpuBound, fmt.Sprintf("%dw/%dvCPU", p.Workers, p.VCPUs))
		}
	}
	if len(cpuBound) == 0 {
		return "the report's \"linear up to 4 workers per CPU core\": not what krosim finds. No point is CPU-bound (cpu_wait under 20% everywhere): kro's workers spend their time waiting on the API server, so the vCPU count barely matters and the limit is per-instance request latency and kro's requeue interval, not cores"
	}
	return fmt.Sprintf("the report's \"linear up to 4 workers per CPU core\": CPU binds at %s; elsewhere API latency or idle time binds", strings.Join(cpuBound, ", "))
}
