package api

import (
	"slices"
	"time"

	"github.com/krosim/krosim/sim/kernel"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// watchCache is the API server's watch cache of one resource, as far as a
// consistent LIST sees it. A LIST without a resourceVersion (all of kro's)
// is served from the cache since Kubernetes 1.31, but only once the cache has
// seen the store's current revision (k8s.io/apiserver storage/cacher,
// waitUntilFreshLocked). The cache sees a revision through a watch event of
// its own resource, or through a progress notification that its progress
// requester asks etcd for (storage/cacher/progress): at once when it last
// asked a period (100 ms) or more ago, otherwise at the next tick of its
// timer. A cache whose resource nobody writes therefore makes every LIST wait
// for the next tick, up to a period: on a busy server, the usual case.
type watchCache struct {
	seen     int64     // newest revision the cache has seen
	incoming []visible // revisions on their way to it, in arrival order
	// On a server with processors: the revisions arrived and waiting for
	// the reflector, and whether it is taking them.
	queued   []int64
	draining bool
	asked    time.Duration
	hasAsked bool
	ticking  bool // a tick of the progress requester is scheduled
	waiters  []cacheWaiter
}

// visible is a revision that reaches the cache at a time: a watch event or a
// progress notification.
type visible struct {
	at  time.Duration
	rev int64
}

type cacheWaiter struct {
	p   *kernel.Proc
	rev int64
}

// CacheStats counts the LISTs that waited for a watch cache.
type CacheStats struct {
	Waits int
	Wait  time.Duration
	// Bounds are the upper bounds of the histogram's buckets, in seconds,
	// ascending (the API server's own, set by whoever reads Buckets); Buckets
	// counts the waits in each, and past the last bound in the last.
	Bounds  []float64
	Buckets []int
}

// add counts a wait of d.
func (st *CacheStats) add(d time.Duration) {
	st.Waits++
	st.Wait += d
	if st.Bounds == nil {
		return
	}
	if st.Buckets == nil {
		st.Buckets = make([]int, len(st.Bounds)+1)
	}
	i, _ := slices.BinarySearch(st.Bounds, d.Seconds())
	st.Buckets[i]++
}

func (s *Server) cache(gvr schema.GroupVersionResource) *watchCache {
	c := s.caches[gvr]
	if c == nil {
		c = &watchCache{}
		s.caches[gvr] = c
	}
	return c
}

// observe charges every write's watch event (server.event_cpu, off its
// path) and follows the write into the watch cache of its resource. The
// cache has a write as its response goes out: etcd answers the write and
// sends its event to the API server's watch together. (On the real harness
// a LIST of a kind right after a write of it almost never waited, and the
// single-resource calibration RGD's LISTs wait 100 times here against 102
// by the server's count, 191 when the cache saw writes a watch delay late.)
// kro's informers see the event later, after server.watch_delay.
func (s *Server) observe(e Event) {
	s.Served.Events++
	if s.cpu != nil {
		s.cpu.RunAfter(s.k, "server-cpu", s.t.Server.EventCPU.D())
	}
	if s.t.Server.WatchProgressInterval <= 0 {
		return
	}
	s.deliver(s.cache(e.Key.GVR), 0)
}

// deliver brings the store's current revision to the watch cache c after d:
// a write's watch event, or a progress notification. A server with
// processors (server.cpus) handles them on one, in order: the cacher's one
// goroutine per resource (its reflector) takes them one at a time, each
// once a processor frees for it (ahead of the requests queued for one, as a
// real scheduler favors a woken thread). On a busy host the cache so lags
// behind the writes, the more the more of them come, and keeps more
// consistent LISTs waiting, as the server's own count of them shows.
func (s *Server) deliver(c *watchCache, d time.Duration) {
	rev := s.Store.Revision()
	if s.cpu != nil {
		s.k.Go("watch-delivery", func(p *kernel.Proc) {
			p.Sleep(d)
			c.queued = append(c.queued, rev)
			if !c.draining {
				s.drain(p, c)
			}
		})
		return
	}
	c.advance(s.k.Now()) // keeps incoming to the revisions still on their way
	at := s.k.Now() + d
	c.incoming = append(c.incoming, visible{at: at, rev: rev})
	if len(c.waiters) > 0 {
		s.k.At(at, func() { s.wake(c) })
	}
}

// drain is the cacher's reflector: it takes the revisions queued for c in
// order, each in a turn on a processor, until none is left.
func (s *Server) drain(p *kernel.Proc, c *watchCache) {
	c.draining = true
	for i := 0; i < len(c.queued); i++ { // deliveries may queue more meanwhile
		s.cpu.Turn(p)
		c.seen = max(c.seen, c.queued[i])
		if len(c.waiters) > 0 {
			s.wake(c)
		}
	}
	c.queued = c.queued[:0]
	c.draining = false
}

// advance takes in the revisions that have reached the cache by now.
func (c *watchCache) advance(now time.Duration) {
	i := 0
	for ; i < len(c.incoming) && c.incoming[i].at <= now; i++ {
		c.seen = max(c.seen, c.incoming[i].rev)
	}
	if i == len(c.incoming) {
		c.incoming = c.incoming[:0]
	} else {
		c.incoming = c.incoming[i:]
	}
}

// waitFresh blocks p until the watch cache of gvr has seen the store's
// current revision and returns how long that took.
func (s *Server) waitFresh(p *kernel.Proc, gvr schema.GroupVersionResource) time.Duration {
	if s.t.Server.WatchProgressInterval <= 0 {
		return 0
	}
	c := s.cache(gvr)
	c.advance(s.k.Now())
	rev := s.Store.Revision()
	if c.seen >= rev {
		return 0
	}
	start := s.k.Now()
	c.waiters = append(c.waiters, cacheWaiter{p: p, rev: rev})
	// A write's event already on its way wakes the waiter when it arrives;
	// the progress requester is asked all the same, as the cacher does.
	for _, in := range c.incoming {
		if in.rev >= rev {
			s.k.At(in.at, func() { s.wake(c) })
			break
		}
	}
	s.requestProgress(c)
	p.Park()
	d := s.k.Now() - start
	s.CacheStats.add(d)
	return d
}

// requestProgress is the progress requester: it asks etcd for a progress
// notification now if it last asked a period or more ago, else at its next
// tick, when it asks only if someone still waits.
func (s *Server) requestProgress(c *watchCache) {
	if c.ticking {
		return
	}
	now, period := s.k.Now(), s.t.Server.WatchProgressInterval.D()
	if c.hasAsked && now < c.asked+period {
		c.ticking = true
		s.k.At(c.asked+period, func() {
			c.ticking = false
			if len(c.waiters) > 0 {
				s.requestProgress(c)
			}
		})
		return
	}
	c.asked, c.hasAsked = now, true
	s.deliver(c, s.t.Server.WatchDelay.D()+s.t.Server.ProgressDelay.D())
}

// wake resumes the waiters whose revision the cache has now seen.
func (s *Server) wake(c *watchCache) {
	c.advance(s.k.Now())
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.rev <= c.seen {
			w.p.Unpark()
		} else {
			kept = append(kept, w)
		}
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
}
