package cluster

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/krosim/krosim/sim/result"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// tracker follows the instances through one watch per instance resource:
// when each was created, first reported ready (status.state ACTIVE), had its
// spec changed and reported ready for the new generation, was asked to be
// deleted and was gone.
type tracker struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	start   time.Time
	lives   map[string]*life
	ready   int
	updated int
	gone    int
	cancel  context.CancelFunc
	done    sync.WaitGroup
	err     error
}

type life struct {
	created, ready, deleting, gone time.Time
	// gen is the generation the workload changed the spec to, at changed;
	// updated is when kro first reported it Ready for that generation.
	changed, updated time.Time
	gen              int64
	// last is the newest object seen and when, so a Ready for the new
	// generation that arrives before the change is recorded still counts.
	last   *unstructured.Unstructured
	lastAt time.Time
}

// watch starts following the instances of every RGD of the run.
func (r *runner) watch(ctx context.Context) (*tracker, error) {
	ctx, cancel := context.WithCancel(ctx)
	t := &tracker{changed: make(chan struct{}), lives: map[string]*life{}, cancel: cancel}
	for _, gvr := range r.gvrs {
		list, err := r.dyn.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("listing %s: %w", gvr.Resource, err)
		}
		if len(list.Items) > 0 {
			cancel()
			return nil, fmt.Errorf("%s already has instances (%s/%s ...): delete them first, so the run measures only its own",
				gvr.Resource, list.Items[0].GetNamespace(), list.Items[0].GetName())
		}
		t.done.Add(1)
		go t.follow(ctx, r, gvr, list.GetResourceVersion())
	}
	return t, nil
}

// follow watches one resource, re-watching from the last version seen when
// the server closes the watch.
func (t *tracker) follow(ctx context.Context, r *runner, gvr schema.GroupVersionResource, rv string) {
	defer t.done.Done()
	for ctx.Err() == nil {
		w, err := r.dyn.Resource(gvr).Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			if ctx.Err() == nil {
				t.fail(fmt.Errorf("watching %s: %w", gvr.Resource, err))
			}
			return
		}
		for ev := range w.ResultChan() {
			obj, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue // a Status: the watch is ending
			}
			rv = obj.GetResourceVersion()
			t.observe(ev.Type, obj, time.Now())
		}
		w.Stop()
	}
}

func (t *tracker) observe(typ watch.EventType, obj *unstructured.Unstructured, now time.Time) {
	if typ == watch.Bookmark || typ == watch.Error {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.life(obj.GetNamespace() + "/" + obj.GetName())
	switch typ {
	case watch.Deleted:
		if l.gone.IsZero() {
			l.gone = now
			t.gone++
		}
	default:
		state, _, _ := unstructured.NestedString(obj.Object, "status", "state")
		if state == "ACTIVE" && l.ready.IsZero() {
			l.ready = now
			t.ready++
		}
		l.last, l.lastAt = obj, now
		t.checkUpdated(l)
	}
	t.notify()
}

// readyFor says whether kro reports the instance Ready for generation gen:
// its Ready condition is True and observed that generation or a later one.
func readyFor(obj *unstructured.Unstructured, gen int64) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		observed, _, _ := unstructured.NestedInt64(m, "observedGeneration")
		return m["status"] == "True" && observed >= gen
	}
	return false
}

func (t *tracker) life(k string) *life {
	l := t.lives[k]
	if l == nil {
		l = &life{}
		t.lives[k] = l
	}
	return l
}

func (t *tracker) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *tracker) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
	t.notify()
}

// failure is why following the instances stopped, if it did.
func (t *tracker) failure() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *tracker) setStart(s time.Time) {
	t.mu.Lock()
	t.start = s
	t.mu.Unlock()
}

func (t *tracker) created(k string, at time.Time) {
	t.mu.Lock()
	t.life(k).created = at
	t.mu.Unlock()
}

// specChanged records that the workload changed an instance's spec to generation gen.
func (t *tracker) specChanged(k string, gen int64, at time.Time) {
	t.mu.Lock()
	l := t.life(k)
	l.gen, l.changed = gen, at
	t.checkUpdated(l)
	t.mu.Unlock()
}

// checkUpdated marks l updated once its newest object is Ready for the
// generation the workload changed it to. t.mu is held.
func (t *tracker) checkUpdated(l *life) {
	if l.gen > 0 && l.updated.IsZero() && l.last != nil && readyFor(l.last, l.gen) {
		l.updated = l.lastAt
		t.updated++
		t.notify()
	}
}

func (t *tracker) deleting(k string, at time.Time) {
	t.mu.Lock()
	t.life(k).deleting = at
	t.mu.Unlock()
}

func (t *tracker) count(what string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counted(what)
}

// counted is count with t.mu held.
func (t *tracker) counted(what string) int {
	switch what {
	case "ready":
		return t.ready
	case "updated":
		return t.updated
	}
	return t.gone
}

// wait blocks until cond holds (true and the time of the last event it
// needed) or timeout passes (false and the time of the last such event).
func (t *tracker) wait(ctx context.Context, timeout time.Duration, cond func(*tracker) bool, what string) (time.Time, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		ok, ch, err := cond(t), t.changed, t.err
		last := t.last(what)
		t.mu.Unlock()
		if ok || err != nil {
			return last, ok
		}
		select {
		case <-ch:
		case <-deadline.C:
			return last, false
		case <-ctx.Done():
			return last, false
		}
	}
}

func (t *tracker) last(what string) time.Time {
	var last time.Time
	for _, l := range t.lives {
		at := l.ready
		switch what {
		case "gone":
			at = l.gone
		case "updated":
			at = l.updated
		}
		if at.After(last) {
			last = at
		}
	}
	return last
}

// timings returns every instance's life relative to the start, sorted by
// name, and the times to ready.
func (t *tracker) timings() ([]result.Timing, []float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.lives))
	for k := range t.lives {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rel := func(at time.Time) *float64 {
		if at.IsZero() {
			return nil
		}
		v := result.Round(at.Sub(t.start).Seconds())
		return &v
	}
	var out []result.Timing
	var ttr []float64
	for _, k := range keys {
		l := t.lives[k]
		tm := result.Timing{Name: k, Ready: rel(l.ready), Changed: rel(l.changed), Updated: rel(l.updated),
			Deleted: rel(l.deleting), Gone: rel(l.gone)}
		if c := rel(l.created); c != nil {
			tm.Created = *c
		}
		out = append(out, tm)
		if !l.ready.IsZero() && !l.created.IsZero() {
			ttr = append(ttr, result.Round(l.ready.Sub(l.created).Seconds()))
		}
	}
	return out, ttr
}

func (t *tracker) stop() {
	t.cancel()
	t.done.Wait()
}

// isReady reports whether kro has reported the instance k ready.
func (t *tracker) isReady(k string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.lives[k]
	return l != nil && !l.ready.IsZero()
}
