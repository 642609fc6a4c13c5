package api

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/tape"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/flowcontrol"
)

// Server is the API server's admission and timing in front of a Store.
type Server struct {
	Store *Store
	k     *kernel.Kernel
	t     *target.Target
	rng   *rand.Rand

	inflight [2]int        // read-only, mutating
	last     time.Duration // when the previous request was served (server.active_cpu)
	cpu      *kernel.CPU   // serves requests when the target limits server.cpus
	caches   map[schema.GroupVersionResource]*watchCache

	// CacheStats counts the consistent LISTs that waited for a watch cache.
	CacheStats CacheStats
	// Served counts the requests served, the objects stored at each, the
	// requests' shares of waking the server (server.wakeup_cpu), the KiB of
	// the objects the requests of each verb (by verb.Index) read or wrote,
	// LISTs aside (latency.VERB.cpu_per_kib), and the writes, each a watch
	// event (server.event_cpu).
	Served struct {
		Requests int
		Objects  float64
		Wakeups  float64
		KiB      [verb.Count]float64
		Events   int
	}
	serving int // requests in serve, where inflight also counts LISTs parked for the watch cache
}

// NewServer returns a server over an empty store. All randomness comes from rng.
func NewServer(k *kernel.Kernel, t *target.Target, rng *rand.Rand) *Server {
	s := &Server{Store: NewStore(k.Now), k: k, t: t, rng: rng, caches: map[schema.GroupVersionResource]*watchCache{}}
	s.Store.OnWrite(s.observe)
	if t.Server.CPUs > 0 {
		s.cpu = kernel.NewCPU(t.Server.CPUs)
	}
	return s
}

// Stats counts one client's requests.
type Stats struct {
	Verbs         map[verb.Verb]*VerbStats
	byResource    map[string][]int // resource -> requests by verb.Index (see ByResource)
	ThrottleWait  time.Duration
	Throttled     int // requests the client-side limiter delayed
	ThrottleWaits []time.Duration
	Rejected429   int
	// attempts logs every try of every request, in the order they
	// returned (see Attempts): a few bytes a try, not a record.
	attempts tape.Tape
	lastDone time.Duration // of the last try logged
	// byIndex is Verbs by verb.Index: every request counts in one, and
	// finding it by the verb's name in Verbs costs a hash each time.
	byIndex []*VerbStats
}

// Attempt is one try of a request as client-go's rest_client metrics see it.
type Attempt struct {
	Verb verb.Verb
	// Limited: the client has a rate limiter, which observed Throttle
	// (zero included) when it let the try go at Sent.
	Limited  bool
	Throttle time.Duration
	Sent     time.Duration
	Done     time.Duration // when the response came back
	// Retried is the status code of a response the client retried
	// ("" when it did not).
	Retried string
	// Served: the server served the try (rather than turning it away at
	// its inflight limit) and spent ServerTime on it, a LIST's wait for the
	// watch cache included: nearly always Done-Sent.
	Served     bool
	ServerTime time.Duration
}

// An attempt's record on the tape: its flags (the verb's index in
// verb.All, then the bits below), Done after the previous try's Done,
// Done-Sent, Throttle when Limited, and ServerTime when Served and it is
// not Done-Sent (a timeout's wait for the watch cache).
const (
	attemptVerbs      = 1 << 4 // verb indexes below this
	attemptLimited    = 1 << 4
	attemptRetried    = 1 << 5 // retried after a 429
	attemptUnserved   = 1 << 6
	attemptServerTime = 1 << 7
)

func init() {
	if len(verb.All) > attemptVerbs {
		panic("api: more verbs than an attempt's record has room for")
	}
}

func (s *Stats) logAttempt(a Attempt) {
	flags := int64(a.Verb.Index())
	if a.Limited {
		flags |= attemptLimited
	}
	switch a.Retried {
	case "":
	case "429":
		flags |= attemptRetried
	default:
		panic("api: an attempt retried after " + a.Retried + ", which its record cannot hold")
	}
	own := a.Served && a.ServerTime != a.Done-a.Sent
	if !a.Served {
		flags |= attemptUnserved
	} else if own {
		flags |= attemptServerTime
	}
	s.attempts.Put(flags)
	s.attempts.Put(int64(a.Done - s.lastDone))
	s.attempts.Put(int64(a.Done - a.Sent))
	if a.Limited {
		s.attempts.Put(int64(a.Throttle))
	}
	if own {
		s.attempts.Put(int64(a.ServerTime))
	}
	s.lastDone = a.Done
}

