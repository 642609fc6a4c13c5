package kro

import (
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestReconcileLogRoundTrip checks that the reconcile log gives back every
// reconcile as logged, in order, whatever its GVR and requeue.
func TestReconcileLogRoundTrip(t *testing.T) {
	a := schema.GroupVersionResource{Group: "kro.run", Version: "v1alpha1", Resource: "apps"}
	b := schema.GroupVersionResource{Group: "kro.run", Version: "v1alpha1", Resource: "dbs"}
	var want []Reconcile
	for i, q := range requeues {
		want = append(want, Reconcile{GVR: a, Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second, Requeue: q})
	}
	want = append(want,
		Reconcile{GVR: b, Start: 10 * time.Second, End: 10 * time.Second, Err: true, Requeue: "rate_limited"},
		Reconcile{GVR: a, Start: 5 * time.Second, End: 11 * time.Second, Dropped: true})
	var l reconcileLog
	for _, r := range want {
		l.add(r)
	}
	c := l.clone()
	l.add(Reconcile{GVR: b, End: time.Hour})
	if got := c.all(); !slices.Equal(got, want) {
		t.Errorf("reconciles\n%+v\nwant\n%+v", got, want)
	}
}

// TestEvalObservationsPairInOrder checks that evaluations come back in
// order, each with the time it was observed.
func TestEvalObservationsPairInOrder(t *testing.T) {
	var s Stats
	s.eval(10, time.Second)
	s.eval(20, time.Second)
	s.eval(30, 2*time.Second)
	var times, durs []time.Duration
	for at, d := range s.EvalObservations() {
		times, durs = append(times, at), append(durs, d)
	}
	if !slices.Equal(times, []time.Duration{time.Second, time.Second, 2 * time.Second}) || !slices.Equal(durs, []time.Duration{10, 20, 30}) || s.Evals != 3 {
		t.Errorf("times %v durations %v evals %d", times, durs, s.Evals)
	}
}

// TestEvalObservationsKeepManyDurations checks that durations beyond the
// few the log numbers come back exactly, mixed with numbered ones, and that
// a clone is independent of the stats.
func TestEvalObservationsKeepManyDurations(t *testing.T) {
	var s Stats
	var want []time.Duration
	for i := range 40 {
		d := time.Duration(i%11) * 1500 // 11 distinct, repeating
		if i == 33 {
			d = time.Hour
		}
		s.eval(d, time.Duration(i/3)*time.Millisecond)
		want = append(want, d)
	}
	c := s.clone()
	s.eval(time.Minute, time.Second)
	var got []time.Duration
	var last time.Duration
	for at, d := range c.EvalObservations() {
		if at < last || at != time.Duration(len(got)/3)*time.Millisecond {
			t.Fatalf("evaluation %d at %v after %v", len(got), at, last)
		}
		got, last = append(got, d), at
	}
	if !slices.Equal(got, want) {
		t.Errorf("durations %v, want %v", got, want)
	}
}

// TestRoutesHoldEachInstanceOnce checks the routing table: adds are
// idempotent, removing the first watcher moves another up, and a request
// leaves both tables only when its last watcher goes.
func TestRoutesHoldEachInstanceOnce(t *testing.T) {
	a, b, c := &Instance{}, &Instance{}, &Instance{}
	r := newRoutes()
	req, other := watchReq{name: "x"}, watchReq{scope: 1, name: "x"}
	for _, in := range []*Instance{a, b, a, c, b} {
		r.add(req, in)
	}
	r.add(other, c)
	if got := slices.Collect(r.all(req)); len(got) != 3 {
		t.Fatalf("%d instances, want 3", len(got))
	}
	r.remove(req, a)
	r.remove(req, a)
	r.remove(req, c)
	if got := slices.Collect(r.all(req)); len(got) != 1 || got[0] != b {
		t.Fatalf("left %v, want only b", got)
	}
	if len(r.more) != 0 {
		t.Errorf("%d requests left with other watchers, want 0", len(r.more))
	}
	r.remove(req, b)
	if got := slices.Collect(r.all(req)); len(got) != 0 || len(r.one) != 1 {
		t.Errorf("left %v and %d requests, want none and only the other request", got, len(r.one))
	}
	if got := slices.Collect(r.all(other)); len(got) != 1 || got[0] != c {
		t.Errorf("the other request's watchers %v, want c", got)
	}
}
