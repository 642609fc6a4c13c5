package analysis

import (
	"bytes"
	"strings"
	"testing"

	"github.com/krosim/krosim/sim/result"
)

func TestCompareShowsHowTheWaitsSpread(t *testing.T) {
	// waits counts the waits in the buckets up to 5, 25, 50 and 100 ms.
	run := func(waits ...int) compared {
		counts := make([]int, len(result.WaitBounds)+1)
		copy(counts, waits)
		return compared{res: &result.Result{API: result.API{WatchCacheWaitBuckets: result.WaitBuckets(counts)}}}
	}
	c := &SimReal{
		sim: run(1, 2),
		real: []compared{
			run(1, 0, 0, 2),
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
