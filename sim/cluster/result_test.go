package cluster

import (
	"path/filepath"
	"testing"

	"github.com/krosim/krosim/sim/result"

	"github.com/krosim/krosim/sim/verb"
)

func TestWaitBucketsFromTheServersCumulativeSeries(t *testing.T) {
	name := "apiserver_watch_cache_read_wait_seconds_bucket"
	s := func(resource, le string, v float64) Series {
		return Series{Name: name, Labels: map[string]string{"resource": resource, "le": le}, Value: v}
	}
	series := []Series{
		// configmaps: 2 waits up to 5 ms, 3 more up to 50 ms (the 25 ms bound
		// missing from this server's buckets), 1 past 3 s.
		s("configmaps", "0.005", 2), s("configmaps", "0.05", 5), s("configmaps", "0.1", 5), s("configmaps", "3", 5), s("configmaps", "+Inf", 6),
		// secrets: 4 waits up to 100 ms.
		s("secrets", "0.005", 0), s("secrets", "0.05", 0), s("secrets", "0.1", 4), s("secrets", "+Inf", 4),
		// pods: kro never LISTed them (the informers' LISTs are not its).
		s("pods", "0.005", 7), s("pods", "+Inf", 7),
	}
	calls := map[string]map[verb.Verb]int{"configmaps": {verb.List: 6}, "secrets": {verb.List: 4}, "pods": {verb.Get: 1}}
	want := map[string]int{"0.005": 2, "0.05": 3, "0.1": 4, "+Inf": 1}
	total := 0
	for _, b := range waitBuckets(series, calls) {
		if b.Waits != want[b.LE] {
			t.Errorf("le=%s: %d waits, want %d", b.LE, b.Waits, want[b.LE])
		}
		total += b.Waits
	}
	if total != 10 {
		t.Errorf("%d waits in all, want 10", total)
	}
	if got := waitBuckets(nil, calls); got != nil {
		t.Errorf("no series: got %v, want none", got)
	}
}

// The real runs kept with their wait histograms: every LIST the server
// counted as waiting is in one bucket.
func TestRealRunsWaitBucketsSumToTheirCount(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/realapi/measured/waits/*")
	if len(dirs) == 0 {
		t.Fatal("no runs in testdata/realapi/measured/waits")
	}
	for _, d := range dirs {
		r, err := result.Read(d)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, b := range r.API.WatchCacheWaitBuckets {
			sum += b.Waits
		}
		if sum != r.API.WatchCacheWaits || sum == 0 {
			t.Errorf("%s: buckets hold %d waits, the server counted %d", d, sum, r.API.WatchCacheWaits)
		}
	}
}

// TestCacheWaitsCountKrosListedResources: a phase's LIST waits are the
// server's counts between its scrapes, for the resources kro LISTed.
func TestCacheWaitsCountKrosListedResources(t *testing.T) {
	scrape := func(text string) *Scrape {
		s, err := ParseScrape([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := scrape(`apiserver_watch_cache_read_wait_seconds_sum{group="g",resource="configmaps"} 1.5
apiserver_watch_cache_read_wait_seconds_count{group="g",resource="configmaps"} 10
apiserver_watch_cache_read_wait_seconds_sum{group="",resource="pods"} 2
apiserver_watch_cache_read_wait_seconds_count{group="",resource="pods"} 3
`)
	after := scrape(`apiserver_watch_cache_read_wait_seconds_sum{group="g",resource="configmaps"} 2.25
apiserver_watch_cache_read_wait_seconds_count{group="g",resource="configmaps"} 25
apiserver_watch_cache_read_wait_seconds_sum{group="",resource="pods"} 9
apiserver_watch_cache_read_wait_seconds_count{group="",resource="pods"} 30
`)
	waits, seconds := cacheWaits(before, after, map[string]map[verb.Verb]int{"configmaps": {verb.List: 4}, "pods": {verb.Get: 2}})
	if waits != 15 || seconds != 0.75 {
		t.Errorf("%d waits, %v s; want 15 and 0.75 (configmaps only: kro never LISTed pods)", waits, seconds)
	}
}
