package api

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/target"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var secretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// cacheScenario runs writes to ConfigMaps and Secrets and LISTs of Secrets at
// fixed virtual times, with a 100ms progress period, a 2ms watch delay and
// 1ms requests, and returns each LIST's wait for the watch cache by name.
func cacheScenario(t *testing.T, period time.Duration, writes map[time.Duration]schema.GroupVersionResource, lists map[string]time.Duration) map[string]time.Duration {
	t.Helper()
	tg := testTarget(t, time.Millisecond)
	tg.Server.WatchDelay = target.Duration(2 * time.Millisecond)
	tg.Server.WatchProgressInterval = target.Duration(period)
	k := kernel.New()
	srv := NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
	c := srv.NewClient(0, 0)
	n := 0
	for at, gvr := range writes {
		n++
		name := string(rune('a' + n))
		k.At(at, func() {
			if _, err := srv.Store.Create(Key{gvr, "ns", name}, configMap(name, nil, nil)); err != nil {
				t.Error(err)
			}
		})
	}
	got := map[string]time.Duration{}
	for name, at := range lists {
		k.Go(name, func(p *kernel.Proc) {
			p.Sleep(at)
			_, call := c.List(p, secretGVR, "ns", map[string]string{IndexLabel: "x"})
			got[name] = (call.Wait - time.Millisecond).Round(time.Microsecond)
		})
	}
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	return got
}

const ms = time.Millisecond

// TestConsistentListWaitsForTheWatchCache follows the API server's watch
// cache (k8s.io/apiserver storage/cacher): a LIST waits until the cache of its
// resource has seen the store's newest revision, which a write to another
// resource never shows it; the progress requester asks etcd at once when it
// last asked a period ago or more, else at its next tick, and one notification
// frees every waiter; a write of the LIST's own resource frees it as the
// write is answered.
func TestConsistentListWaitsForTheWatchCache(t *testing.T) {
	writes := map[time.Duration]schema.GroupVersionResource{0: cmGVR, 50 * ms: cmGVR, 300 * ms: cmGVR, 315 * ms: cmGVR, 330 * ms: secretGVR}
	got := cacheScenario(t, 100*ms, writes, map[string]time.Duration{
		"first":      10 * ms,  // never asked: asks now, notified after the 2ms watch delay
		"tick":       60 * ms,  // asked at 10ms: waits for the tick at 110ms (+2ms)
		"sharesTick": 80 * ms,  // the same notification
		"fresh":      200 * ms, // nothing written since the notification at 112ms
		"asksAgain":  310 * ms, // last asked at 110ms: asks at once
		"ownWrite":   320 * ms, // asked at 310ms, tick at 410ms: the Secret written at 330ms frees it at once
	})
	want := map[string]time.Duration{"first": 2 * ms, "tick": 52 * ms, "sharesTick": 32 * ms, "fresh": 0,
		"asksAgain": 2 * ms, "ownWrite": 10 * ms}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: waited %v for the watch cache, want %v", name, got[name], w)
		}
	}
	if got := cacheScenario(t, 0, writes, map[string]time.Duration{"noCache": 60 * ms}); got["noCache"] != 0 {
		t.Errorf("with no progress interval a LIST waited %v, want 0", got["noCache"])
	}
}

// TestWatchDeliveryWaitsForAProcessor: a progress notification reaches the
// watch cache the watch delay and the progress delay after the ask, and on a
// server with processors only once one is free to handle it, so a busy
// server keeps its consistent LISTs waiting.
func TestWatchDeliveryWaitsForAProcessor(t *testing.T) {
	wait := func(busy time.Duration) time.Duration {
		tg := testTarget(t, time.Millisecond)
		tg.Server.CPUs = 1
		tg.Server.WatchDelay = target.Duration(2 * ms)
		tg.Server.ProgressDelay = target.Duration(5 * ms)
		tg.Server.WatchProgressInterval = target.Duration(100 * ms)
		k := kernel.New()
		srv := NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
		if _, err := srv.Store.Create(Key{cmGVR, "ns", "a"}, configMap("a", nil, nil)); err != nil {
			t.Fatal(err)
		}
		k.Go("hog", func(p *kernel.Proc) { srv.CPU().Run(p, busy) })
		var got time.Duration
		k.Go("list", func(p *kernel.Proc) {
			p.Sleep(10 * ms)
			got = srv.waitFresh(p, secretGVR)
		})
		if err := k.Run(0, nil); err != nil {
			t.Fatal(err)
		}
		k.Shutdown()
		return got
	}
	if got := wait(0); got != 7*ms {
		t.Errorf("on an idle server the LIST waited %v, want 7ms (2ms watch delay + 5ms progress delay)", got)
	}
	if got := wait(40 * ms); got != 30*ms {
		t.Errorf("with the only processor busy until 40ms the LIST waited %v, want 30ms (from 10ms to 40ms)", got)
	}
}

// The cacher takes a resource's events one at a time: on a busy server each
// waits for a processor after the one before it, so the cache lags the
// more the more writes come, where events taken all at once would catch up
// at the first free processor.
func TestWatchEventsAreTakenInTurn(t *testing.T) {
	tg := testTarget(t, time.Millisecond)
	tg.Server.CPUs = 1
	tg.Server.WatchDelay = target.Duration(2 * ms)
	tg.Server.WatchProgressInterval = target.Duration(100 * ms)
	k := kernel.New()
	srv := NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
	// The processor is held until 40 ms, then by two requests of 10 ms each
	// that queued for it.
	k.Go("hog", func(p *kernel.Proc) { srv.CPU().Run(p, 40*ms) })
	for _, name := range []string{"a", "b"} {
		k.Go("request-"+name, func(p *kernel.Proc) { p.Sleep(ms); srv.CPU().Run(p, 10*ms) })
	}
	// Three writes at 0: their events reach the server at 2 ms.
	for _, name := range []string{"a", "b", "c"} {
		if _, err := srv.Store.Create(Key{cmGVR, "ns", name}, configMap(name, nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	var got time.Duration
	k.Go("list", func(p *kernel.Proc) {
		p.Sleep(3 * ms)
		srv.waitFresh(p, cmGVR)
		got = k.Now()
	})
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	// The first event at 40 ms, the second after request a (50 ms), the
	// third after request b (60 ms).
	if got != 60*ms {
		t.Errorf("the LIST that needs the third write was served at %v, want 60ms", got)
	}
}

func TestCacheStatsCountWaitsByBucket(t *testing.T) {
	st := CacheStats{Bounds: []float64{0.005, 0.025, 0.1}}
	for _, d := range []time.Duration{ms, 5 * ms, 6 * ms, 60 * ms, 100 * ms, 4 * time.Second} {
		st.add(d)
	}
	// A wait on a bound counts in that bucket, as Prometheus's le does.
	if want := []int{2, 1, 2, 1}; !slices.Equal(st.Buckets, want) || st.Waits != 6 {
		t.Errorf("buckets %v of %d waits, want %v of 6", st.Buckets, st.Waits, want)
	}
	var none CacheStats
	none.add(ms)
	if none.Buckets != nil || none.Waits != 1 {
		t.Errorf("without bounds: buckets %v, %d waits; want none, 1", none.Buckets, none.Waits)
	}
}
