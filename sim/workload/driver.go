package workload

import (
	"errors"
	"fmt"
	"time"
)

// Phase is a phase of a workload.
type Phase int

// The phases, in the order a workload runs them.
const (
	Create Phase = iota
	Update
	Delete
)

func (p Phase) String() string { return [...]string{"create", "update", "delete"}[p] }

// What a driver waits for in each phase: strings made once, because the
// driver steps after every event of a run.
var (
	settleWaits = perPhase("every instance to settle in the %s phase")
	idleWaits   = perPhase("kro to go idle after the %s phase")
)

func perPhase(format string) (out [Delete + 1]string) {
	for p := Create; p <= Delete; p++ {
		out[p] = fmt.Sprintf(format, p)
	}
	return out
}

// Wait is how a wait for a phase stands.
type Wait int

const (
	Waiting  Wait = iota // not yet
	Done                 // every instance settled: ready (updated, gone) or failed for good
	TimedOut             // the phase ran out of time; the workload ends incomplete
)

// Cluster is where a plan runs: the simulated cluster in virtual time, or a
// real one through client-go. A simulated cluster answers every call at
// once and the driver is stepped after each event; a real one may block
// until the answer is known.
type Cluster interface {
	// Now is the time since the workload started.
	Now() time.Duration
	// Create creates each item's externals (unless present) and instance at
	// its arrival. Once an instance is created its item's Instance may be
	// released (set to nil): the driver never reads it again, and a large
	// plan would otherwise keep a second copy of every instance.
	Create(items []Item) error
	// Ready reports whether the instance of it is ready.
	Ready(it Item) bool
	// Update changes the spec of the items' instances (Change) and returns
	// how many it changed.
	Update(items []Item) (int, error)
	// Delete deletes the items' instances.
	Delete(items []Item) error
	// Settled reports whether every instance has settled in phase p, and
	// since when.
	Settled(p Phase) (Wait, time.Duration, error)
	// Idle reports whether kro has nothing left to do: what the phase set in
	// motion (requeues already scheduled, their reconciles) is done.
	Idle() (bool, error)
	// EndPhase is told when a phase is over and kro idle, and how long the
	// phase took until every instance settled.
	EndPhase(p Phase, took time.Duration) error
}

// Timeline is when each phase of a workload began and settled, since the
// workload started. A zero end means the phase never settled.
type Timeline struct {
	Ready                time.Duration // every instance settled after creation
	UpdateStart, Updated time.Duration
	InstancesUpdated     int
	DeleteStart, Gone    time.Duration
	Complete             bool
	Incomplete           string // why not, when not complete
	// Waiting is what the driver last waited for, e.g. "kro to go idle
	// after the create phase"; "" once the workload is over.
	Waiting string
}

// ErrTimedOut marks a phase that ran out of time.
var ErrTimedOut = errors.New("timed out")

// Driver runs a plan's phases against a cluster: create every instance at
// its arrival, wait until all settle and kro is idle; change the spec of the
// plan's share of ready instances, wait until kro has reconciled each and is
// idle; delete every instance (if asked), wait until all are gone and kro is
// idle. It is a state machine: Step advances it as far as the cluster
// allows without waiting, so the same driver runs in virtual time and in
// real time.
type Driver struct {
	plan  *Plan
	c     Cluster
	next  func() (bool, error) // the current state; true when it moved on
	phase Phase                // the phase settling, then idling
	tl    Timeline
	done  bool
}

// NewDriver returns a driver of plan on c, before its first step.
func NewDriver(plan *Plan, c Cluster) *Driver {
	d := &Driver{plan: plan, c: c}
	d.next = d.create
	return d
}

// Timeline is what the driver has seen so far.
func (d *Driver) Timeline() Timeline { return d.tl }

// Step advances the workload as far as it can go now and reports whether it
// is over. An error ends it: the cluster failed, or a phase timed out.
func (d *Driver) Step() (bool, error) {
	for !d.done {
		moved, err := d.next()
		if err != nil {
			d.done = true
			d.tl.Incomplete = err.Error()
			return true, err
		}
		if !moved {
			return false, nil
		}
	}
	return true, nil
}

