package calibration

import (
	"bytes"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
)

func TestQuantileOfInterpolatesBuckets(t *testing.T) {
	b := map[float64]float64{0.005: 50, 0.025: 90, 0.05: 100, math.Inf(1): 100}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0.25, 2500 * time.Microsecond}, {0.5, 5 * time.Millisecond}, {0.7, 15 * time.Millisecond}, {0.95, 37500 * time.Microsecond}} {
		if got := quantileOf(b, tt.p).D(); (got - tt.want).Abs() > time.Microsecond {
			t.Errorf("p%g = %s, want %s", 100*tt.p, got, tt.want)
		}
	}
}

func TestMeanOfAFixedLatencyIsIt(t *testing.T) {
	d := target.Duration(3 * time.Millisecond)
	if got := meanOf(target.Latency{P50: d, P95: d, P99: d}); (got - 3*time.Millisecond).Abs() > time.Microsecond {
		t.Errorf("mean %s, want 3ms", got)
	}
	// A right tail pulls the mean above the median.
	if got := meanOf(target.Latency{P50: d, P95: 3 * d, P99: 6 * d}); got <= 3*time.Millisecond {
		t.Errorf("mean %s of a right-skewed latency is not above its median", got)
	}
}

func TestProcessorsFromThroughput(t *testing.T) {
	rows := []LatencyRow{
		{Verb: "get", Concurrency: 1, OpsPerSec: 800}, {Verb: "get", Concurrency: 4, OpsPerSec: 1700},
		{Verb: "list", Concurrency: 1, OpsPerSec: 900}, {Verb: "list", Concurrency: 4, OpsPerSec: 1710},
		{Verb: "create", Concurrency: 1, OpsPerSec: 400}, {Verb: "create", Concurrency: 4, OpsPerSec: 760},
		{Verb: PatchWrites, Concurrency: 1, OpsPerSec: 100}, {Verb: PatchWrites, Concurrency: 4, OpsPerSec: 400},
	}
	if got := processors(rows, []int{1, 4}); math.Abs(got-1.9) > 1e-9 {
		t.Errorf("processors = %v, want 1.9 (the median of 2.125, 1.9 and 1.9)", got)
	}
	if got := processors(rows[:2], []int{1}); got != 0 {
		t.Errorf("processors with one concurrency = %v, want 0", got)
	}
}

func TestLatenciesTakeTheNoOpApply(t *testing.T) {
	ms := func(x float64) time.Duration { return time.Duration(x * 1e6) }
	rows := []LatencyRow{
		{Verb: "create", Concurrency: 1, P50: ms(3), P95: ms(5), P99: ms(7)},
		{Verb: "list", Concurrency: 1, P50: ms(1), P95: ms(2), P99: ms(3), PerObject: 80 * time.Microsecond},
		{Verb: PatchWrites, Concurrency: 1, P50: ms(9), P95: ms(9), P99: ms(9)},
		{Verb: "patch", Concurrency: 1, P50: ms(2), P95: ms(4), P99: ms(8)},
	}
	want := map[verb.Verb]target.Latency{
		"create": {P50: target.Duration(ms(3)), P95: target.Duration(ms(5)), P99: target.Duration(ms(7))},
		"list": {P50: target.Duration(ms(1)), P95: target.Duration(ms(2)), P99: target.Duration(ms(3)),
			PerObject: target.Duration(80 * time.Microsecond)},
		"patch": {P50: target.Duration(ms(2)), P95: target.Duration(ms(4)), P99: target.Duration(ms(8))},
	}
	if got := latencies(rows); !maps.Equal(got, want) {
		t.Errorf("latencies = %v, want %v (patch the no-op apply's, patch-writes left out)", got, want)
	}
}

// calibrated is a calibration of every verb at 1 and 4 in flight whose
// throughput shows 1.9 processors.
func calibrated() *Calibration {
	var first, top []LatencyRow
	for i, v := range append(slices.Clone(verb.All), PatchWrites) {
		d := time.Duration(i+1) * time.Millisecond
		first = append(first, LatencyRow{Verb: v, Concurrency: 1, P50: d, P95: 2 * d, P99: 3 * d, OpsPerSec: 800})
		top = append(top, LatencyRow{Verb: v, Concurrency: 4, P50: 2 * d, P95: 4 * d, P99: 6 * d, OpsPerSec: 1520})
	}
	rows := append(first, top...)
	return &Calibration{Latency: latencies(first), Rows: rows, Processors: processors(rows, []int{1, 4}),
		Objects: 200, Concurrency: []int{1, 4}, Client: "linux/amd64 with 2 CPUs"}
}

