package bench

import (
	"fmt"
	"slices"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

// The process metrics of kro's /metrics (client_golang's process
// collector, which controller-runtime registers) the real usage suite reads.
const (
	MetricRSS = "process_resident_memory_bytes"
	MetricCPU = "process_cpu_seconds_total"
)

// Process is kro's process metrics in one scrape.
type Process struct {
	RSSBytes   float64
	CPUSeconds float64
}

// ParseProcess reads kro's resident memory and CPU time from a scrape of
// its /metrics (Prometheus text format); file names the scrape in errors.
func ParseProcess(file string, raw []byte) (Process, error) {
	s, err := cluster.ParseScrape(raw)
	if err != nil {
		return Process{}, fmt.Errorf("%s: %w", file, err)
	}
	var p Process
	var missing []string
	for _, m := range []struct {
		name string
		into *float64
	}{{MetricRSS, &p.RSSBytes}, {MetricCPU, &p.CPUSeconds}} {
		found := false
		for _, x := range s.Series {
			found = found || x.Name == m.name
		}
		if !found {
			missing = append(missing, m.name)
			continue
		}
		*m.into = s.Sum(m.name, nil)
	}
	if len(missing) > 0 {
		return p, fmt.Errorf("%s: no %v: is this kro's controller-runtime /metrics (its process collector exports them)?", file, missing)
	}
	return p, nil
}

// RealUsagePoint is one size's point from a real run's kro scrapes: before
// the run (kro-0.prom) and at the end of its create phase (kro-1.prom, every
// instance ready and kro idle). perInstance is the objects one instance
// makes kro cache, itself included.
func RealUsagePoint(n, perInstance int, res *result.Result, scrapes map[string][]byte) (UsagePoint, error) {
	var ps [2]Process
	for i, f := range []string{"kro-0.prom", "kro-1.prom"} {
		raw, ok := scrapes[f]
		if !ok {
			return UsagePoint{}, fmt.Errorf("%d instances: the run kept no %s", n, f)
		}
		p, err := ParseProcess(f, raw)
		if err != nil {
			return UsagePoint{}, fmt.Errorf("%d instances: %w", n, err)
		}
		ps[i] = p
	}
	p := UsagePoint{Instances: n, Resources: n * perInstance, PeakBytes: int64(ps[1].RSSBytes),
		RSSBeforeBytes: int64(ps[0].RSSBytes), CPUSeconds: round(ps[1].CPUSeconds - ps[0].CPUSeconds)}
	if res != nil && res.Real != nil {
		for _, ph := range res.Real.Phases {
			if ph.Name == workload.Create.String() && ph.Seconds > 0 {
				p.Converge = ph.Seconds
				p.CPUPercent = round(100 * p.CPUSeconds / ph.Seconds)
			}
		}
	}
	return p, nil
}

// ObjectsPerInstance is how many objects one instance of rgd makes kro
// cache, itself included: one simulated instance's peak object count
// (includeWhen decided as for the plan's first instance).
func ObjectsPerInstance(rgd *model.RGD, file string) (int, error) {
	t, err := target.Lookup("kro-defaults")
	if err != nil {
		return 0, err
	}
	rc := result.Config{RGDFiles: []string{file}, Target: t, Workload: workload.Default(1), Seed: 1, MaxTime: target.Duration(maxVirtual)}
	res, err := sim.Run(rc, []*model.RGD{rgd}, sim.Options{})
	if err != nil {
		return 0, err
	}
	if !res.Complete || res.Summary.ObjectsPeak < 1 {
		return 0, fmt.Errorf("%s: one simulated instance did not converge: %s", file, res.Incomplete)
	}
	return res.Summary.ObjectsPeak, nil
}

// usage runs the usage suite's sizes on the cluster, smallest first, each
// created and deleted again, and fits kro's resident memory and CPU time.
func (rr *realRunner) usage() error {
	per, err := ObjectsPerInstance(rr.rgd, rr.cfg.RGD)
	if err != nil {
		return err
	}
	u := &UsageFit{Mode: "real", Published: publishedUsage,
		Note: fmt.Sprintf("measured on a real cluster: kro's own %s once every instance is ready and kro idle, and the increase of its %s over the create phase; "+
			"a resource is an instance or one of its children (%d per instance); one run per size, smallest first, each deleting its instances again, so the Go heap a larger size grows can stay resident after it", MetricRSS, MetricCPU, per)}
	rr.r.Usage = u
	first := rr.runs + 1
	defer func() {
		u.fit()
		if l := rr.loaded(first, rr.runs); len(l) > 0 {
			u.Note += "; NOISY: started on a loaded host: " + fmt.Sprint(l)
		}
	}()
	sizes := slices.Clone(rr.cfg.UsageInstances)
	slices.Sort(sizes)
	for _, n := range sizes {
		rr.opts.progress("real usage: %d instances created, measured, deleted", n)
		res, scrapes, err := rr.run(crudWorkload(n, 0, true), 1)
		if err != nil {
			return err
		}
		p, err := RealUsagePoint(n, per, res, scrapes)
		if err != nil {
			return err
		}
		u.Points = append(u.Points, p)
	}
	return nil
}
