package queue

import (
	"testing"
	"time"

	"github.com/krosim/krosim/sim/kernel"
)

func newQueue() (*kernel.Kernel, *Queue[string]) {
	k := kernel.New()
	return k, New(k, NewRateLimiter[string](k, 200*time.Millisecond, 1000*time.Second, 10, 100))
}

func TestQueueDedupesAndNeverProcessesAKeyTwiceAtOnce(t *testing.T) {
	k, q := newQueue()
	q.Add("a")
	q.Add("a") // already waiting: no-op
	q.Add("b")
	if q.Len() != 2 {
		t.Fatalf("len %d after adding a, a, b; want 2", q.Len())
	}
	var got []string
	k.Go("worker", func(p *kernel.Proc) {
		key := q.Get(p)
		got = append(got, key)
		q.Add(key) // added while processing: dirty, not queued
		if q.Len() != 1 {
			t.Errorf("a key being processed was queued again: len %d", q.Len())
		}
		q.Done(key) // now it goes back
		for q.Len() > 0 {
			key := q.Get(p)
			got = append(got, key)
			q.Done(key)
		}
	})
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	if want := []string{"a", "b", "a"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("processed %v, want %v", got, want)
	}
}

func TestAddAfterKeepsTheEarlierTime(t *testing.T) {
	k, q := newQueue()
	var at time.Duration
	q.AddAfter("a", 3*time.Second)
	q.AddAfter("a", time.Second)
	q.AddAfter("a", 5*time.Second)
	k.Go("worker", func(p *kernel.Proc) {
		q.Get(p)
		at = k.Now()
	})
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	if at != time.Second {
		t.Errorf("got the key at %s, want 1s", at)
	}
}

func TestRateLimiterBacksOffExponentially(t *testing.T) {
	k, _ := newQueue()
	rl := NewRateLimiter[string](k, 200*time.Millisecond, 1000*time.Second, 10, 100)
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond}
	for i, w := range want {
		if got := rl.When("a"); got != w {
			t.Errorf("failure %d: delay %s, want %s", i+1, got, w)
		}
	}
	rl.Forget("a")
	if got := rl.When("a"); got != 200*time.Millisecond {
		t.Errorf("after Forget: %s, want 200ms", got)
	}
	for i := 0; i < 30; i++ {
		rl.When("b")
	}
	if got := rl.When("b"); got != 1000*time.Second {
		t.Errorf("capped delay %s, want 1000s", got)
	}
}

func TestRateLimiterBucketBindsManyKeys(t *testing.T) {
	k, _ := newQueue()
	rl := NewRateLimiter[int](k, time.Millisecond, time.Second, 10, 100)
	// 100 keys fail once at the same instant: the burst absorbs them ...
	for i := 0; i < 100; i++ {
		rl.When(i)
	}
	// ... the next waits for the 10 qps bucket to refill.
	if got := rl.When(100); got != 100*time.Millisecond {
		t.Errorf("101st delay %s, want 100ms from the 10 qps bucket", got)
	}
}
