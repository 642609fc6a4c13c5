package sim

import (
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/workload"
	"github.com/krosim/krosim/sim/world"
)

// cluster is the simulated cluster a workload runs on: kro's controller,
// the API server and the kind controllers under one kernel, in virtual time.
// It never blocks: the driver is stepped after every event.
type cluster struct {
	k     *kernel.Kernel
	rgds  []*model.RGD
	srv   *api.Server
	ctrl  *kro.Controller
	world *world.World

	n         int             // instances in the plan
	instances []*kro.Instance // created so far, in creation order
	byIndex   map[int]*kro.Instance
	createErr error
	settled   bool // the create phase settled, and kro recorded how
	created   func(objects int)
	phaseEnds []PhaseEnd // what the run had done as each phase ended
}

var _ workload.Cluster = (*cluster)(nil)

func (c *cluster) Now() time.Duration { return c.k.Now() }

// Create schedules each item's creation at its arrival, as the workload's
// user would create it: its externals first (unless present), then it.
// Created, the item's instance object is released: the store keeps its own.
func (c *cluster) Create(items []workload.Item) error {
	c.n, c.byIndex = len(items), make(map[int]*kro.Instance, len(items))
	for i, it := range items {
		key := api.Key{GVR: kro.InstanceGVR(it.RGD), Namespace: it.Instance.GetNamespace(), Name: it.Instance.GetName()}
		c.k.After(it.Arrival, func() {
			items[i].Instance = nil
			for _, e := range it.Externals {
				ek := api.Key{GVR: c.srv.Store.GVR(e.GetAPIVersion(), e.GetKind()), Namespace: e.GetNamespace(), Name: e.GetName()}
				if _, err := c.srv.Store.Get(ek); err != nil {
					_, _ = c.world.Create(ek, e)
				}
			}
			in := c.ctrl.Track(key, it.RGD)
			c.instances = append(c.instances, in)
			c.byIndex[it.Index] = in
			if _, err := c.world.Create(key, it.Instance); err != nil {
				c.createErr = err
			}
		})
	}
	return nil
}

// Ready reports whether it's instance exists and kro has reported it ready.
func (c *cluster) Ready(it workload.Item) bool {
	in := c.byIndex[it.Index]
	if in == nil || !in.IsReady() {
		return false
	}
	_, err := c.srv.Store.Get(in.Key())
	return err == nil
}

func (c *cluster) Update(items []workload.Item) (int, error) {
	changed := 0
	for _, it := range items {
		in := c.byIndex[it.Index]
		obj, err := c.srv.Store.Get(in.Key())
		if err != nil {
			continue
		}
		if _, err := c.world.Update(in.Key(), workload.Change(it.RGD, obj)); err == nil {
			c.ctrl.Updated(in)
			changed++
		}
	}
	return changed, nil
}

func (c *cluster) Delete(items []workload.Item) error {
	for _, it := range items {
		if in := c.byIndex[it.Index]; in != nil {
			c.ctrl.DeleteRequested(in)
			_ = c.world.Delete(in.Key())
		}
	}
	return nil
}

// Settled reports a phase settled once kro has settled every instance in it;
// virtual time never runs out here (the kernel's limit ends the run).
func (c *cluster) Settled(p workload.Phase) (workload.Wait, time.Duration, error) {
	if c.createErr != nil {
		return workload.Waiting, 0, c.createErr
	}
	var done bool
	n := c.n
	switch p {
	case workload.Create:
		done = len(c.instances) == n && c.ctrl.Progress().CreateSettled >= n
		if done && !c.settled {
			// kro records how the create phase ended for every instance,
			// before a deletion phase can change it.
			c.settled = true
			c.ctrl.EndCreatePhase()
			if c.created != nil {
				c.created(c.srv.Store.Objects())
			}
		}
	case workload.Update:
		done = c.ctrl.Progress().UpdatePending == 0
	case workload.Delete:
		done = c.ctrl.Progress().DeleteSettled >= n
	}
	if !done {
		return workload.Waiting, 0, nil
	}
	return workload.Done, c.k.Now(), nil
}

// Idle reports whether nothing is scheduled: no requeue pending, no
// reconcile or request in flight.
func (c *cluster) Idle() (bool, error) { return c.k.Pending() == 0, nil }

// EndPhase takes stock of the run as a phase ends and kro is idle, where a
// real run's scrapes split its phases.
func (c *cluster) EndPhase(p workload.Phase, _ time.Duration) error {
	e := PhaseEnd{Phase: p, At: c.k.Now(), Wakeups: c.srv.Served.Wakeups,
		CacheWaits: c.srv.CacheStats.Waits, CacheWait: c.srv.CacheStats.Wait}
	e.Reconciles, e.Calls = c.ctrl.Counts()
	c.phaseEnds = append(c.phaseEnds, e)
	return nil
}