// Attempts is every try of every request, in the order they returned:
// what client-go's metrics observe, with virtual timestamps.
func (s *Stats) Attempts() iter.Seq[Attempt] {
	return func(yield func(Attempt) bool) {
		r := s.attempts.Reader()
		var done time.Duration
		for r.More() {
			flags := r.Next()
			done += time.Duration(r.Next())
			a := Attempt{Verb: verb.All[flags%attemptVerbs], Limited: flags&attemptLimited != 0, Done: done}
			a.Sent = done - time.Duration(r.Next())
			if a.Limited {
				a.Throttle = time.Duration(r.Next())
			}
			if flags&attemptRetried != 0 {
				a.Retried = "429"
			}
			a.Served, a.ServerTime = flags&attemptUnserved == 0, a.Done-a.Sent
			if flags&attemptServerTime != 0 {
				a.ServerTime = time.Duration(r.Next())
			} else if !a.Served {
				a.ServerTime = 0
			}
			if !yield(a) {
				return
			}
		}
	}
}

// VerbStats counts the requests of one verb.
type VerbStats struct {
	Calls int
	// NotFound counts the 404 answers, which kro expects (a GET before the
	// child exists, a DELETE of one already gone); Errors counts the rest.
	NotFound int
	Errors   int
	Retries  int
}

// Latencies is the server time of every attempt of verb v the server
// served, in the order they returned (see Attempts).
func (s *Stats) Latencies(v verb.Verb) []time.Duration {
	var out []time.Duration
	for a := range s.Attempts() {
		if a.Verb == v && a.Served {
			out = append(out, a.ServerTime)
		}
	}
	return out
}

func newStats() *Stats {
	st := &Stats{Verbs: map[verb.Verb]*VerbStats{}, byResource: map[string][]int{}}
	for _, v := range verb.All {
		st.Verbs[v] = &VerbStats{}
	}
	st.index()
	return st
}

// ByResource is the requests by resource and verb, of the verbs requested.
func (s *Stats) ByResource() map[string]map[verb.Verb]int {
	out := make(map[string]map[verb.Verb]int, len(s.byResource))
	for r, byVerb := range s.byResource {
		m := map[verb.Verb]int{}
		for i, n := range byVerb {
			if n > 0 {
				m[verb.All[i]] = n
			}
		}
		out[r] = m
	}
	return out
}

// index builds byIndex from Verbs.
func (s *Stats) index() {
	s.byIndex = make([]*VerbStats, len(verb.All))
	for i, v := range verb.All {
		s.byIndex[i] = s.Verbs[v]
	}
}

// Clone returns a deep copy of the counts.
func (s *Stats) Clone() *Stats {
	out := *s
	out.Verbs = make(map[verb.Verb]*VerbStats, len(s.Verbs))
	for v, vs := range s.Verbs {
		c := *vs
		out.Verbs[v] = &c
	}
	out.byResource = make(map[string][]int, len(s.byResource))
	for r, byVerb := range s.byResource {
		out.byResource[r] = slices.Clone(byVerb)
	}
	out.ThrottleWaits = append([]time.Duration(nil), s.ThrottleWaits...)
	out.attempts = s.attempts.Clone()
	out.index()
	return &out
}

// Client is one API client: its own limiter and counters over a shared server.
type Client struct {
	s       *Server
	limiter flowcontrol.RateLimiter
	clock   *virtualClock
	Stats   *Stats
	// NoFaults exempts the client's requests from the target's injected
	// faults (the workload's user: the faults are kro's to meet).
	NoFaults bool
	// Observe, when set, is told of every request as it starts: its verb
	// and object (a LIST's has no name). Tests read a controller's requests
	// in order through it.
	Observe func(v verb.Verb, k Key)
}

// NewClient returns a client. With qps > 0 it passes client-go's token bucket
// limiter, driven by virtual time.
func (s *Server) NewClient(qps float64, burst int) *Client {
	c := &Client{s: s, Stats: newStats(), clock: &virtualClock{k: s.k}}
	if qps > 0 {
		c.limiter = flowcontrol.NewTokenBucketRateLimiterWithClock(float32(qps), burst, c.clock)
	}
	return c
}

// Call is what one request cost the caller: time throttled by the client,
// time waiting on the server (including retries), and the outcome.
type Call struct {
	Verb     verb.Verb
	Throttle time.Duration
	Wait     time.Duration
	// CacheWait is the part of Wait a LIST spent waiting for the server's
	// watch cache to be fresh.
	CacheWait time.Duration
	Retries   int
	Err       error
	// Done is when the response came back.
	Done time.Duration
}

