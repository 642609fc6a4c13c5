package kro

import (
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
)

// Instance is the controller's view of one instance: what happened to it,
// kept for results and for the workload's decisions. Only the controller
// changes it; others read it through its methods.
type Instance struct {
	rec   InstanceRecord
	graph *Graph // nil for an instance the workload did not track
	// The children whose events reach this instance: requested in the
	// reconcile in progress, and committed by the last one (kro's watch coordinator).
	watchCur, watchPrev []watchReq
}

// Key is the instance's object.
func (in *Instance) Key() api.Key { return in.rec.Key }

// RGD is the instance's graph definition.
func (in *Instance) RGD() *model.RGD { return in.graph.RGD }

// IsReady reports whether kro has written state ACTIVE on the instance.
func (in *Instance) IsReady() bool { return in.rec.IsReady }

// InstanceRecord is what happened to one instance, as plain data.
type InstanceRecord struct {
	Key      api.Key
	RGD      string // its graph's name; "" when the workload did not track it
	Created  time.Duration
	Ready    time.Duration // when kro first wrote state ACTIVE
	IsReady  bool
	Deleting time.Duration // when kro's deletion path first ran
	// DeleteAt is when the workload deleted the instance (0: it did not).
	DeleteAt   time.Duration
	Gone       time.Duration // when the instance object disappeared
	IsGone     bool
	Reconciles int
	Failed     bool          // dropped after the retry limit
	FailedAt   time.Duration // when it was last dropped
	LastErr    string
	// Waiting is what the last reconcile left unsettled said keeps the
	// instance from ready ("" once it was): kro's ResourcesReady message, and
	// the expression whose data was missing.
	Waiting string
	// Churn: when the workload changed the spec, and when kro finished reconciling it.
	UpdatedAt, UpdateReady time.Duration
	UpdateDone             bool
	// How the create phase ended (EndCreatePhase): failed for good, and its last error.
	CreateFailed bool
	CreateErr    string
}

// Progress is how far the workload's phases are, counted over the tracked
// instances as their states change, so a run can stop cheaply.
type Progress struct {
	// Instances whose create (or delete) phase is settled: ready (gone) or
	// failed for good. A failure counts for the delete phase only when kro
	// dropped the instance while deleting it: one that failed at create is
	// settled for deletion once it is really gone.
	CreateSettled, DeleteSettled int
	// Ready counts the instances kro reports ready.
	Ready int
	// UpdatePending counts changed instances kro has not finished reconciling.
	UpdatePending int
}

// Progress returns the settled and pending counts now.
func (c *Controller) Progress() Progress { return c.progress }

// change applies f to an instance's state, keeping the progress counts.
func (c *Controller) change(in *Instance, f func()) {
	b := func(x bool) int {
		if x {
			return 1
		}
		return 0
	}
	pending := func() bool { return in.rec.UpdatedAt > 0 && !in.rec.UpdateDone && !in.rec.Failed }
	p := &c.progress
	p.CreateSettled -= b(in.rec.IsReady || in.rec.Failed)
	p.DeleteSettled -= b(in.rec.deleteSettled())
	p.UpdatePending -= b(pending())
	p.Ready -= b(in.rec.IsReady)
	f()
	p.Ready += b(in.rec.IsReady)
	p.CreateSettled += b(in.rec.IsReady || in.rec.Failed)
	p.DeleteSettled += b(in.rec.deleteSettled())
	p.UpdatePending += b(pending())
}

// deleteSettled reports whether the instance is gone, or kro dropped it
// after its deletion began (it failed while deleting, and stays).
func (r *InstanceRecord) deleteSettled() bool {
	return r.IsGone || (r.Failed && r.DeleteAt > 0 && r.FailedAt > r.DeleteAt)
}

// Updated records that the workload changed an instance's spec now.
func (c *Controller) Updated(in *Instance) {
	c.change(in, func() { in.rec.UpdatedAt, in.rec.UpdateDone = c.k.Now(), false })
}

// DeleteRequested records that the workload deleted an instance now.
func (c *Controller) DeleteRequested(in *Instance) {
	c.change(in, func() { in.rec.DeleteAt = c.k.Now() })
}

// updateDone records that a reconcile that started at start left the
// instance ready: kro finished reconciling a spec change made before it.
func (c *Controller) updateDone(in *Instance, start time.Duration) {
	if in.rec.UpdatedAt > 0 && !in.rec.UpdateDone && start >= in.rec.UpdatedAt {
		c.change(in, func() { in.rec.UpdateDone, in.rec.UpdateReady = true, c.k.Now() })
	}
}

// setFailed records whether an instance is dropped after the retry limit.
func (c *Controller) setFailed(in *Instance, failed bool) {
	if in != nil && in.rec.Failed != failed {
		c.change(in, func() {
			in.rec.Failed = failed
			if failed {
				in.rec.FailedAt = c.k.Now()
			}
		})
	}
}

// EndCreatePhase records how the create phase ended for every tracked
// instance (failed for good and never ready, and its last error), before a
// deletion phase can change it.
func (c *Controller) EndCreatePhase() {
	for _, in := range c.tracked {
		in.rec.CreateFailed, in.rec.CreateErr = in.rec.Failed && !in.rec.IsReady, in.rec.LastErr
	}
}
