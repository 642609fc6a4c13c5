package kernel

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestEventsRunInTimeThenSequenceOrder(t *testing.T) {
	k := New()
	var got []string
	k.At(2*time.Second, func() { got = append(got, "b") })
	k.At(time.Second, func() { got = append(got, "a") })
	k.At(2*time.Second, func() { got = append(got, "c") }) // same time: scheduling order
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	if want := "abc"; join(got) != want {
		t.Errorf("order %q, want %q", join(got), want)
	}
	if k.Now() != 2*time.Second {
		t.Errorf("clock at %s, want 2s", k.Now())
	}
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += x
	}
	return out
}

func TestProcessesSleepAndParkInVirtualTime(t *testing.T) {
	k := New()
	var log []string
	var waiter *Proc
	waiter = k.Go("waiter", func(p *Proc) {
		p.Park()
		log = append(log, "woken at "+k.Now().String())
	})
	k.Go("sleeper", func(p *Proc) {
		p.Sleep(3 * time.Second)
		log = append(log, "slept to "+k.Now().String())
		waiter.Unpark()
	})
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	want := []string{"slept to 3s", "woken at 3s"}
	if len(log) != 2 || log[0] != want[0] || log[1] != want[1] {
		t.Errorf("log %q, want %q", log, want)
	}
}

func TestShutdownEndsWaitingProcesses(t *testing.T) {
	k := New()
	for i := 0; i < 10; i++ {
		k.Go("forever", func(p *Proc) {
			for {
				p.Sleep(time.Hour)
			}
		})
	}
	if err := k.Run(10*time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown() // returns only once every goroutine is gone
	if k.Now() != 10*time.Hour {
		t.Errorf("stopped at %s, want the 10h limit", k.Now())
	}
}

// TestCPUIsAnMMcQueue checks the CPU pool against queueing theory: Poisson
// arrivals and exponential service on c processors at utilization 0.8 wait
// on average as long as Erlang C says, and Little's law holds.
func TestCPUIsAnMMcQueue(t *testing.T) {
	const (
		c       = 4
		rho     = 0.8
		service = 10 * time.Millisecond
		n       = 200000
	)
	lambda := rho * c / service.Seconds() // arrivals per second
	rng := rand.New(rand.NewPCG(1, 2))
	k := New()
	cpu := NewCPU(c)
	var totalWait, totalSojourn time.Duration
	// The number in the system, integrated over time as jobs come and go.
	var inSystem int
	var area float64
	var last time.Duration
	count := func(delta int) {
		area += float64(inSystem) * (k.Now() - last).Seconds()
		last = k.Now()
		inSystem += delta
	}
	var arrive func()
	arrived := 0
	arrive = func() {
		arrived++
		if arrived > n {
			return
		}
		d := time.Duration(rng.ExpFloat64() * float64(service))
		count(+1)
		k.Go("job", func(p *Proc) {
			start := k.Now()
			totalWait += cpu.Run(p, d)
			totalSojourn += k.Now() - start
			count(-1)
		})
		k.After(time.Duration(rng.ExpFloat64()/lambda*float64(time.Second)), arrive)
	}
	k.At(0, arrive)
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	meanWait := totalWait.Seconds() / n
	want := erlangC(c, rho) * service.Seconds() / (c * (1 - rho))
	if rel := math.Abs(meanWait-want) / want; rel > 0.05 {
		t.Errorf("mean wait %.6fs, Erlang C says %.6fs (%.1f%% off, want <= 5%%)", meanWait, want, 100*rel)
	}
	// Little's law against theory: the time-average number in the system,
	// integrated from N(t) as jobs come and go, equals lambda times the
	// M/M/c time in system (Erlang C wait plus service).
	l := area / k.Now().Seconds()
	lTheory := lambda * (want + service.Seconds())
	if rel := math.Abs(l-lTheory) / lTheory; rel > 0.02 {
		t.Errorf("Little's law: L = %.4f, lambda*W(M/M/c) = %.4f (%.2f%% off, want <= 2%%)", l, lTheory, 100*rel)
	}
	if u := cpu.Busy().Seconds() / (c * k.Now().Seconds()); math.Abs(u-rho) > 0.02 {
		t.Errorf("utilization %.3f, want %.2f", u, rho)
	}
}

// erlangC is the probability that an arrival waits in an M/M/c queue.
func erlangC(c int, rho float64) float64 {
	a := rho * float64(c)
	sum, term := 0.0, 1.0
	for k := 0; k < c; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	top := term * a / float64(c) / (1 - rho)
	return top / (sum + top)
}

func TestAbortStopsAtTheNextEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   uint64 // the event after which Abort fails
	}{
		{"first event", 1},
		{"mid run", 7},
		{"late", 19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New()
			ran := 0
			for i := range 10 {
				k.At(time.Duration(i)*time.Second, func() { ran++ })
			}
			k.Go("sleeper", func(p *Proc) {
				for range 9 {
					p.Sleep(time.Second)
				}
			})
			k.Abort = func() error {
				if k.Steps() >= tc.at {
					return errors.New("interrupted")
				}
				return nil
			}
			err := k.Run(0, nil)
			if err == nil || k.Steps() != tc.at {
				t.Fatalf("stopped after %d events with %v; want a stop after event %d", k.Steps(), err, tc.at)
			}
			want := fmt.Sprintf("interrupted at virtual time %s after %d events", k.Now(), tc.at)
			if err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			k.Shutdown()
		})
	}
}

