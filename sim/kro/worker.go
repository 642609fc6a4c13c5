package kro

import (
	"time"

	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/span"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// outcome is how a reconcile ended, as kro's dynamic controller sees it.
type outcome struct {
	requeueAfter time.Duration // > 0: RequeueNeededAfter
	err          error         // rate-limited retry
	drop         bool          // instance gone: forget it
}

// worker is one of kro's instance workers: take a key, reconcile, requeue as told.
func (c *Controller) worker(p *kernel.Proc, th *span.Thread) {
	th.Start(c.k.Now(), span.Idle)
	sc := &scratch{}
	for {
		ik := c.queue.Get(p)
		key := c.key(ik)
		th.Switch(c.k.Now(), span.Other)
		start := c.k.Now()
		w := &work{c: c, p: p, th: th, start: start, sc: sc}
		c.inflight[th] = w
		res := w.reconcile(key)
		sc.reset() // nothing rendered outlives its reconcile
		w.flush()
		delete(c.inflight, th)
		// kro commits the reconcile's watch requests unless it failed with
		// an error other than a requeue.
		c.doneWatches(w.in, res.err == nil)
		th.Switch(c.k.Now(), span.Idle)
		c.stats.Reconciles++
		rec := Reconcile{GVR: key.GVR, Start: start, End: c.k.Now(), Err: res.err != nil, Dropped: res.drop}
		rec.Requeue = c.finish(ik, res)
		c.stats.log.add(rec)
		if c.opts.Reconciled != nil {
			c.opts.Reconciled(key, start, rec.End)
		}
		c.queue.Done(ik)
	}
}

// finish requeues or forgets key as the reconcile's outcome says, and
// returns how it requeued it ("" for not at all).
func (c *Controller) finish(key instKey, res outcome) string {
	in := c.instances[key]
	requeue := ""
	switch {
	case res.drop:
		c.queue.Forget(key)
	case res.err != nil:
		c.stats.ReconcileErrors++
		if in != nil {
			in.rec.LastErr = res.err.Error()
		}
		if isNotFound(res.err) {
			// kro's queue drops an instance whose reconcile ends on a
			// NotFound: it is gone, and its own DELETE event is what comes
			// next (kro's error metric counts the reconcile all the same).
			c.queue.Forget(key)
			break
		}
		if c.queue.NumRequeues(key) < c.t.Controller.MaxRetries {
			requeue = "rate_limited"
			c.queue.AddRateLimited(key)
		} else {
			requeue = "no_requeue"
			c.queue.Forget(key)
			c.setFailed(in, true)
		}
	case res.requeueAfter > 0:
		requeue = "requeue_after"
		c.queue.Forget(key)
		c.queue.AddAfter(key, res.requeueAfter)
	default:
		c.queue.Forget(key)
		c.setFailed(in, false)
	}
	if requeue != "" {
		c.stats.Requeues[requeue]++
	}
	return requeue
}

// work is one reconcile in progress: its process, its thread's accounting and
// the CPU it has used but not yet been charged for.
type work struct {
	c     *Controller
	p     *kernel.Proc
	th    *span.Thread
	in    *Instance
	g     *Graph
	pass  string
	cpu   [span.NumPhases]time.Duration
	memo  *memo
	sc    *scratch // the worker's, for rendering
	stack span.Stack
	start time.Duration
	// pendingExpr is the first expression of the reconcile whose data was
	// not there yet (${...} as written), for saying what an instance waits for.
	pendingExpr string
}

// charge adds CPU work in phase ph, recorded under the current stack with detail.
func (w *work) charge(ph span.Phase, detail span.Detail, d time.Duration) {
	if d <= 0 {
		return
	}
	w.cpu[ph] += d
	s := w.stack
	s.Phase, s.Detail = ph, detail
	w.c.rec.Add(&s, d)
}

// flush runs the pending CPU work on a vCPU: waiting for one if all are
// busy, then holding it for the work's duration.
func (w *work) flush() {
	var total time.Duration
	for _, d := range w.cpu {
		total += d
	}
	if total == 0 {
		return
	}
	k := w.c.k
	w.th.Switch(k.Now(), span.CPUWait)
	wait := w.c.cpu.Acquire(w.p)
	if wait > 0 {
		s := w.stack
		s.Phase, s.Detail = span.CPUWait, span.Detail{Step: "vcpu"}
		w.c.rec.Add(&s, wait)
	}
	w.th.Switch(k.Now(), span.Other)
	w.p.Sleep(total)
	w.c.cpu.Release(total)
	w.th.Charge(k.Now(), span.Part{Phase: span.Eval, D: w.cpu[span.Eval]},
		span.Part{Phase: span.Traversal, D: w.cpu[span.Traversal]},
		span.Part{Phase: span.Compile, D: w.cpu[span.Compile]})
	w.cpu = [span.NumPhases]time.Duration{}
}

// api runs one request: pending CPU first, then the request, accounted as
// API wait and client throttling, plus the client's own CPU for it.
func (w *work) api(resource string, do func() api.Call, bytes int) api.Call {
	w.flush()
	k := w.c.k
	w.th.Switch(k.Now(), span.APIWait)
	outer := w.c.enter("api")
	call := do()
	w.c.leave(outer)
	w.th.Charge(k.Now(), span.Part{Phase: span.ThrottleWait, D: call.Throttle})
	w.th.Switch(k.Now(), span.Other)
	w.record(resource, call)
	cost := w.c.t.Cost
	w.chargeRequest(resource, span.Detail{Verb: call.Verb}, bytes, cost.RequestNS)
	return call
}

// decode is the client's CPU for decoding responses.
var decode = span.Detail{Step: "decode"}

// chargeRequest charges the client's CPU for a request (what names its
// verb) or for decoding: a fixed cost plus the bytes it encodes or decodes.
func (w *work) chargeRequest(resource string, what span.Detail, bytes int, requestNS float64) {
	saved := w.stack.Resource
	w.stack.Resource = resource
	what.Client = true
	w.charge(span.Other, what, time.Duration(requestNS+float64(bytes)*w.c.t.Cost.EncodeByteNS))
	w.stack.Resource = saved
}

func (w *work) record(resource string, call api.Call) {
	s := w.stack
	s.Resource, s.Detail = resource, span.Detail{Verb: call.Verb}
	s.Phase = span.APIWait
	w.c.rec.Add(&s, call.Wait-call.CacheWait)
	if call.CacheWait > 0 {
		s.Detail.CacheWait = true
		w.c.rec.Add(&s, call.CacheWait)
		s.Detail.CacheWait = false
	}
	s.Phase = span.ThrottleWait
	w.c.rec.Add(&s, call.Throttle)
}

// parallel runs requests concurrently, as kro applies resources, and waits
// for all. The worker's wait is API time, except the throttling of the
// request that finished last; profiles split it evenly across the requests.
func (w *work) parallel(resources []string, do func(i int, p *kernel.Proc) api.Call) []api.Call {
	n := len(resources)
	calls := w.sc.callsOf(n)
	if n == 0 {
		return calls
	}
	w.flush()
	k := w.c.k
	start := k.Now()
	w.th.Switch(start, span.APIWait)
	left, last := n, 0
	k.GoEach("apply", n, func(i int, sp *kernel.Proc) {
		calls[i] = do(i, sp)
		left--
		last = i
		if left == 0 {
			w.p.Unpark()
		}
	})
	w.p.Park()
	throttle := calls[last].Throttle
	w.th.Charge(k.Now(), span.Part{Phase: span.ThrottleWait, D: throttle})
	w.th.Switch(k.Now(), span.Other)
	share := (k.Now() - start - throttle) / time.Duration(n)
	for i, r := range resources {
		c := api.Call{Verb: calls[i].Verb, Wait: share, Throttle: throttle / time.Duration(n)}
		if calls[i].Wait > 0 { // the watch-cache part of its share, as of its own wait
			c.CacheWait = time.Duration(float64(share) * float64(calls[i].CacheWait) / float64(calls[i].Wait))
		}
		w.record(r, c)
		w.chargeRequest(r, span.Detail{Verb: calls[i].Verb}, 0, w.c.t.Cost.RequestNS)
	}
	return calls
}

func isNotFound(err error) bool { return err != nil && apierrors.IsNotFound(err) }
