package bench

import (
	"math"

	"github.com/krosim/krosim/model"
	"gonum.org/v1/gonum/stat"
)

// UsageFit is the usage suite: the controller's memory and CPU as instances
// grow, fitted as base + slope per resource (gonum's
// stat.LinearRegression), beside the report's claim. In simulation both are
// modeled; on a real cluster they are kro's own process metrics.
type UsageFit struct {
	// Mode is "sim" (modeled) or "real" (kro's /metrics).
	Mode   string       `json:"mode"`
	Points []UsagePoint `json:"points"`
	Memory Fit          `json:"memory"`
	CPU    Fit          `json:"cpu"`
	// Published is the report's "119MB base footprint + ~500KB per resource".
	Published Fit    `json:"published"`
	Note      string `json:"note"`
}

// UsagePoint is one size: in simulation seed 1's run, on a real cluster
// one run that creates the instances, waits for kro to be idle, and deletes
// them again.
type UsagePoint struct {
	Instances int `json:"instances"`
	// Resources is the objects kro caches with every instance live: the
	// instances and their children.
	Resources int `json:"resources"`
	// PeakBytes is the modeled peak memory in simulation; on a real cluster
	// kro's process_resident_memory_bytes once every instance is ready.
	PeakBytes int64 `json:"peak_bytes"`
	// RSSBeforeBytes is kro's resident memory before the run (real only).
	RSSBeforeBytes int64 `json:"rss_before_bytes,omitempty"`
	// CPUSeconds is the controller's CPU time creating the instances: the
	// modeled vCPU time in simulation, the increase of kro's
	// process_cpu_seconds_total over the create phase on a real cluster.
	CPUSeconds  float64 `json:"cpu_seconds"`
	CPUPercent  float64 `json:"cpu_percent"` // of the target's vCPUs (sim), of one core (real), over the phase
	Converge    float64 `json:"converge_seconds"`
	MemResidual float64 `json:"memory_residual_bytes"`
	CPUResidual float64 `json:"cpu_residual_seconds"`
}

// Fit is y = Base + Slope * resources.
type Fit struct {
	Base  float64 `json:"base"`
	Slope float64 `json:"slope"`
	R2    float64 `json:"r2"`
	Unit  string  `json:"unit"`
}

// publishedUsage is the report's "119MB base footprint + ~500KB per resource".
var publishedUsage = Fit{Base: 119e6, Slope: 500e3, R2: 1, Unit: "bytes"}

func runUsage(r *Report, rgd *model.RGD, opts Options) error {
	cfg := r.Config
	u := &UsageFit{Mode: "sim", Published: publishedUsage,
		Note: "memory is modeled, not measured: the target's base + per compiled expression + per object in kro's caches, so the fit recovers the model's own constants (R² 1 by construction); CPU is the modeled vCPU time of kro's in-process work (cost units x the target's ns per unit); one seed per size, as the modeled memory depends on the objects only"}
	r.Usage = u
	defer u.fit() // a stopped suite is fitted on the sizes that finished
	for _, n := range cfg.UsageInstances {
		opts.progress("usage: %d instances", n)
		res, err := simulate(cfg, cfg.Target, rgd, crudWorkload(n, 0, false), 1, opts)
		if err != nil {
			return err
		}
		p := UsagePoint{Instances: n, Resources: res.Summary.ObjectsPeak, PeakBytes: res.Memory.PeakBytes,
			CPUSeconds: round(res.Utilization.VCPUs * float64(res.Config.Target.VCPUs) * res.Duration.Seconds()),
			CPUPercent: round(100 * res.Utilization.VCPUs)}
		if c := res.Summary.ConvergeSeconds; c != nil {
			p.Converge = *c
		}
		u.Points = append(u.Points, p)
	}
	return nil
}

// fit fits memory and CPU over the points and fills their residuals; it
// needs two sizes.
func (u *UsageFit) fit() {
	if len(u.Points) < 2 {
		return
	}
	var xs, mem, cpu []float64
	for _, p := range u.Points {
		xs = append(xs, float64(p.Resources))
		mem = append(mem, float64(p.PeakBytes))
		cpu = append(cpu, p.CPUSeconds)
	}
	u.Memory = fit(xs, mem, "bytes")
	u.CPU = fit(xs, cpu, "cpu-seconds")
	for i := range u.Points {
		u.Points[i].MemResidual = round(mem[i] - (u.Memory.Base + u.Memory.Slope*xs[i]))
		u.Points[i].CPUResidual = round(cpu[i] - (u.CPU.Base + u.CPU.Slope*xs[i]))
	}
}

func fit(xs, ys []float64, unit string) Fit {
	alpha, beta := stat.LinearRegression(xs, ys, nil, false)
	r2 := stat.RSquared(xs, ys, nil, alpha, beta)
	if math.IsNaN(r2) || math.IsInf(r2, 0) {
		r2 = 1 // every y the same: the line through them explains them all
	}
	return Fit{Base: round(alpha), Slope: round(beta), R2: round(r2), Unit: unit}
}