// Do runs one request for process p: the client limiter, the server's
// inflight limits and faults, the sampled latency, then op against the store
// at the moment the response is sent. 429s are retried as client-go does.
func (c *Client) Do(p *kernel.Proc, v verb.Verb, k Key, objects int, op func() error) Call {
	if c.Observe != nil {
		c.Observe(v, k)
	}
	gvr := k.GVR
	resource := gvr.Resource
	call := Call{Verb: v}
	vs := c.Stats.byIndex[v.Index()]
	vs.Calls++
	byVerb := c.Stats.byResource[resource]
	if byVerb == nil {
		byVerb = make([]int, len(verb.All))
		c.Stats.byResource[resource] = byVerb
	}
	byVerb[v.Index()]++
	kern, t := c.s.k, c.s.t
	for attempt := 0; ; attempt++ {
		try := Attempt{Verb: v, Limited: c.limiter != nil}
		if c.limiter != nil {
			// Time this request's own wait: the clock is shared by every
			// request of the client, and they throttle concurrently.
			before := kern.Now()
			c.limiter.Accept() // sleeps p in virtual time through the clock
			if d := kern.Now() - before; d > 0 {
				call.Throttle += d
				try.Throttle = d
				c.Stats.ThrottleWait += d
				c.Stats.Throttled++
				c.Stats.ThrottleWaits = append(c.Stats.ThrottleWaits, d)
			}
		}
		start := kern.Now()
		err, retryAfter, fresh, took, served := c.s.attempt(p, v, k, objects, !c.NoFaults, op)
		call.Wait += kern.Now() - start
		call.CacheWait += fresh
		try.Sent, try.Done = start, kern.Now()
		try.Served, try.ServerTime = served, took
		if retryAfter > 0 && attempt < t.Client.MaxRetries {
			try.Retried = "429"
		}
		c.Stats.logAttempt(try)
		if retryAfter > 0 && attempt < t.Client.MaxRetries {
			c.Stats.Rejected429++
			vs.Retries++
			call.Retries++
			p.Sleep(retryAfter)
			call.Wait += retryAfter
			continue
		}
		if retryAfter > 0 {
			c.Stats.Rejected429++
		}
		switch {
		case err == nil: // asked first: apierrors' tests allocate, nil or not
		case apierrors.IsNotFound(err):
			vs.NotFound++
		default:
			vs.Errors++
		}
		call.Err, call.Done = err, kern.Now()
		return call
	}
}

// attempt is one try of a request, with the target's injected faults or
// without. It returns the error, for a 429 how long
// to wait, how long a LIST waited for the watch cache, and the server time
// it spent (served false when the server turned it away unserved).
func (s *Server) attempt(p *kernel.Proc, v verb.Verb, k Key, objects int, faults bool, op func() error) (err error, retryAfter, fresh, took time.Duration, served bool) {
	gvr := k.GVR
	class := 0
	limit := s.t.Server.MaxInflight
	if !v.ReadOnly() {
		class, limit = 1, s.t.Server.MaxMutatingInflight
	}
	if s.inflight[class] >= limit {
		return apierrors.NewTooManyRequests("too many requests in flight", 1), s.t.Server.RetryAfter.D(), 0, 0, false
	}
	l := s.t.Latency[v]
	lat := l.Sample(s.rng.NormFloat64(), objects)
	f := s.t.Faults[v]
	if !faults {
		f = target.Faults{}
	}
	u := s.rng.Float64()
	s.inflight[class]++
	defer func() { s.inflight[class]-- }()
	if v == verb.List { // a consistent read: served once the watch cache is fresh
		fresh = s.waitFresh(p, gvr)
	}
	switch {
	case u < f.Throttle:
		lat = s.serve(p, lat, l.CPU.D())
		return apierrors.NewTooManyRequests("injected throttle", 1), s.t.Server.RetryAfter.D(), fresh, fresh + lat, true
	case u < f.Throttle+f.Err500:
		lat = s.serve(p, lat, l.CPU.D())
		return apierrors.NewInternalError(fmt.Errorf("injected server error")), 0, fresh, fresh + lat, true
	case u < f.Throttle+f.Err500+f.Conflict && !v.ReadOnly():
		lat = s.serve(p, lat, l.CPU.D())
		return apierrors.NewConflict(schema.GroupResource{}, "", fmt.Errorf("injected conflict")), 0, fresh, lat, true
	case u < f.Throttle+f.Err500+f.Conflict+f.Timeout:
		// The request may or may not have happened: the client cannot tell.
		applied := s.rng.IntN(2) == 0
		p.Sleep(s.t.Server.Timeout.D())
		if applied && !v.ReadOnly() {
			_ = op()
		}
		return apierrors.NewTimeoutError("injected timeout", 0), 0, fresh, s.t.Server.Timeout.D(), true
	}
	if v == verb.List {
		lat = s.serve(p, lat, l.CPU.D())
		return op(), 0, fresh, fresh + lat, true
	}
	// The object's share of the request's CPU: of the object as it was
	// for a read, a change or a delete; of the one created, after.
	before := s.Store.SizeOf(k)
	lat = s.serve(p, lat, l.CPU.D()+s.sized(v, before))
	err = op()
	if before == 0 {
		d := s.sized(v, s.Store.SizeOf(k)) // counted with or without processors
		if s.cpu != nil {
			s.cpu.RunAfter(s.k, "server-cpu", d)
		}
	}
	return err, 0, fresh, fresh + lat, true
}

