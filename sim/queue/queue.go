package queue

import (
	"iter"
	"math"
	"time"

	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/tape"
	"golang.org/x/time/rate"
)

// Queue has client-go workqueue semantics: adding a key already waiting is a
// no-op; adding a key being processed re-queues it when Done; no key is
// processed by two workers at once. Delays and rate limits run on virtual time.
type Queue[K comparable] struct {
	k          *kernel.Kernel
	queue      []K
	dirty      map[K]bool
	processing map[K]bool
	waiters    []*kernel.Proc
	delayed    map[K]time.Duration // key -> when its pending AddAfter fires
	limiter    *RateLimiter[K]
	addedAt    map[K]time.Duration

	// Metrics.
	Adds, Requeues int
	MaxDepth       int
	DepthSeconds   float64 // integral of depth over virtual time
	lastDepthAt    time.Duration
	// Log is what client-go's workqueue metrics observe, in time order;
	// its Got events' waits are the time from Add to Get of every key.
	Log Log
}

// Event is one thing client-go's workqueue metrics count.
type Event struct {
	At    time.Duration
	What  What
	Depth int           // keys waiting after it
	Wait  time.Duration // Get: how long the key waited since it was added
}

// What an Event is.
type What uint8

const (
	Added   What = iota // a key became dirty (the adds counter)
	Retried             // AddAfter or AddRateLimited (the retries counter)
	Pushed              // a key joined the waiting line
	Got                 // a worker took a key
)

func (q *Queue[K]) log(w What, wait time.Duration) {
	q.Log.add(Event{At: q.k.Now(), What: w, Depth: len(q.queue), Wait: wait})
}

// Log is a queue's events, a few bytes each: the time since the previous
// event, what happened with the depth after it, and a Get's wait.
type Log struct {
	t    tape.Tape
	last time.Duration
}

const whatBits = 2 // What fits below them

const _ = uint(1<<whatBits - 1 - Got) // a compile error once What outgrows whatBits

func (l *Log) add(e Event) {
	l.t.Put(int64(e.At - l.last))
	l.t.Put(int64(e.What) | int64(e.Depth)<<whatBits)
	if e.What == Got {
		l.t.Put(int64(e.Wait))
	}
	l.last = e.At
}

// Events are the events in the order they happened.
func (l *Log) Events() iter.Seq[Event] {
	return func(yield func(Event) bool) {
		r := l.t.Reader()
		var at time.Duration
		for r.More() {
			at += time.Duration(r.Next())
			x := r.Next()
			e := Event{At: at, What: What(x & (1<<whatBits - 1)), Depth: int(x >> whatBits)}
			if e.What == Got {
				e.Wait = time.Duration(r.Next())
			}
			if !yield(e) {
				return
			}
		}
	}
}

// Waits is how long each key taken waited since it was added, in the
// order taken.
func (l *Log) Waits() []time.Duration {
	var out []time.Duration
	for e := range l.Events() {
		if e.What == Got {
			out = append(out, e.Wait)
		}
	}
	return out
}

// Clone returns a copy of the log that shares nothing with it.
func (l *Log) Clone() Log { return Log{t: l.t.Clone(), last: l.last} }

// New returns an empty queue using limiter for AddRateLimited.
func New[K comparable](k *kernel.Kernel, limiter *RateLimiter[K]) *Queue[K] {
	return &Queue[K]{k: k, dirty: map[K]bool{}, processing: map[K]bool{},
		delayed: map[K]time.Duration{}, limiter: limiter, addedAt: map[K]time.Duration{}}
}

// Len is the number of keys waiting to be processed.
func (q *Queue[K]) Len() int { return len(q.queue) }

func (q *Queue[K]) trackDepth() {
	now := q.k.Now()
	q.DepthSeconds += float64(len(q.queue)) * (now - q.lastDepthAt).Seconds()
	q.lastDepthAt = now
}

