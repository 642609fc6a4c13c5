package kernel

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"time"
)

// Kernel owns virtual time. Events run in (time, sequence) order, and
// processes are coroutines (iter.Pull) that run one at a time, so a run is a
// pure function of its inputs: no wall clock, no scheduler races. A process
// that sleeps or parks runs the event loop itself until a process is due: if
// that is itself it simply continues; otherwise it yields to Run's loop,
// which resumes the next one. A coroutine switch is a direct handoff of the
// thread, not a wakeup through the Go scheduler.
type Kernel struct {
	now     time.Duration
	seq     uint64
	events  eventQueue
	current *Proc
	handed  *Proc // the process a yielding process chose to run next
	live    map[*Proc]struct{}
	idle    []*carrier // the carriers of processes that ended, to reuse
	nprocs  uint64
	stopped bool
	steps   uint64

	// The run in progress.
	limit    time.Duration
	stop     func() bool
	finished bool
	err      error

	// Abort, when set, is polled after every event, so that a stop asked for
	// from outside (a signal, a wall-time limit) lands within one event; it
	// must be cheap, such as an atomic load. A non-nil error stops the run.
	// Polling only reads: it never schedules, so it cannot change the order
	// of events.
	Abort func() error
}

type event struct {
	at   time.Duration
	seq  uint64
	fn   func()
	proc *Proc
}

// before reports whether e runs before o: by time, then sequence.
func (e *event) before(o *event) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.seq < o.seq
}

// eventQueue holds the scheduled events in (time, sequence) order, in
// three parts by how far ahead of the time they were pushed at they are
// due: those due then (a process started or unparked, a callback
// scheduled for now), about one in five, in a FIFO; those due soon (a
// request's latency, a slice of CPU) in a heap; and those due later (a
// requeue, a kind's readiness) in another. The FIFO is in sequence order,
// all at the current time, and a pop takes the least of the FIFO's head
// and the heaps' tops: the same order as one heap, but an event due now
// is never sifted through a heap, and the many events due soon through a
// few dozen pending rather than the thousand waiting for later.
type eventQueue struct {
	now   []event // due at the current time, in sequence order, from head
	head  int
	soon  eventHeap // due within laterDelay of when pushed
	later eventHeap
}

// laterDelay is how far ahead an event is due to go in eventQueue.later.
const laterDelay = 100 * time.Millisecond

func (q *eventQueue) Len() int { return len(q.now) - q.head + len(q.soon) + len(q.later) }

// push adds e; now is the current time.
func (q *eventQueue) push(e event, now time.Duration) {
	switch d := e.at - now; {
	case d == 0:
		q.now = append(q.now, e)
	case d < laterDelay:
		q.soon.push(e)
	default:
		q.later.push(e)
	}
}

// pop removes and returns the first event; the queue must not be empty.
func (q *eventQueue) pop() event {
	var first *event
	if q.head < len(q.now) {
		first = &q.now[q.head]
	}
	if len(q.soon) > 0 && (first == nil || q.soon[0].before(first)) {
		first = &q.soon[0]
	}
	switch {
	case len(q.later) > 0 && (first == nil || q.later[0].before(first)):
		return q.later.pop()
	case len(q.soon) > 0 && first == &q.soon[0]:
		return q.soon.pop()
	}
	e := q.now[q.head]
	q.now[q.head] = event{}
	q.head++
	if q.head == len(q.now) {
		q.now, q.head = q.now[:0], 0
	}
	return e
}

// eventHeap is a binary min-heap of events by (time, sequence), typed so
// that pushing an event never boxes it into an interface (container/heap
// would allocate for every event). Sequences are unique, so the order is
// total and any correct heap pops the same events in the same order.
type eventHeap []event

func (h eventHeap) Len() int { return len(h) }

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	h.up(len(*h)-1, e)
}