func TestAbortPollingKeepsTheOrder(t *testing.T) {
	trace := func(abort func() error) string {
		k := New()
		var got []string
		for i := range 5 {
			k.At(time.Duration(5-i)*time.Second, func() { got = append(got, fmt.Sprint("e", i)) })
		}
		k.Go("a", func(p *Proc) {
			for i := range 5 {
				got = append(got, fmt.Sprint("a", i))
				p.Sleep(time.Second)
			}
		})
		k.Abort = abort
		if err := k.Run(0, nil); err != nil {
			t.Fatal(err)
		}
		k.Shutdown()
		return fmt.Sprint(got, k.Steps(), k.Now())
	}
	polls := 0
	without, with := trace(nil), trace(func() error { polls++; return nil })
	if without != with {
		t.Errorf("polling Abort changed the run:\n without %s\n    with %s", without, with)
	}
	if polls == 0 {
		t.Error("Abort was never polled")
	}
}

// TestEventHeapPopsInTimeThenSequenceOrder pushes events at random times,
// many equal, interleaved with pops, and checks every pop is the least
// (time, sequence) of those pushed and not yet popped.
func TestEventHeapPopsInTimeThenSequenceOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h eventHeap
	pending := map[uint64]event{}
	seq := uint64(0)
	check := func() {
		e := h.pop()
		for _, o := range pending {
			if o.at < e.at || (o.at == e.at && o.seq < e.seq) {
				t.Fatalf("popped (%s, %d) before (%s, %d)", e.at, e.seq, o.at, o.seq)
			}
		}
		if _, ok := pending[e.seq]; !ok {
			t.Fatalf("popped (%s, %d), which is not pending", e.at, e.seq)
		}
		delete(pending, e.seq)
	}
	for i := 0; i < 3000; i++ {
		seq++
		e := event{at: time.Duration(rng.IntN(50)), seq: seq}
		h.push(e)
		pending[seq] = e
		if rng.IntN(3) == 0 {
			check()
		}
	}
	for h.Len() > 0 {
		check()
	}
	if len(pending) != 0 {
		t.Errorf("%d events never popped", len(pending))
	}
}

// TestEventQueuePopsInTimeThenSequenceOrder does the same through the
// kernel's queue, whose events due at the current time skip the heaps and
// whose others go to one heap or another by how far ahead they are due:
// time moves to each event popped, and many are pushed at it.
func TestEventQueuePopsInTimeThenSequenceOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var q eventQueue
	var now time.Duration
	pending := map[uint64]event{}
	seq := uint64(0)
	popped := 0
	check := func() {
		e := q.pop()
		for _, o := range pending {
			if o.before(&e) {
				t.Fatalf("popped (%s, %d) before (%s, %d)", e.at, e.seq, o.at, o.seq)
			}
		}
		if _, ok := pending[e.seq]; !ok {
			t.Fatalf("popped (%s, %d), which is not pending", e.at, e.seq)
		}
		delete(pending, e.seq)
		now = e.at
		popped++
	}
	for i := 0; i < 3000; i++ {
		seq++
		at := now // due now, soon or later, some at equal times
		switch rng.IntN(4) {
		case 1:
			at += time.Duration(rng.IntN(20))
		case 2:
			at += laterDelay + time.Duration(rng.IntN(20))
		case 3:
			at += laterDelay - time.Duration(rng.IntN(20))
		}
		e := event{at: at, seq: seq}
		q.push(e, now)
		pending[seq] = e
		if q.Len() != len(pending) {
			t.Fatalf("Len %d with %d pending", q.Len(), len(pending))
		}
		if rng.IntN(2) == 0 {
			check()
		}
	}
	for q.Len() > 0 {
		check()
	}
	if len(pending) != 0 || popped != 3000 {
		t.Errorf("%d events never popped", len(pending))
	}
}