// Add marks key as needing processing.
func (q *Queue[K]) Add(key K) {
	q.Adds++
	if q.dirty[key] {
		return
	}
	q.dirty[key] = true
	q.addedAt[key] = q.k.Now()
	q.log(Added, 0)
	if q.processing[key] {
		return
	}
	q.push(key)
}

func (q *Queue[K]) push(key K) {
	q.trackDepth()
	q.queue = append(q.queue, key)
	q.MaxDepth = max(q.MaxDepth, len(q.queue))
	q.log(Pushed, 0)
	if len(q.waiters) > 0 {
		w := q.waiters[0]
		q.waiters[0] = nil
		q.waiters = q.waiters[1:]
		w.Unpark()
	}
}

// Get blocks p until a key is available and marks it processing.
func (q *Queue[K]) Get(p *kernel.Proc) K {
	for len(q.queue) == 0 {
		q.waiters = append(q.waiters, p)
		p.Park()
	}
	q.trackDepth()
	key := q.queue[0]
	var zero K
	q.queue[0] = zero
	q.queue = q.queue[1:]
	q.processing[key] = true
	delete(q.dirty, key)
	q.log(Got, q.k.Now()-q.addedAt[key])
	delete(q.addedAt, key)
	return key
}

// Done ends processing of key, re-queueing it if it was added meanwhile.
func (q *Queue[K]) Done(key K) {
	delete(q.processing, key)
	if q.dirty[key] {
		q.push(key)
	}
}

// AddAfter adds key once d has passed. A key already waiting keeps the earlier time.
func (q *Queue[K]) AddAfter(key K, d time.Duration) {
	q.log(Retried, 0)
	if d <= 0 {
		q.Add(key)
		return
	}
	at := q.k.Now() + d
	if prev, ok := q.delayed[key]; ok && prev <= at {
		return
	}
	q.delayed[key] = at
	q.k.At(at, func() {
		if q.delayed[key] != at {
			return // superseded by an earlier AddAfter
		}
		delete(q.delayed, key)
		q.Add(key)
	})
}

// AddRateLimited adds key after the rate limiter's delay.
func (q *Queue[K]) AddRateLimited(key K) {
	q.Requeues++
	q.AddAfter(key, q.limiter.When(key))
}

// Forget clears key's failure history.
func (q *Queue[K]) Forget(key K) { q.limiter.Forget(key) }

// NumRequeues is how many times key failed since it was last forgotten.
func (q *Queue[K]) NumRequeues(key K) int { return q.limiter.failures[key] }

// Finish closes the depth integral at the end of a run.
func (q *Queue[K]) Finish() { q.trackDepth() }

// RateLimiter is client-go's default controller rate limiter as kro
// configures it: the larger of a per-key exponential backoff and an overall
// token bucket.
type RateLimiter[K comparable] struct {
	k        *kernel.Kernel
	base     time.Duration
	maxDelay time.Duration
	failures map[K]int
	bucket   *rate.Limiter
}

// NewRateLimiter returns max(per-key base*2^failures capped at maxDelay, a qps/burst bucket).
func NewRateLimiter[K comparable](k *kernel.Kernel, base, maxDelay time.Duration, qps float64, burst int) *RateLimiter[K] {
	return &RateLimiter[K]{k: k, base: base, maxDelay: maxDelay, failures: map[K]int{},
		bucket: rate.NewLimiter(rate.Limit(qps), burst)}
}

// When returns how long key should wait before its next retry.
func (r *RateLimiter[K]) When(key K) time.Duration {
	n := r.failures[key]
	r.failures[key] = n + 1
	exp := float64(r.base) * math.Pow(2, float64(n))
	backoff := r.maxDelay
	if exp < float64(r.maxDelay) {
		backoff = time.Duration(exp)
	}
	now := epoch.Add(r.k.Now())
	bucket := r.bucket.ReserveN(now, 1).DelayFrom(now)
	return max(backoff, bucket)
}

// Forget clears key's failures.
func (r *RateLimiter[K]) Forget(key K) { delete(r.failures, key) }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
