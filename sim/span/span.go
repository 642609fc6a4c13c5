package span

import (
	"sort"
	"time"
	"unsafe"

	"github.com/krosim/krosim/sim/verb"
)

// Phase is what a controller thread is doing.
type Phase int

// The phases, in report order. Attribution keys are their names.
const (
	Compile Phase = iota
	Eval
	Traversal
	APIWait
	ThrottleWait
	CPUWait
	Other
	Idle
	NumPhases
)

var phaseNames = [NumPhases]string{"compile", "eval", "traversal", "api_wait", "throttle_wait", "cpu_wait", "other", "idle"}

func (p Phase) String() string { return phaseNames[p] }

// Phases returns every phase in report order.
func Phases() []Phase {
	out := make([]Phase, NumPhases)
	for i := range out {
		out[i] = Phase(i)
	}
	return out
}

// Thread accounts one thread's virtual time by phase. Every instant between
// Start and Finish belongs to exactly one phase, so the phases sum to the
// thread's lifetime exactly.
type Thread struct {
	By    [NumPhases]time.Duration
	cur   Phase
	since time.Duration
}

// Start begins accounting at now in phase p.
func (t *Thread) Start(now time.Duration, p Phase) { t.cur, t.since = p, now }

// Switch closes the current phase at now and opens p.
func (t *Thread) Switch(now time.Duration, p Phase) {
	t.By[t.cur] += now - t.since
	t.cur, t.since = p, now
}

// Charge moves d of the time just spent into phase p (d must not exceed the
// time accounted to the current phase since it opened).
func (t *Thread) Charge(now time.Duration, parts ...Part) {
	t.By[t.cur] += now - t.since
	for _, pt := range parts {
		t.By[t.cur] -= pt.D
		t.By[pt.Phase] += pt.D
	}
	t.since = now
}

// Part is a duration in a phase.
type Part struct {
	Phase Phase
	D     time.Duration
}

// Open returns the phase in progress and how long it has been open at now.
func (t *Thread) Open(now time.Duration) (Phase, time.Duration) { return t.cur, now - t.since }

// Finish closes the current phase at now.
func (t *Thread) Finish(now time.Duration) { t.Switch(now, t.cur) }

// Stack identifies a kind of work for profiles.
type Stack struct {
	Thread   string // "worker", "rgd-controller"
	RGD      string
	Pass     string // which reconcile of its instance: "1", "2", ..., "5+", or "delete"
	Resource string // resource id, or "" for instance-level work
	Phase    Phase
	Detail   Detail
}

// Detail is what a stack's time went to, below its phase: a request, the
// client's CPU for one, an expression or a step. Set one of Verb, Expr or
// Step (Client may go with Verb or Step, CacheWait with Verb).
type Detail struct {
	Verb verb.Verb // a request: its API or throttle wait, or with Client its client-side CPU
	// Client marks the client's own CPU: for the request Verb, or for Step ("decode").
	Client bool
	// CacheWait marks the part of a LIST's API wait spent waiting for the
	// server's watch cache to be fresh.
	CacheWait bool
	Expr      string // a CEL expression evaluated, as profiles show it
	Step      string // any other work: "reconcile", "walk", "render", "vcpu", "graph build", ...
}

// String is the detail as a profile frame names it: "get", "list
// watch-cache wait", "client patch", "client decode", the expression, or
// the step.
func (d Detail) String() string {
	switch {
	case d.Expr != "":
		return d.Expr
	case d.Client && d.Verb != "":
		return "client " + string(d.Verb)
	case d.Client:
		return "client " + d.Step
	case d.CacheWait:
		return string(d.Verb) + " watch-cache wait"
	case d.Verb != "":
		return string(d.Verb)
	}
	return d.Step
}

// Recorder aggregates time by stack. It is charged millions of times a
// run, over a few thousand stacks, so it keeps them in a table of its own:
// open addressing over the stacks' keys, hashed with a few multiplies
// where a Go map would hash the key's 88 bytes and call out to compare
// them, which cost several times the add.
type Recorder struct {
	slots  []int32 // power-of-two sized; an index into stacks plus one, 0 when free
	stacks []recorded
}

// recorded is a stack's key and its time so far.
type recorded struct {
	key stackKey
	d   time.Duration
}

// stackKey is a Stack by where its strings are rather than what they hold:
// hashing it is one pass over a few words, where a Stack's hash reads every
// byte of its seven strings, on every charge. Its pointers keep the strings
// alive, so no other string takes their place while the recorder has them.
// Equal stacks built from different strings are different keys; Samples
// adds them up.
type stackKey struct {
	p [7]unsafe.Pointer
	// The strings' lengths, then the phase and the detail's flags: no
	// padding, so the key compares as one block of memory.
	n [8]int32
}