// TestRunResumesAndShutdownUnwinds checks that a process suspended when one
// Run ends continues in the next, and that Shutdown unwinds the stacks of
// the processes still waiting, running their deferred calls, in the order
// they were started.
func TestRunResumesAndShutdownUnwinds(t *testing.T) {
	k := New()
	var log []string
	for _, name := range []string{"a", "b"} {
		k.Go(name, func(p *Proc) {
			defer func() { log = append(log, name+" unwound at "+k.Now().String()) }()
			for {
				p.Sleep(time.Second)
				log = append(log, name+" at "+k.Now().String())
			}
		})
	}
	if err := k.Run(time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if err := k.Run(2*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	want := "a at 1s|b at 1s|a at 2s|b at 2s|a unwound at 2s|b unwound at 2s"
	if got := strings.Join(log, "|"); got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}

// TestTurnGoesAheadOfQueuedWork: a turn on a processor (a woken thread's
// short task) waits only for the next processor to free, ahead of the work
// already queued for one, and holds none.
func TestTurnGoesAheadOfQueuedWork(t *testing.T) {
	k := New()
	c := NewCPU(1)
	ends := map[string]time.Duration{}
	waits := map[string]time.Duration{}
	run := func(name string, at, work time.Duration, turn bool) {
		k.Go(name, func(p *Proc) {
			p.Sleep(at)
			if turn {
				waits[name] = c.Turn(p)
			} else {
				waits[name] = c.Run(p, work)
			}
			ends[name] = k.Now()
		})
	}
	run("long", 0, 10*time.Millisecond, false)
	run("queued", time.Millisecond, 5*time.Millisecond, false)
	run("turn", 2*time.Millisecond, 0, true)
	run("idle", 20*time.Millisecond, 0, true)
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	want := map[string][2]time.Duration{ // wait, end
		"long": {0, 10 * time.Millisecond}, "turn": {8 * time.Millisecond, 10 * time.Millisecond},
		"queued": {9 * time.Millisecond, 15 * time.Millisecond}, "idle": {0, 20 * time.Millisecond},
	}
	for name, w := range want {
		if waits[name] != w[0] || ends[name] != w[1] {
			t.Errorf("%s: waited %v, ended at %v; want %v and %v", name, waits[name], ends[name], w[0], w[1])
		}
	}
	if c.Busy() != 15*time.Millisecond {
		t.Errorf("processor time %v, want 15ms (the turns hold none)", c.Busy())
	}
}

func TestGoEachRunsLikeGoForEachIndex(t *testing.T) {
	trace := func(start func(k *Kernel, body func(i int, p *Proc))) []string {
		k := New()
		var log []string
		start(k, func(i int, p *Proc) {
			p.Sleep(time.Duration(3-i) * time.Second)
			log = append(log, fmt.Sprintf("%d %s at %s", i, p.Name(), k.Now()))
			p.Sleep(time.Second)
			log = append(log, fmt.Sprintf("%d again at %s", i, k.Now()))
		})
		if err := k.Run(0, nil); err != nil {
			t.Fatal(err)
		}
		k.Shutdown()
		return log
	}
	each := trace(func(k *Kernel, body func(i int, p *Proc)) { k.GoEach("w", 4, body) })
	one := trace(func(k *Kernel, body func(i int, p *Proc)) {
		for i := 0; i < 4; i++ {
			k.Go("w", func(p *Proc) { body(i, p) })
		}
	})
	if len(each) != 8 || strings.Join(each, "\n") != strings.Join(one, "\n") {
		t.Errorf("GoEach ran\n%s\nGo ran\n%s", strings.Join(each, "\n"), strings.Join(one, "\n"))
	}
	if each[0] != "3 w at 0s" || each[7] != "0 again at 4s" {
		t.Errorf("GoEach ran\n%s", strings.Join(each, "\n"))
	}
}
