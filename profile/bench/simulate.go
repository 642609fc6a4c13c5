package bench

import (
	"fmt"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

// simulate runs one simulation of wl on t with seed. A run the stop hook cut
// short is a stop, not a failure: what finished before it is kept.
func simulate(cfg Config, t *target.Target, rgd *model.RGD, wl workload.Workload, seed uint64, opts Options) (*sim.Result, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	rc := result.Config{RGDFiles: []string{cfg.RGD}, Target: t, Workload: wl, Seed: seed, MaxTime: target.Duration(maxVirtual)}
	res, err := sim.Run(rc, []*model.RGD{rgd}, opts.Sim)
	if err != nil {
		return nil, err
	}
	if !res.Complete {
		if err := opts.check(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%d instances, %s, %d vCPUs, seed %d: simulation incomplete: %s",
			wl.Instances, result.Workers(t.Controller.Workers), t.VCPUs, seed, res.Incomplete)
	}
	return res, nil
}