func TestApply(t *testing.T) {
	single := calibrated()
	single.Rows, single.Concurrency, single.Processors = single.Rows[:len(verb.All)+1], []int{1}, 0
	for _, tt := range []struct {
		name     string
		cal      *Calibration
		keepCPUs bool
		cpus     int
		note     string
	}{
		{"processors measured", calibrated(), false, 2,
			"Throughput at 4 in flight over that at 1: 1.90 processors serving requests (server.cpus 2)."},
		{"cpus given", calibrated(), true, 3,
			"Throughput at 4 in flight over that at 1: 1.90 processors serving requests (server.cpus 3 as given)."},
		{"one concurrency", single, false, 3, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base, err := target.Lookup("kro-defaults")
			if err != nil {
				t.Fatal(err)
			}
			base = base.Clone()
			base.Server.CPUs = 3
			before, _ := base.YAML()
			got, note := tt.cal.Apply(base, ApplyOptions{Name: "measured", Base: "kro-defaults", KeepCPUs: tt.keepCPUs})
			if after, _ := base.YAML(); !bytes.Equal(before, after) {
				t.Errorf("Apply changed its base target")
			}
			if note != tt.note {
				t.Errorf("note %q, want %q", note, tt.note)
			}
			if got.Name != "measured" || got.Server.CPUs != tt.cpus {
				t.Errorf("name %q, server.cpus %d; want measured, %d", got.Name, got.Server.CPUs, tt.cpus)
			}
			if !maps.Equal(got.Latency, tt.cal.Latency) {
				t.Errorf("latency %v, want the calibration's %v", got.Latency, tt.cal.Latency)
			}
			if len(base.Readiness) == 0 || len(got.Readiness) != 0 {
				t.Errorf("readiness %v (base %d kinds), want none: the measured server has no kind controllers", got.Readiness, len(base.Readiness))
			}
			for _, want := range []string{"kro-defaults with the request latency of a real API server",
				"(200 requests per verb, 1 in flight, client-go dynamic client on linux/amd64 with 2 CPUs)",
				"Also measured: patch-writes x1 p50 8.00ms p99 24.00ms"} {
				if !strings.Contains(got.Description, want) {
					t.Errorf("the description lacks %q:\n%s", want, got.Description)
				}
			}
			if !strings.HasSuffix(got.Description, "."+strings.TrimSuffix(" "+tt.note, " ")) {
				t.Errorf("the description does not end with the note %q:\n%s", tt.note, got.Description)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("the target is not valid: %v", err)
			}
		})
	}
}

// TestApplyKeepsTheWatchEvents: a calibration that measured watched writes
// gives the target the server's and the watcher's CPU of a watch event.
func TestApplyKeepsTheWatchEvents(t *testing.T) {
	base, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	base = base.Clone()
	base.Server.CPUs = 2
	cal := calibrated()
	cal.Watched = WatchedWrite{Watchers: 8, Server: 40 * time.Microsecond, Client: 110 * time.Microsecond}
	got, _ := cal.Apply(base, ApplyOptions{Name: "measured", Base: "kro-defaults", KeepCPUs: true})
	if got.Server.EventCPU.D() != 40*time.Microsecond || got.Cost.EventNS != 110e3 {
		t.Errorf("server.event_cpu %v, cost.event_ns %v; want 40µs and 110000", got.Server.EventCPU, got.Cost.EventNS)
	}
	if want := "A write's watch event, from updates watched by 8 watches against the same unwatched: 0.040ms of the server's CPU"; !strings.Contains(got.Description, want) {
		t.Errorf("the description lacks %q:\n%s", want, got.Description)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("the target is not valid: %v", err)
	}
}

// TestPerKiBSplitsTheCPU checks how calibrate --kubeconfig splits a verb's
// CPU by the objects' sizes, from objects of 0.5 and 1.5 KiB: a patch that
// grew from 4ms to 8ms (a fraction of 1 per KiB) and a delete from 2ms to
// 3ms (0.5) pool into 0.75 for both: 4ms is 2.5ms + 3ms per KiB, 2ms is
// 1.25ms + 1.5ms per KiB; a GET keeps its own fraction, and one whose CPU
// did not grow its CPU whole; a LIST is charged per object listed instead;
// a fraction that would leave less than a tenth of the CPU is held there.
func TestPerKiBSplitsTheCPU(t *testing.T) {
	ms := func(x float64) time.Duration { return time.Duration(x * 1e6) }
	for _, tc := range []struct {
		name  string
		sized []LatencyRow
		l     map[verb.Verb]target.Latency
		want  map[verb.Verb][2]time.Duration
	}{
		{"pooled writes, a GET of its own",
			[]LatencyRow{{Verb: verb.Patch, ServerCPU: ms(8)}, {Verb: verb.Delete, ServerCPU: ms(3)},
				{Verb: verb.Get, ServerCPU: ms(1.5)}, {Verb: verb.List, ServerCPU: ms(3)}},
			map[verb.Verb]target.Latency{verb.Patch: {CPU: target.Duration(ms(4))}, verb.Delete: {CPU: target.Duration(ms(2))},
				verb.Get: {CPU: target.Duration(ms(1.5))}, verb.List: {CPU: target.Duration(ms(1))}},
			map[verb.Verb][2]time.Duration{verb.Patch: {ms(2.5), ms(3)}, verb.Delete: {ms(1.25), ms(1.5)},
				verb.Get: {ms(1.5), 0}, verb.List: {ms(1), 0}}},
		{"held to nine tenths",
			[]LatencyRow{{Verb: verb.Create, ServerCPU: ms(10)}, {Verb: verb.Get, ServerCPU: ms(3)}},
			map[verb.Verb]target.Latency{verb.Create: {CPU: target.Duration(ms(2))}, verb.Get: {CPU: target.Duration(ms(1))}},
			map[verb.Verb][2]time.Duration{verb.Create: {ms(0.2), ms(3.6)}, verb.Get: {ms(0.1), ms(1.8)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Calibration{KiB: [2]float64{0.5, 1.5}, Sized: tc.sized}
			c.perKiB(tc.l)
			for v, want := range tc.want {
				if got := [2]time.Duration{tc.l[v].CPU.D(), tc.l[v].CPUPerKiB.D()}; got != want {
					t.Errorf("%s: cpu %v + %v per KiB, want %v + %v", v, got[0], got[1], want[0], want[1])
				}
			}
		})
	}
}