// up places e at the hole i or above it, moving greater parents down.
func (h eventHeap) up(i int, e event) {
	for i > 0 {
		parent := (i - 1) / 2
		if !e.before(&h[parent]) {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = e
}

// pop removes the least event. It moves the hole the top leaves down to a
// leaf along the lesser children, then the last event up from there
// (Floyd's bottom-up heap): one comparison per level on the way down where
// a sift-down takes two, and the last event, a large one, rarely rises far.
func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	last := s[len(s)-1]
	s[len(s)-1] = event{}
	s = s[:len(s)-1]
	if len(s) > 0 {
		i := 0
		for {
			l := 2*i + 1
			if l >= len(s) {
				break
			}
			if r := l + 1; r < len(s) && s[r].before(&s[l]) {
				l = r
			}
			s[i] = s[l]
			i = l
		}
		s.up(i, last)
	}
	*h = s
	return top
}

// New returns a kernel at virtual time zero.
func New() *Kernel {
	return &Kernel{live: map[*Proc]struct{}{}}
}

// Now is the current virtual time.
func (k *Kernel) Now() time.Duration { return k.now }

// Current is the process holding the baton, or nil inside Run's own event loop.
func (k *Kernel) Current() *Proc { return k.current }

// Steps is the number of events run so far.
func (k *Kernel) Steps() uint64 { return k.steps }

// At schedules fn to run in the kernel at virtual time t (not before now).
func (k *Kernel) At(t time.Duration, fn func()) {
	k.push(event{at: max(t, k.now), fn: fn})
}

// After schedules fn to run d from now.
func (k *Kernel) After(d time.Duration, fn func()) { k.At(k.now+d, fn) }

func (k *Kernel) push(e event) {
	k.seq++
	e.seq = k.seq
	k.events.push(e, k.now)
}

// Proc is a simulated process: a coroutine that runs only while it holds the baton.
type Proc struct {
	k    *Kernel
	id   uint64
	name string
	c    *carrier
	// parked is true while the process waits for Unpark rather than a timer.
	parked bool
	done   bool // its body returned
}

// carrier is the coroutine a process runs on. A process that ends leaves
// its carrier to the next one started, with the stack it grew: a
// simulation starts a process for every concurrent request, and a new
// coroutine for each would start a goroutine and grow its stack anew.
type carrier struct {
	resume func() (struct{}, bool)
	end    func()
	yield  func(struct{}) bool
	p      *Proc // running or about to
	body   func(p *Proc)
	each   func(i int, p *Proc) // instead of body: GoEach's, with i
	i      int
}

// Name is the process's name, for diagnostics.
func (p *Proc) Name() string { return p.name }

// Kernel returns the kernel p runs under.
func (p *Proc) Kernel() *Kernel { return p.k }

// shutdown unwinds a suspended process's stack when the kernel shuts down.
type shutdown struct{}

// Go starts a process that begins running at the current virtual time.
func (k *Kernel) Go(name string, body func(p *Proc)) *Proc {
	p := &Proc{}
	k.start(p, name)
	p.c.body = body
	return p
}

// GoEach starts n processes that begin running at the current virtual
// time, the i-th running body(i, p): Go for each i, without a closure and a
// process allocated for each.
func (k *Kernel) GoEach(name string, n int, body func(i int, p *Proc)) {
	ps := make([]Proc, n)
	for i := range ps {
		p := &ps[i]
		k.start(p, name)
		p.c.each, p.c.i = body, i
	}
}

// start makes p a process on an idle carrier, due now.
func (k *Kernel) start(p *Proc, name string) {
	k.nprocs++
	*p = Proc{k: k, id: k.nprocs, name: name, c: k.carrier()}
	p.c.p = p
	k.live[p] = struct{}{}
	k.push(event{at: k.now, proc: p})
}

// carrier returns an idle carrier, or a new one.
func (k *Kernel) carrier() *carrier {
	if n := len(k.idle); n > 0 {
		c := k.idle[n-1]
		k.idle[n-1] = nil
		k.idle = k.idle[:n-1]
		return c
	}
	c := &carrier{}
	c.resume, c.end = iter.Pull(func(yield func(struct{}) bool) {
		c.yield = yield
		for c.run() {
			// The body returned: the process is over, and the carrier
			// idles until a process started later is due.
			c.p.done = true
			c.p, c.body, c.each = nil, nil, nil
			k.idle = append(k.idle, c)
			if !yield(struct{}{}) {
				return // shut down while idle
			}
		}
	})
	return c
}

// run runs the carrier's process and reports whether its body returned;
// false: the kernel shut down while it waited, and its stack unwound.
func (c *carrier) run() (returned bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != (shutdown{}) {
				panic(r)
			}
			returned = false
		}
	}()
	if c.each != nil {
		c.each(c.i, c.p)
	} else {
		c.body(c.p)
	}
	return true
}

