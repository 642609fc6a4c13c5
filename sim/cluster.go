package sim

import (
	"fmt"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
	"github.com/krosim/krosim/sim/world"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	user  *user

	n         int             // instances in the plan
	instances []*kro.Instance // created so far, in creation order
	byIndex   map[int]*kro.Instance
	createErr error
	settled   bool // the create phase settled, and kro recorded how
	created   func(objects int)
	phaseEnds []PhaseEnd // what the run had done as each phase ended
	externals map[api.Key]*once
	updating  int // changes sent and not yet answered
}

var _ workload.Cluster = (*cluster)(nil)

func (c *cluster) Now() time.Duration { return c.k.Now() }

// Create sends each item's creation at its arrival, as the workload's user
// creates it: its externals first (each once per run; items sharing one
// wait for its creation), then it.
// Created, the item's instance object is released: the store keeps its own.
func (c *cluster) Create(items []workload.Item) error {
	c.n, c.byIndex = len(items), make(map[int]*kro.Instance, len(items))
	c.externals = map[api.Key]*once{}
	for i, it := range items {
		c.k.After(it.Arrival, func() { c.user.send(func(p *kernel.Proc) { c.create(p, &items[i]) }) })
	}
	return nil
}

// create creates one item: its externals, then its instance.
func (c *cluster) create(p *kernel.Proc, it *workload.Item) {
	for _, e := range it.Externals {
		ek := api.Key{GVR: c.srv.Store.GVR(e.GetAPIVersion(), e.GetKind()), Namespace: e.GetNamespace(), Name: e.GetName()}
		err := c.user.createOnce(p, c.externals, ek, func() error { _, err := c.world.Create(ek, e); return err })
		if err != nil && c.createErr == nil {
			c.createErr = fmt.Errorf("creating external %s: %w", e.GetName(), err)
		}
	}
	key := api.Key{GVR: kro.InstanceGVR(it.RGD), Namespace: it.Instance.GetNamespace(), Name: it.Instance.GetName()}
	obj := it.Instance
	it.Instance = nil
	in := c.ctrl.Track(key, it.RGD)
	c.instances = append(c.instances, in)
	c.byIndex[it.Index] = in
	err := c.user.do(p, verb.Create, key, func() error { _, err := c.world.Create(key, obj); return err })
	if err != nil && c.createErr == nil {
		c.createErr = fmt.Errorf("creating %s/%s: %w", key.Namespace, key.Name, err)
	}
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

// Update sends each existing instance's change, a GET and an UPDATE, and
// returns how many it sends.
func (c *cluster) Update(items []workload.Item) (int, error) {
	changed := 0
	for _, it := range items {
		in := c.byIndex[it.Index]
		if _, err := c.srv.Store.Get(in.Key()); err != nil {
			continue
		}
		changed++
		c.updating++
		c.user.send(func(p *kernel.Proc) {
			defer func() { c.updating-- }()
			var obj *unstructured.Unstructured
			if c.user.do(p, verb.Get, in.Key(), func() (err error) { obj, err = c.srv.Store.Get(in.Key()); return }) != nil {
				return
			}
			_ = c.user.do(p, verb.Update, in.Key(), func() error {
				_, err := c.world.Update(in.Key(), workload.Change(it.RGD, obj))
				if err == nil {
					c.ctrl.Updated(in)
				}
				return err
			})
		})
	}
	return changed, nil
}

// Delete sends each instance's deletion.
func (c *cluster) Delete(items []workload.Item) error {
	for _, it := range items {
		if in := c.byIndex[it.Index]; in != nil {
			c.user.send(func(p *kernel.Proc) {
				c.ctrl.DeleteRequested(in)
				_ = c.user.do(p, verb.Delete, in.Key(), func() error { return c.world.Delete(in.Key()) })
			})
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
		done = c.updating == 0 && c.ctrl.Progress().UpdatePending == 0
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
	e := PhaseEnd{Phase: p, At: c.k.Now(), Wakeups: c.srv.Served.Wakeups, Events: c.srv.Served.Events, KiB: c.srv.Served.KiB,
		CacheWaits: c.srv.CacheStats.Waits, CacheWait: c.srv.CacheStats.Wait}
	e.Reconciles, e.Calls = c.ctrl.Counts()
	c.phaseEnds = append(c.phaseEnds, e)
	return nil
}
