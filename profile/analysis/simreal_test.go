package analysis

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/result"
)

func TestCompareShowsHowTheWaitsSpread(t *testing.T) {
	ms := time.Millisecond
	run := func(waits ...time.Duration) compared {
		return compared{res: &result.Result{API: result.API{WatchCacheWaitBuckets: result.Bucket(waits)}}}
	}
	c := &SimReal{
		sim: run(3*ms, 12*ms, 14*ms),
		real: []compared{
			run(2*ms, 70*ms, 80*ms),
			{res: &result.Result{}}, // recorded before the buckets were
		},
	}
	var b bytes.Buffer
	c.waitBuckets(&b)
	want := []string{
		"waits up to 5 ms 1 1 -",
		"waits over 5 up to 25 ms 2 0 -",
		"waits over 50 up to 100 ms 0 2 -",
	}
	var got []string
	for l := range strings.Lines(b.String()) {
		got = append(got, strings.Join(strings.Fields(l), " "))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