// Run steps the driver until the workload is over, calling wait between
// steps that could not move; for a cluster whose calls block, wait can do
// nothing.
func (d *Driver) Run(wait func() error) error {
	for {
		over, err := d.Step()
		if over || err != nil {
			return err
		}
		if err := wait(); err != nil {
			return err
		}
	}
}

func (d *Driver) to(state func() (bool, error)) (bool, error) {
	d.next = state
	return true, nil
}

func (d *Driver) create() (bool, error) {
	if err := d.c.Create(d.plan.Items); err != nil {
		return false, err
	}
	return d.begin(Create)
}

// begin waits for phase p to settle, then for the cluster to be idle. The
// driver steps after every event, so a state that waits must not allocate:
// the phase is a field, not captured in a closure.
func (d *Driver) begin(p Phase) (bool, error) {
	d.phase = p
	return d.to(d.settling)
}

// settling waits for the phase to settle, then for the cluster to be idle.
func (d *Driver) settling() (bool, error) {
	end := [...]*time.Duration{Create: &d.tl.Ready, Update: &d.tl.Updated, Delete: &d.tl.Gone}[d.phase]
	if ok, err := d.settled(d.phase, end); !ok {
		return false, err
	}
	return d.to(d.idling)
}

// idling waits for the cluster to be idle after the phase, then moves on
// to the next phase, or finishes.
func (d *Driver) idling() (bool, error) {
	tl := &d.tl
	took := [...]time.Duration{Create: tl.Ready, Update: tl.Updated - tl.UpdateStart, Delete: tl.Gone - tl.DeleteStart}[d.phase]
	if ok, err := d.idle(d.phase, took); !ok {
		return false, err
	}
	return d.to([...]func() (bool, error){Create: d.update, Update: d.delete, Delete: d.finish}[d.phase])
}

// settled waits for phase p and reports whether it ended; at its end it
// records when.
func (d *Driver) settled(p Phase, at *time.Duration) (bool, error) {
	w, when, err := d.c.Settled(p)
	switch {
	case err != nil:
		return false, err
	case w == Waiting:
		d.tl.Waiting = settleWaits[p]
		return false, nil
	case w == TimedOut:
		return false, fmt.Errorf("%s phase: %w", p, ErrTimedOut)
	}
	*at = when
	return true, nil
}

// idle waits until kro is idle after phase p, which settled took after it
// began, then tells the cluster; it reports whether that happened.
func (d *Driver) idle(p Phase, took time.Duration) (bool, error) {
	ok, err := d.c.Idle()
	if err != nil || !ok {
		d.tl.Waiting = idleWaits[p]
		return false, err
	}
	if err := d.c.EndPhase(p, took); err != nil {
		return false, err
	}
	return true, nil
}

func (d *Driver) update() (bool, error) {
	m := d.plan.Updates()
	var pick []Item
	for _, it := range d.plan.Items {
		if len(pick) == m {
			break
		}
		if d.c.Ready(it) {
			pick = append(pick, it)
		}
	}
	if len(pick) == 0 {
		return d.to(d.delete)
	}
	d.tl.UpdateStart = d.c.Now()
	n, err := d.c.Update(pick)
	if err != nil {
		return false, err
	}
	d.tl.InstancesUpdated = n
	if n == 0 {
		d.tl.UpdateStart = 0
		return d.to(d.delete)
	}
	return d.begin(Update)
}

func (d *Driver) delete() (bool, error) {
	if !d.plan.Workload.Delete {
		return d.finish()
	}
	d.tl.DeleteStart = d.c.Now()
	if err := d.c.Delete(d.plan.Items); err != nil {
		return false, err
	}
	return d.begin(Delete)
}

func (d *Driver) finish() (bool, error) {
	d.tl.Complete, d.done, d.tl.Waiting = true, true, ""
	return true, nil
}
