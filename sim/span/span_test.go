package span

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/verb"
)

func TestThreadPhasesSumToLifetime(t *testing.T) {
	var th Thread
	th.Start(0, Idle)
	th.Switch(10, Other)   // idle 10
	th.Switch(30, APIWait) // other 20
	// Of the 40 just spent waiting on the API, 15 were client throttling.
	th.Charge(70, Part{Phase: ThrottleWait, D: 15})
	th.Switch(70, Other)
	// 20 of CPU: 5 eval, 3 traversal, the rest other.
	th.Charge(90, Part{Phase: Eval, D: 5}, Part{Phase: Traversal, D: 3})
	if ph, d := th.Open(95); ph != Other || d != 5 {
		t.Errorf("Open(95) = %s, %d; want other, 5", ph, d)
	}
	th.Finish(100)
	want := [NumPhases]time.Duration{Idle: 10, Other: 20 + 12 + 10, APIWait: 25, ThrottleWait: 15, Eval: 5, Traversal: 3}
	if th.By != want {
		t.Errorf("By = %v, want %v", th.By, want)
	}
	var sum time.Duration
	for _, d := range th.By {
		sum += d
	}
	if sum != 100 {
		t.Errorf("phases sum to %d, want the lifetime 100", sum)
	}
}

func TestRecorderSamplesSortedAndSummed(t *testing.T) {
	r := NewRecorder()
	get := Stack{Thread: "worker", RGD: "b", Pass: "1", Phase: APIWait, Detail: Detail{Verb: verb.Get}}
	cache := get
	cache.Detail = Detail{Verb: verb.List, CacheWait: true}
	list := get
	list.Detail = Detail{Verb: verb.List}
	eval := Stack{Thread: "worker", RGD: "b", Pass: "1", Resource: "db", Phase: Eval, Detail: Detail{Expr: "${x}"}}
	build := Stack{Thread: "rgd-controller", RGD: "b", Phase: Compile, Detail: Detail{Step: "graph build"}}
	other := Stack{Thread: "worker", RGD: "a", Pass: "2", Phase: Other, Detail: Detail{Step: "walk"}}
	r.Add(&eval, 3)
	r.Add(&get, 1)
	r.Add(&cache, 4)
	r.Add(&list, 2)
	r.Add(&build, 7)
	r.Add(&other, 5)
	r.Add(&get, 6)
	r.Add(&other, 0)  // nothing
	r.Add(&other, -1) // nothing
	want := []Sample{{build, 7}, {other, 5}, {get, 7}, {list, 2}, {cache, 4}, {eval, 3}}
	got := r.Samples()
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestDetailString(t *testing.T) {
	tests := []struct {
		d    Detail
		want string
	}{
		{Detail{Verb: verb.Get}, "get"},
		{Detail{Verb: verb.List, CacheWait: true}, "list watch-cache wait"},
		{Detail{Verb: verb.Patch, Client: true}, "client patch"},
		{Detail{Step: "decode", Client: true}, "client decode"},
		{Detail{Expr: "${a.b}"}, "${a.b}"},
		{Detail{Step: "walk"}, "walk"},
		{Detail{}, ""},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestRecorderAddsUpEqualStacksOfOtherStrings checks that stacks equal in
// content but built from different strings (different keys in the
// recorder) come out as one sample with their times added up.
func TestRecorderAddsUpEqualStacksOfOtherStrings(t *testing.T) {
	r := NewRecorder()
	const n = 50
	for round := 0; round < 3; round++ {
		for i := 0; i < n; i++ {
			res := fmt.Sprintf("res%03d", i) // new bytes every time
			r.Add(&Stack{Thread: "worker", Resource: res, Phase: Eval, Detail: Detail{Expr: strings.Clone("${x}")}}, time.Duration(i+1))
		}
	}
	got := r.Samples()
	if len(got) != n {
		t.Fatalf("%d samples, want %d", len(got), n)
	}
	for i, s := range got {
		if want := fmt.Sprintf("res%03d", i); s.Stack.Resource != want || s.D != time.Duration(3*(i+1)) {
			t.Errorf("sample %d is %s with %v, want %s with %v", i, s.Stack.Resource, s.D, want, time.Duration(3*(i+1)))
		}
	}
}

// TestRecorderKeepsEveryField checks that a stack comes out of the
// recorder as it went in, every field and flag set.
func TestRecorderKeepsEveryField(t *testing.T) {
	for _, d := range []Detail{
		{Verb: verb.List, Client: true, CacheWait: true},
		{Verb: verb.Get, CacheWait: true},
		{Client: true, Step: "decode"},
		{Expr: "${a.b}"},
	} {
		s := Stack{Thread: "worker", RGD: "r", Pass: "5+", Resource: "db", Phase: ThrottleWait, Detail: d}
		r := NewRecorder()
		r.Add(&s, 3)
		if got := r.Samples(); len(got) != 1 || got[0] != (Sample{s, 3}) {
			t.Errorf("recorded %+v, got %+v", s, got)
		}
	}
}

// TestRecorderGrowsAndKeepsEveryStack adds the same strings' stacks, far
// more than the recorder's first table holds, in rounds that also add
// nothing (zero and negative times), and checks every stack keeps its
// total as the table grows, and that nothing is recorded for a stack
// never charged a positive time.
func TestRecorderGrowsAndKeepsEveryStack(t *testing.T) {
	r := NewRecorder()
	const n = 5000
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("res%05d", i)
	}
	for round := 1; round <= 3; round++ {
		for i, res := range names {
			for _, ph := range []Phase{Eval, APIWait} {
				r.Add(&Stack{Thread: "worker", Resource: res, Phase: ph}, time.Duration(round*(i+1)))
			}
			r.Add(&Stack{Thread: "worker", Resource: res, Phase: Idle}, time.Duration(-i))
		}
	}
	got := r.Samples()
	if len(got) != 2*n {
		t.Fatalf("%d samples, want %d", len(got), 2*n)
	}
	for j, s := range got {
		i := j / 2
		want := Stack{Thread: "worker", Resource: names[i], Phase: []Phase{Eval, APIWait}[j%2]}
		if s.Stack != want || s.D != time.Duration(6*(i+1)) {
			t.Fatalf("sample %d is %+v with %v, want %+v with %v", j, s.Stack, s.D, want, time.Duration(6*(i+1)))
		}
	}
}
