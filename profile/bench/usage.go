package bench

import (
	"fmt"
	"math"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"gonum.org/v1/gonum/stat"
)

// UsageFit is the usage suite: the controller's modeled memory and CPU as
// instances grow, fitted as base + slope per resource (gonum's
// stat.LinearRegression), beside the report's claim.
type UsageFit struct {
	Points []UsagePoint `json:"points"`
	Memory Fit          `json:"memory"`
	CPU    Fit          `json:"cpu"`
	// Published is the report's "119MB base footprint + ~500KB per resource".
	Published Fit    `json:"published"`
	Note      string `json:"note"`
}

// UsagePoint is one size's simulation (seed 1).
type UsagePoint struct {
	Instances int `json:"instances"`
	// Resources is the objects stored at the peak: instances and children.
	Resources   int     `json:"resources"`
	PeakBytes   int64   `json:"peak_bytes"`
	CPUSeconds  float64 `json:"cpu_seconds"` // vCPU time the controller used
	CPUPercent  float64 `json:"cpu_percent"` // of the target's vCPUs over the run
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

func runUsage(r *Report, rgd *model.RGD, opts Options) error {
	cfg := r.Config
	u := &UsageFit{Published: Fit{Base: 119e6, Slope: 500e3, R2: 1, Unit: "bytes"},
		Note: "memory is modeled, not measured: the target's base + per compiled expression + per object in kro's caches, so the fit recovers the model's own constants (R² 1 by construction); CPU is the modeled vCPU time of kro's in-process work (cost units x the target's ns per unit)"}
	r.Usage = u
	for _, n := range cfg.UsageInstances {
		if err := opts.check(); err != nil {
			return err
		}
		opts.progress("usage: %d instances", n)
		rc := result.Config{RGDFiles: []string{cfg.RGD}, Target: cfg.Target, Workload: crudWorkload(n, 0, false), Seed: 1, MaxTime: target.Duration(maxVirtual)}
		res, err := sim.Run(rc, []*model.RGD{rgd}, opts.Sim)
		if err != nil {
			return err
		}
		if !res.Complete {
			return fmt.Errorf("%d instances: incomplete: %s", n, res.Incomplete)
		}
		p := UsagePoint{Instances: n, Resources: res.Summary.ObjectsPeak, PeakBytes: res.Memory.PeakBytes,
			CPUSeconds: round(res.Utilization.VCPUs * float64(res.Config.Target.VCPUs) * res.Duration.Seconds()),
			CPUPercent: round(100 * res.Utilization.VCPUs)}
		if c := res.Summary.ConvergeSeconds; c != nil {
			p.Converge = *c
		}
		u.Points = append(u.Points, p)
	}
	if len(u.Points) < 2 {
		return nil
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
	return nil
}

func fit(xs, ys []float64, unit string) Fit {
	alpha, beta := stat.LinearRegression(xs, ys, nil, false)
	r2 := stat.RSquared(xs, ys, nil, alpha, beta)
	if math.IsNaN(r2) || math.IsInf(r2, 0) {
		r2 = 1 // every y the same: the line through them explains them all
	}
	return Fit{Base: round(alpha), Slope: round(beta), R2: round(r2), Unit: unit}
}
