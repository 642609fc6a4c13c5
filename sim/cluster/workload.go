package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/krosim/krosim/sim/workload"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The runner's side of workload.Cluster: client-go requests in real time,
// a phase settled when the tracker has seen every instance through it.

// Now is the time since the create phase began.
func (r *runner) Now() time.Duration { return time.Since(r.start) }

// Create creates the items, Parallel at a time, each at its arrival: its
// externals first (one that exists already is fine), then it. Each external
// is created once per run, however many items point to it, as the
// simulated workload does: items sharing one wait for its creation.
func (r *runner) Create(items []workload.Item) error {
	ctx := r.ctx
	r.n = len(items)
	r.start = time.Now()
	r.tracker.setStart(r.start)
	r.logf("creating %d instances (%d at a time)", len(items), r.cfg.Parallel)
	return r.each(ctx, len(items), func(i int) error {
		it := items[i]
		if err := sleep(ctx, time.Until(r.start.Add(it.Arrival))); err != nil {
			return err
		}
		for _, e := range it.Externals {
			if err := r.externals.create(e, func() error { return r.createExternal(ctx, e) }); err != nil {
				return err
			}
		}
		inst := it.Instance
		r.tracker.created(key(inst), time.Now())
		if _, err := r.dyn.Resource(r.gvr(it)).Namespace(inst.GetNamespace()).Create(ctx, inst, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating %s/%s: %w", inst.GetNamespace(), inst.GetName(), err)
		}
		return nil
	})
}

// gvr is the resource of it's instance.
func (r *runner) gvr(it workload.Item) schema.GroupVersionResource {
	for i, g := range r.rgds {
		if g == it.RGD {
			return r.gvrs[i]
		}
	}
	panic("cluster: an item of an RGD the run does not have")
}

func (r *runner) Ready(it workload.Item) bool { return r.tracker.isReady(key(it.Instance)) }

// Update changes the items' specs, Parallel at a time, and returns how many
// it changed; kro must then report each Ready for its new generation.
func (r *runner) Update(items []workload.Item) (int, error) {
	r.logf("changing the spec of %d instances", len(items))
	err := r.each(r.ctx, len(items), func(i int) error {
		return r.change(r.ctx, r.gvr(items[i]), items[i].Instance, items[i].RGD)
	})
	if err != nil {
		return 0, err
	}
	r.updating = len(items)
	return len(items), nil
}

// Delete deletes the items' instances, Parallel at a time.
func (r *runner) Delete(items []workload.Item) error {
	r.logf("deleting %d instances", len(items))
	return r.each(r.ctx, len(items), func(i int) error {
		inst := items[i].Instance
		r.tracker.deleting(key(inst), time.Now())
		err := r.dyn.Resource(r.gvr(items[i])).Namespace(inst.GetNamespace()).Delete(r.ctx, inst.GetName(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %s/%s: %w", inst.GetNamespace(), inst.GetName(), err)
		}
		return nil
	})
}

// Settled waits until the tracker has seen every instance through phase p,
// or the phase's timeout passes.
func (r *runner) Settled(p workload.Phase) (workload.Wait, time.Duration, error) {
	n, what := r.n, "ready"
	switch p {
	case workload.Update:
		n, what = r.updating, "updated"
	case workload.Delete:
		what = "gone"
	}
	began := time.Now()
	at, ok := r.tracker.wait(r.ctx, r.cfg.Timeout, func(t *tracker) bool { return t.counted(what) == n }, what)
	if err := r.tracker.failure(); err != nil {
		return workload.Waiting, 0, err
	}
	if err := r.ctx.Err(); err != nil {
		return workload.Waiting, 0, err
	}
	r.logf("%d of %d %s after %.3fs; waiting for kro to be idle", r.tracker.count(what), n, what, time.Since(began).Seconds())
	if !ok {
		// The phase is still counted, up to the last instance that made it.
		r.timedOut = &timeout{phase: p, took: at.Sub(began)}
		return workload.TimedOut, 0, nil
	}
	return workload.Done, at.Sub(r.start), nil
}

// Idle waits until kro's reconcile counter has stood still for the quiet period.
func (r *runner) Idle() (bool, error) {
	at, err := r.quiesce(r.ctx)
	if err != nil {
		return false, err
	}
	r.idleAt = at
	return true, nil
}

// EndPhase scrapes both metrics endpoints and records what kro did in the
// phase.
func (r *runner) EndPhase(p workload.Phase, took time.Duration) error {
	s, k, err := r.scrape(r.ctx, r.last.scrapes)
	if err != nil {
		return err
	}
	to := mark{s: s, k: k, own: r.own.snapshot(), idle: r.idleAt, scrapes: r.last.scrapes + 1, cpu: ProcessCPU(r.cfg.PIDDir)}
	r.probe.mark()
	ph := r.phase(p.String(), took, r.last, to)
	ph.ProbeMicros = r.probe.phase(len(r.phases))
	ph.BusyProbeMicros, ph.IdleProbeMicros = r.probe.split(len(r.phases), r.idleAt)
	r.probe.exclude(&ph, len(r.phases))
	r.phases = append(r.phases, ph)
	r.last = to
	return nil
}

// createExternal creates e, unless it exists already.
func (r *runner) createExternal(ctx context.Context, e *unstructured.Unstructured) error {
	gvr, err := r.gvrFor(ctx, e)
	if err != nil {
		return err
	}
	if _, err := r.dyn.Resource(gvr).Namespace(e.GetNamespace()).Create(ctx, e, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating external %s: %w", e.GetName(), err)
	}
	return nil
}

// externals makes each external object of a run once: the first item to
// need one creates it, the others wait for that and share its outcome.
type externals struct {
	mu   sync.Mutex
	made map[string]*externalOnce
}

type externalOnce struct {
	once sync.Once
	err  error
}

// create runs do once for e's object and returns its outcome.
func (x *externals) create(e *unstructured.Unstructured, do func() error) error {
	key := e.GetAPIVersion() + "/" + e.GetKind() + "/" + e.GetNamespace() + "/" + e.GetName()
	x.mu.Lock()
	if x.made == nil {
		x.made = map[string]*externalOnce{}
	}
	o := x.made[key]
	if o == nil {
		o = &externalOnce{}
		x.made[key] = o
	}
	x.mu.Unlock()
	o.once.Do(func() { o.err = do() })
	return o.err
}
