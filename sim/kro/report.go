package kro

import (
	"time"

	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/queue"
	"github.com/krosim/krosim/sim/span"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Stats are the controller's counters.
type Stats struct {
	Reconciles         int
	ReconcileDurations []time.Duration
	ReconcileErrors    int
	Requeues           map[string]int // requeue, requeue_after, rate_limited, no_requeue
	Evals              int
	EvalDurations      []time.Duration
	EvalTimes          []time.Duration // when each of EvalDurations was observed
	CompileTime        time.Duration   // RGD controller CPU for graph builds
	Log                []Reconcile     // every reconcile, in the order they ended
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
	Len          int             // items waiting at the end of the run
	QueueWaits   []time.Duration // time from Add to Get, of every item
	DepthSeconds float64         // integral of depth over virtual time
	Log          []queue.Event   // what client-go's workqueue metrics observe
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

// Report returns what the controller did so far; call it after Finish
// for a whole run.
func (c *Controller) Report() Report {
	s := c.stats
	s.ReconcileDurations = append([]time.Duration(nil), s.ReconcileDurations...)
	s.EvalDurations = append([]time.Duration(nil), s.EvalDurations...)
	s.EvalTimes = append([]time.Duration(nil), s.EvalTimes...)
	s.Log = append([]Reconcile(nil), s.Log...)
	s.Requeues = make(map[string]int, len(c.stats.Requeues))
	for k, v := range c.stats.Requeues {
		s.Requeues[k] = v
	}
	r := Report{Stats: s, RGDThread: c.rgdThread, Samples: c.rec.Samples(), Client: c.client.Stats.Clone(),
		Queue: QueueStats{Adds: c.queue.Adds, MaxDepth: c.queue.MaxDepth, Len: c.queue.Len(),
			QueueWaits: append([]time.Duration(nil), c.queue.QueueWaits...), DepthSeconds: c.queue.DepthSeconds,
			Log: append([]queue.Event(nil), c.queue.Log...)}}
	for _, th := range c.threads {
		r.Threads = append(r.Threads, *th)
	}
	for _, in := range c.tracked {
		r.Instances = append(r.Instances, in.rec)
	}
	return r
}