// sized is the processor time a request spends on its object of the given
// size (latency.VERB.cpu_per_kib), and counts the KiB.
func (s *Server) sized(v verb.Verb, bytes int) time.Duration {
	kib := float64(bytes) / 1024
	s.Served.KiB[v.Index()] += kib
	return time.Duration(kib * float64(s.t.Latency[v].CPUPerKiB))
}

// serve spends the latency d of a request, grown with the objects stored,
// and returns how long it took. With limited processors, d is work that
// holds one, after waiting for it; with the verb's processor time cpu
// given, only up to cpu of d holds one, the rest of d is a wait on
// something else, and cpu beyond d runs after the request, off its path.
func (s *Server) serve(p *kernel.Proc, d, cpu time.Duration) time.Duration {
	n := s.Store.Objects()
	s.Served.Requests++
	s.Served.Objects += float64(n)
	share := 1 / float64(1+s.serving) // of waking the server, with the others in flight
	s.Served.Wakeups += share
	cpu += time.Duration(share * float64(s.t.Server.WakeupCPU))
	s.serving++
	defer func() { s.serving-- }()
	if f := s.t.Server.ObjectSlowdown; f > 0 {
		grow := 1 + f*float64(n)
		d = time.Duration(float64(d) * grow)
		cpu = time.Duration(float64(cpu) * grow)
	}
	switch {
	case s.cpu == nil:
		p.Sleep(d)
		return d
	case cpu <= 0:
		return s.cpu.Run(p, d) + d
	}
	if f := s.t.Server.ActiveCPU; f > 0 {
		now := s.k.Now()
		cpu += time.Duration(f * float64(min(now-s.last, target.ActiveGap)))
		s.last = now
	}
	held := min(cpu, d)
	wait := s.cpu.Run(p, held)
	p.Sleep(d - held)
	s.cpu.RunAfter(s.k, "server-cpu", cpu-held)
	return wait + d
}

// CPU is the server's processors, nil when unlimited.
func (s *Server) CPU() *kernel.CPU { return s.cpu }

// virtualClock drives client-go's token bucket with the kernel's clock: its
// Sleep parks the running process in virtual time.
type virtualClock struct {
	k *kernel.Kernel
}

func (c *virtualClock) Now() time.Time                  { return epoch.Add(c.k.Now()) }
func (c *virtualClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *virtualClock) Sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	c.k.Current().Sleep(d)
}

// Typed helpers: each is one request through Do.

// Get reads one object.
func (c *Client) Get(p *kernel.Proc, k Key) (*unstructured.Unstructured, Call) {
	var out *unstructured.Unstructured
	call := c.Do(p, verb.Get, k, 0, func() (err error) { out, err = c.s.Store.Get(k); return })
	return out, call
}

// List reads the objects matching selector (which must hold IndexLabel).
func (c *Client) List(p *kernel.Proc, gvr schema.GroupVersionResource, ns string, selector map[string]string) ([]*unstructured.Unstructured, Call) {
	var out []*unstructured.Unstructured
	// The per-object latency needs the count before the response; the model peeks.
	n := c.s.Store.Count(gvr, ns, selector)
	call := c.Do(p, verb.List, Key{GVR: gvr, Namespace: ns}, n, func() (err error) { out, err = c.s.Store.List(gvr, ns, selector); return })
	return out, call
}

// Apply server-side-applies obj (a PATCH).
func (c *Client) Apply(p *kernel.Proc, k Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, Call) {
	var out *unstructured.Unstructured
	call := c.Do(p, verb.Patch, k, 0, func() (err error) { out, err = c.s.Store.Apply(k, obj); return })
	return out, call
}

// Create creates obj.
func (c *Client) Create(p *kernel.Proc, k Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, Call) {
	var out *unstructured.Unstructured
	call := c.Do(p, verb.Create, k, 0, func() (err error) { out, err = c.s.Store.Create(k, obj); return })
	return out, call
}

// Update writes obj, or only its status.
func (c *Client) Update(p *kernel.Proc, k Key, obj *unstructured.Unstructured, status bool) (*unstructured.Unstructured, Call) {
	v := verb.Update
	if status {
		v = verb.UpdateStatus
	}
	var out *unstructured.Unstructured
	call := c.Do(p, v, k, 0, func() (err error) { out, err = c.s.Store.Update(k, obj, status); return })
	return out, call
}

// Delete deletes an object.
func (c *Client) Delete(p *kernel.Proc, k Key) Call {
	return c.Do(p, verb.Delete, k, 0, func() error { return c.s.Store.Delete(k) })
}
