package queue

import (
	"slices"
	"testing"
	"time"
)

// TestLogRoundTrip checks that the log gives back every event as added, in
// order, and the waits of the keys taken.
func TestLogRoundTrip(t *testing.T) {
	want := []Event{
		{At: 0, What: Added, Depth: 0},
		{At: 0, What: Pushed, Depth: 1},
		{At: time.Millisecond, What: Got, Depth: 0, Wait: time.Millisecond},
		{At: 3 * time.Second, What: Retried, Depth: 70000},
		{At: time.Hour, What: Got, Depth: 5, Wait: 0},
	}
	var l Log
	for _, e := range want {
		l.add(e)
	}
	c := l.Clone()
	l.add(Event{At: 2 * time.Hour, What: Added})
	if got := slices.Collect(c.Events()); !slices.Equal(got, want) {
		t.Errorf("events\n%+v\nwant\n%+v", got, want)
	}
	if got := c.Waits(); !slices.Equal(got, []time.Duration{time.Millisecond, 0}) {
		t.Errorf("waits %v", got)
	}
}
