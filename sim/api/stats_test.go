package api

import (
	"slices"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/verb"
)

// TestAttemptsRoundTrip checks that the attempts log gives back every try as
// it was logged, in order, and that a clone is independent of the stats.
func TestAttemptsRoundTrip(t *testing.T) {
	want := []Attempt{
		{Verb: verb.Get, Sent: 0, Done: 3 * time.Millisecond},
		{Verb: verb.Patch, Limited: true, Throttle: 0, Sent: time.Millisecond, Done: 3 * time.Millisecond, Retried: "429"},
		{Verb: verb.Delete, Limited: true, Throttle: 40 * time.Millisecond, Sent: time.Second, Done: time.Hour},
		{Verb: verb.UpdateStatus, Sent: time.Hour, Done: time.Hour},
	}
	st := newStats()
	for _, a := range want {
		st.logAttempt(a)
	}
	c := st.Clone()
	st.logAttempt(Attempt{Verb: verb.List, Sent: 2 * time.Hour, Done: 2 * time.Hour})
	if got := slices.Collect(c.Attempts()); !slices.Equal(got, want) {
		t.Errorf("clone's attempts\n%+v\nwant\n%+v", got, want)
	}
	if got := slices.Collect(st.Attempts()); len(got) != len(want)+1 || got[len(want)].Verb != verb.List {
		t.Errorf("attempts after one more: %+v", got)
	}
}

// TestLatenciesKeepEveryValue checks that a verb's latencies come back
// exactly, in the order served.
func TestLatenciesKeepEveryValue(t *testing.T) {
	var vs VerbStats
	want := []time.Duration{time.Nanosecond, 0, 37 * time.Millisecond, time.Hour, 1234567}
	for _, d := range want {
		vs.served(d)
	}
	if got := vs.Latencies(); !slices.Equal(got, want) {
		t.Errorf("latencies %v, want %v", got, want)
	}
}
