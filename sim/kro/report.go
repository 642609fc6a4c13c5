package kro

import (
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/queue"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/tape"
	"github.com/krosim/krosim/sim/verb"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Stats are the controller's counters.
type Stats struct {
	Reconciles      int
	ReconcileErrors int
	Requeues        map[string]int // requeue, requeue_after, rate_limited, no_requeue
	Evals           int
	CompileTime     time.Duration // RGD controller CPU for graph builds
	// The logs metrics are drawn from, a few bytes an entry (see Evals and
	// ReconcileLog).
	evals evalLog
	log   reconcileLog
}

// eval logs the duration d of an evaluation observed at time at.
func (s *Stats) eval(d, at time.Duration) {
	s.Evals++
	s.evals.add(d, at)
}

// EvalObservations are the evaluations' times with their durations, in
// order: one per evaluation (Evals), an outcome over the cost limit reused
// for the same inputs included, as kro evaluates it again.
func (s *Stats) EvalObservations() iter.Seq2[time.Duration, time.Duration] { return s.evals.all() }

// evalLog keeps every evaluation in a byte or two: the time since the
// previous one and its duration in one number, the duration as its index
// among the first few distinct durations seen (an evaluation's duration is
// its cost in model units, so a run has a handful), else given in full
// after it.
type evalLog struct {
	t    tape.Tape
	last time.Duration // the time of the last evaluation logged
	durs []time.Duration
}

const (
	evalBits = 3
	evalFull = 1<<evalBits - 1 // the index that says the duration follows
)

func (l *evalLog) add(d, at time.Duration) {
	ix := slices.Index(l.durs, d)
	if ix < 0 && len(l.durs) < evalFull {
		ix = len(l.durs)
		l.durs = append(l.durs, d)
	}
	if ix < 0 {
		ix = evalFull
	}
	l.t.Put(int64(at-l.last)<<evalBits | int64(ix))
	if ix == evalFull {
		l.t.Put(int64(d))
	}
	l.last = at
}

func (l *evalLog) all() iter.Seq2[time.Duration, time.Duration] {
	return func(yield func(time.Duration, time.Duration) bool) {
		r := l.t.Reader()
		var at time.Duration
		for r.More() {
			v := r.Next()
			at += time.Duration(v >> evalBits)
			var d time.Duration
			if ix := v & evalFull; ix == evalFull {
				d = time.Duration(r.Next())
			} else {
				d = l.durs[ix]
			}
			if !yield(at, d) {
				return
			}
		}
	}
}

func (l *evalLog) clone() evalLog {
	return evalLog{t: l.t.Clone(), last: l.last, durs: slices.Clone(l.durs)}
}

// ReconcileLog is every reconcile, in the order they ended.
func (s *Stats) ReconcileLog() []Reconcile { return s.log.all() }

func (s *Stats) clone() Stats {
	out := *s
	out.evals = s.evals.clone()
	out.log = s.log.clone()
	out.Requeues = maps.Clone(s.Requeues)
	return out
}

// reconcileLog keeps every reconcile in a few bytes: the time since the
// previous one ended, its duration, and its GVR, requeue and flags packed.
type reconcileLog struct {
	t       tape.Tape
	lastEnd time.Duration
	gvrs    []schema.GroupVersionResource // the instance GVRs seen, by index
}

// requeues are the values of Reconcile.Requeue, by index.
var requeues = []string{"", "requeue", "requeue_after", "rate_limited", "no_requeue"}

const (
	logErr     = 1 << 0
	logDropped = 1 << 1
	logShift   = 2 // the requeue's index, then the GVR's
	logRequeue = 8 // requeue indexes below this
)

func (l *reconcileLog) add(r Reconcile) {
	g := slices.Index(l.gvrs, r.GVR)
	if g < 0 {
		g = len(l.gvrs)
		l.gvrs = append(l.gvrs, r.GVR)
	}
	q := slices.Index(requeues, r.Requeue)
	if q < 0 {
		panic("kro: reconcile log: unknown requeue " + r.Requeue)
	}
	flags := int64(g*logRequeue+q) << logShift
	if r.Err {
		flags |= logErr
	}
	if r.Dropped {
		flags |= logDropped
	}
	l.t.Put(int64(r.End - l.lastEnd))
	l.t.Put(int64(r.End - r.Start))
	l.t.Put(flags)
	l.lastEnd = r.End
}

func (l *reconcileLog) all() []Reconcile {
	out := make([]Reconcile, 0, l.t.Len()/3)
	r := l.t.Reader()
	var end time.Duration
	for r.More() {
		end += time.Duration(r.Next())
		rec := Reconcile{End: end, Start: end - time.Duration(r.Next())}
		flags := r.Next()
		rec.Err, rec.Dropped = flags&logErr != 0, flags&logDropped != 0
		ix := flags >> logShift
		rec.Requeue, rec.GVR = requeues[ix%logRequeue], l.gvrs[ix/logRequeue]
		out = append(out, rec)
	}
	return out
}

func (l *reconcileLog) clone() reconcileLog {
	return reconcileLog{t: l.t.Clone(), lastEnd: l.lastEnd, gvrs: slices.Clone(l.gvrs)}
}

// Reconcile is one instance reconcile as kro's metrics see it.
type Reconcile struct {
	GVR        schema.GroupVersionResource // of the instance
	Start, End time.Duration
	Err        bool   // failed with an error other than a requeue
	Requeue    string // how the worker requeued it: a Requeues key, or "" for none
	Dropped    bool   // the instance was gone
}

// QueueStats are the workqueue's counters.
type QueueStats struct {
	Adds         int
	MaxDepth     int
	Len          int       // items waiting at the end of the run
	DepthSeconds float64   // integral of depth over virtual time
	Log          queue.Log // what client-go's workqueue metrics observe (Log.Waits: Add to Get of every item)
}

// Report is what the controller did in a run, as plain data: a copy that
// shares nothing with the controller's live state.
type Report struct {
	Stats     Stats
	Threads   []span.Thread // one per instance worker
	RGDThread span.Thread   // the RGD controller's
	Samples   []span.Sample // time by stack, sorted
	Queue     QueueStats
	Client    *api.Stats       // kro's client's requests
	Instances []InstanceRecord // the tracked instances, in the order tracked
}

// Counts are how many reconciles kro has run so far and how many requests
// of each verb it has made: cheap to take in the middle of a run.
func (c *Controller) Counts() (reconciles int, calls map[verb.Verb]int) {
	calls = make(map[verb.Verb]int, len(c.client.Stats.Verbs))
	for v, vs := range c.client.Stats.Verbs {
		calls[v] = vs.Calls
	}
	return c.stats.Reconciles, calls
}

// Report returns what the controller did so far; call it after Finish
// for a whole run.
func (c *Controller) Report() Report {
	r := Report{Stats: c.stats.clone(), RGDThread: c.rgdThread, Samples: c.rec.Samples(), Client: c.client.Stats.Clone(),
		Queue: QueueStats{Adds: c.queue.Adds, MaxDepth: c.queue.MaxDepth, Len: c.queue.Len(),
			DepthSeconds: c.queue.DepthSeconds, Log: c.queue.Log.Clone()}}
	for _, th := range c.threads {
		r.Threads = append(r.Threads, *th)
	}
	for _, in := range c.tracked {
		r.Instances = append(r.Instances, in.rec)
	}
	return r
}