// switchAway runs the event loop on p's coroutine until a process is due.
// If that is p, it simply returns; otherwise it yields to Run's loop, which
// resumes that process (or returns, when the run is over). If the kernel
// shuts down meanwhile, p's stack unwinds and it never returns.
func (p *Proc) switchAway() {
	k := p.k
	k.check()
	q := k.next()
	if q == p {
		return
	}
	k.handed = q
	if !p.c.yield(struct{}{}) {
		panic(shutdown{})
	}
}

// Sleep advances p's clock by d: other processes and events run meanwhile.
func (p *Proc) Sleep(d time.Duration) {
	if d < 0 {
		d = 0
	}
	p.k.push(event{at: p.k.now + d, proc: p})
	p.switchAway()
}

// Park suspends p until another process or event calls Unpark.
func (p *Proc) Park() {
	p.parked = true
	p.switchAway()
}

// Unpark makes a parked process runnable at the current time. It reports
// whether p was parked.
func (p *Proc) Unpark() bool {
	if !p.parked {
		return false
	}
	p.parked = false
	p.k.push(event{at: p.k.now, proc: p})
	return true
}

// next runs event callbacks until a process is due and returns it, or nil
// when the run is over: no events left, the time limit passed, stop said so,
// or Abort failed.
func (k *Kernel) next() *Proc {
	for !k.finished {
		if k.events.Len() == 0 {
			// Nothing left: stop sees the quiet state once more (the last
			// event may have been a process's), and may schedule more.
			if k.stop != nil && !k.stop() && k.events.Len() > 0 {
				continue
			}
			k.finished = true
			break
		}
		e := k.events.pop()
		if k.limit > 0 && e.at > k.limit {
			k.events.push(e, k.now)
			k.now = k.limit
			k.finished = true
			break
		}
		k.now = e.at
		k.steps++
		if e.proc != nil {
			return e.proc
		}
		e.fn()
		k.check()
	}
	return nil
}

// check ends the run when stop says so or Abort fails; it runs after every event.
func (k *Kernel) check() {
	if k.finished {
		return
	}
	if k.stop != nil && k.stop() {
		k.finished = true
		return
	}
	if k.Abort != nil {
		if err := k.Abort(); err != nil {
			k.err = fmt.Errorf("%w at virtual time %s after %d events", err, k.now, k.steps)
			k.finished = true
		}
	}
}

// Run executes events until none remain, until virtual time passes limit
// (when limit > 0), or until stop returns true after an event. It returns
// Abort's error if that stopped the run.
func (k *Kernel) Run(limit time.Duration, stop func() bool) error {
	k.limit, k.stop, k.finished, k.err = limit, stop, false, nil
	for q := k.next(); q != nil; {
		k.current, k.handed = q, nil
		_, alive := q.c.resume()
		k.current = nil
		if alive && !q.done {
			q = k.handed
			continue
		}
		// The process ended: pass the baton on.
		delete(k.live, q)
		q = k.next()
	}
	return k.err
}

// Shutdown ends every process still waiting, unwinding its stack, and
// returns once they are all gone.
func (k *Kernel) Shutdown() {
	if k.stopped {
		return
	}
	k.stopped = true
	procs := make([]*Proc, 0, len(k.live))
	for p := range k.live {
		procs = append(procs, p)
	}
	slices.SortFunc(procs, func(a, b *Proc) int { return cmp.Compare(a.id, b.id) })
	for _, p := range procs {
		p.c.end()
		delete(k.live, p)
	}
	for _, c := range k.idle {
		c.end()
	}
	k.idle = nil
}

// Pending is the number of scheduled events.
func (k *Kernel) Pending() int { return k.events.Len() }