// minSlots is the least size of a recorder's table.
const minSlots = 64

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{slots: make([]int32, minSlots)} }

// Add records d against s, which it does not keep (a pointer: a Stack is
// sixteen words, copied on every charge when passed by value).
func (r *Recorder) Add(s *Stack, d time.Duration) {
	if d <= 0 {
		return
	}
	k := s.key()
	mask := uint64(len(r.slots) - 1)
	for i := k.hash() & mask; ; i = (i + 1) & mask {
		at := r.slots[i]
		if at == 0 {
			r.stacks = append(r.stacks, recorded{k, d})
			r.slots[i] = int32(len(r.stacks))
			if 2*len(r.stacks) > len(r.slots) {
				r.grow()
			}
			return
		}
		if e := &r.stacks[at-1]; e.key == k {
			e.d += d
			return
		}
	}
}

// grow doubles the table and places every stack in it again.
func (r *Recorder) grow() {
	r.slots = make([]int32, 2*len(r.slots))
	mask := uint64(len(r.slots) - 1)
	for n, e := range r.stacks {
		i := e.key.hash() & mask
		for r.slots[i] != 0 {
			i = (i + 1) & mask
		}
		r.slots[i] = int32(n + 1)
	}
}

// hash hashes the key by its strings' places and its last word (the
// phase and flags): equal keys hold equal words, and the lengths add
// little. Each word is multiplied by an odd constant of its own and the
// products summed, independent multiplies the processor runs together
// (written out: a loop over the words costs as much again), then the sum
// is spread (splitmix64's finalizer).
func (k *stackKey) hash() uint64 {
	h := uint64(k.n[7])*0x9e3779b97f4a7c15 +
		uint64(uintptr(k.p[0]))*0xc2b2ae3d27d4eb4f +
		uint64(uintptr(k.p[1]))*0x165667b19e3779f9 +
		uint64(uintptr(k.p[2]))*0xd6e8feb86659fd93 +
		uint64(uintptr(k.p[3]))*0xff51afd7ed558ccd +
		uint64(uintptr(k.p[4]))*0xc4ceb9fe1a85ec53 +
		uint64(uintptr(k.p[5]))*0x9fb21c651e98df25 +
		uint64(uintptr(k.p[6]))*0x85ebca77c2b2ae63
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// The detail's flags in a stackKey's last word, below the phase.
const keyClient, keyCacheWait, keyPhaseShift = 1, 2, 2

func (s *Stack) key() stackKey {
	var k stackKey
	k.put(0, s.Thread)
	k.put(1, s.RGD)
	k.put(2, s.Pass)
	k.put(3, s.Resource)
	k.put(4, string(s.Detail.Verb))
	k.put(5, s.Detail.Expr)
	k.put(6, s.Detail.Step)
	k.n[7] = int32(s.Phase) << keyPhaseShift
	if s.Detail.Client {
		k.n[7] |= keyClient
	}
	if s.Detail.CacheWait {
		k.n[7] |= keyCacheWait
	}
	return k
}

// put sets the key's i-th string.
func (k *stackKey) put(i int, str string) {
	k.p[i], k.n[i] = unsafe.Pointer(unsafe.StringData(str)), int32(len(str))
}

func (k *stackKey) stack() Stack {
	var str [7]string
	for i := range str {
		str[i] = unsafe.String((*byte)(k.p[i]), int(k.n[i]))
	}
	return Stack{Thread: str[0], RGD: str[1], Pass: str[2], Resource: str[3], Phase: Phase(k.n[7] >> keyPhaseShift),
		Detail: Detail{Verb: verb.Verb(str[4]), Client: k.n[7]&keyClient != 0, CacheWait: k.n[7]&keyCacheWait != 0, Expr: str[5], Step: str[6]}}
}

// Sample is a stack with its total time.
type Sample struct {
	Stack Stack
	D     time.Duration
}

// Samples returns every stack with its time, sorted by stack.
func (r *Recorder) Samples() []Sample {
	out := make([]Sample, 0, len(r.stacks))
	at := make(map[Stack]int, len(r.stacks)) // equal stacks of different strings add up
	for _, e := range r.stacks {
		s, d := e.key.stack(), e.d
		if i, ok := at[s]; ok {
			out[i].D += d
			continue
		}
		at[s] = len(out)
		out = append(out, Sample{s, d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stack.less(out[j].Stack) })
	return out
}

func (a Stack) less(b Stack) bool {
	switch {
	case a.Thread != b.Thread:
		return a.Thread < b.Thread
	case a.RGD != b.RGD:
		return a.RGD < b.RGD
	case a.Pass != b.Pass:
		return a.Pass < b.Pass
	case a.Resource != b.Resource:
		return a.Resource < b.Resource
	case a.Phase != b.Phase:
		return a.Phase < b.Phase
	}
	return a.Detail.String() < b.Detail.String()
}
