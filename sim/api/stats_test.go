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
		{Verb: verb.Get, Sent: 0, Done: 3 * time.Millisecond, Served: true, ServerTime: 3 * time.Millisecond},
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

// TestLatenciesKeepEveryValue checks that a verb's server times come back
// exactly, in the order the tries returned: Done-Sent unless a try was
// turned away unserved or the server's time was not the client's wait.
func TestLatenciesKeepEveryValue(t *testing.T) {
	st := newStats()
	tries := []Attempt{
		{Verb: verb.Get, Sent: 0, Done: time.Nanosecond, Served: true, ServerTime: time.Nanosecond},
		{Verb: verb.List, Sent: time.Second, Done: 2 * time.Second, Served: true, ServerTime: time.Second},
		{Verb: verb.Get, Sent: time.Second, Done: time.Second, Served: true},
		{Verb: verb.Get, Sent: time.Second, Done: time.Second, Retried: "429"}, // turned away
		{Verb: verb.Get, Sent: time.Second, Done: time.Hour, Served: true, ServerTime: 37 * time.Millisecond},
		{Verb: verb.Get, Limited: true, Throttle: time.Millisecond, Sent: time.Hour, Done: time.Hour + 1234567, Served: true, ServerTime: 1234567},
	}
	for _, a := range tries {
		st.logAttempt(a)
	}
	want := []time.Duration{time.Nanosecond, 0, 37 * time.Millisecond, 1234567}
	if got := st.Latencies(verb.Get); !slices.Equal(got, want) {
		t.Errorf("GET latencies %v, want %v", got, want)
	}
	if got := st.Latencies(verb.List); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Errorf("LIST latencies %v, want [1s]", got)
	}
	if got := slices.Collect(st.Attempts()); !slices.Equal(got, tries) {
		t.Errorf("attempts\n%+v\nwant\n%+v", got, tries)
	}
}
