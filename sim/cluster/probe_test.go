package cluster

import (
	"runtime"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/result"
)

func TestProbeSummarizesItsSamples(t *testing.T) {
	ms := func(xs ...float64) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x*float64(time.Millisecond)))
		}
		return out
	}
	// A create phase on an uncrowded host, a delete phase on a crowded one.
	p := &probe{stop: make(chan struct{}), done: make(chan struct{})}
	close(p.done)
	p.samples = ms(2, 2.1, 1.9, 2, 2.2)
	p.mark()
	p.samples = append(p.samples, ms(3.6, 3.4, 3.5, 3.3, 3.7)...)
	p.mark()
	if got := p.phase(0); got != 2000 {
		t.Errorf("create phase: median %v us, want 2000", got)
	}
	if got := p.phase(1); got != 3500 {
		t.Errorf("delete phase: median %v us, want 3500", got)
	}
	// The probe's own CPU comes out of krosim's, phase by phase.
	create := result.Phase{CPUSeconds: map[string]float64{"krosim": 1, "kro": 2}}
	p.exclude(&create, 0)
	if create.ProbeCPUSeconds != 0.0102 || create.CPUSeconds["krosim"] != 0.9898 || create.CPUSeconds["kro"] != 2 {
		t.Errorf("create phase: probe CPU %v, CPU %v; want 0.0102 s of probe out of krosim's 1 s", create.ProbeCPUSeconds, create.CPUSeconds)
	}
	total := result.Phase{CPUSeconds: map[string]float64{"krosim": 0.02}}
	p.exclude(&total, -1)
	if total.ProbeCPUSeconds != 0.0277 || total.CPUSeconds["krosim"] != 0 {
		t.Errorf("whole run: probe CPU %v, krosim %v; want 0.0277 s, and krosim's never below 0", total.ProbeCPUSeconds, total.CPUSeconds["krosim"])
	}
	if got := p.cpuIn(1); got != 17500*time.Microsecond {
		t.Errorf("delete phase: probe CPU %v, want 17.5ms", got)
	}
	s := p.finish()
	if s == nil {
		t.Fatal("no summary")
	}
	// Ten samples: the median is the fifth smallest, the fast one the first.
	if s.Samples != 10 || s.Median != 2200 || s.Fast != 1900 || s.Slowdown != 1.157895 {
		t.Errorf("summary %+v, want 10 samples, median 2200, fast 1900, slowdown 1.157895", *s)
	}
}

func TestProbeTakesASampleAtOnce(t *testing.T) {
	p := startProbe()
	if p == nil {
		if runtime.GOOS == "linux" {
			t.Fatal("no probe on Linux: threads' CPU time unreadable")
		}
		return
	}
	s := p.finish()
	p.mark()
	if s == nil || s.Samples < 1 || s.Median <= 0 || s.Fast <= 0 || s.Fast > s.Median {
		t.Fatalf("probe stopped at once: %+v, want at least one sample", s)
	}
	if got := p.phase(0); got <= 0 {
		t.Errorf("the phase's median %v, want the first sample", got)
	}
	p.halt() // stopping twice is harmless
}

func TestNoProbeRecordsNothing(t *testing.T) {
	var p *probe
	p.mark()
	p.halt()
	if p.phase(0) != 0 || p.finish() != nil {
		t.Error("a missing probe reported samples")
	}
}

func TestProbeSplitsThePhasesAtKrosLastReconcile(t *testing.T) {
	// Two phases of four samples, a second apart; kro went idle after the
	// second sample of each. The run's own load slows the busy samples.
	p := &probe{stop: make(chan struct{}), done: make(chan struct{})}
	close(p.done)
	t0 := time.Unix(1_000_000, 0)
	for i, us := range []int{4000, 3800, 2100, 2000, 4200, 4400, 2600, 2500} {
		p.samples = append(p.samples, time.Duration(us)*time.Microsecond)
		p.at = append(p.at, t0.Add(time.Duration(i)*time.Second))
		if i%4 == 3 {
			p.mark()
		}
	}
	if busy, idle := p.split(0, t0.Add(2*time.Second)); busy != 3800 || idle != 2000 {
		t.Errorf("create phase, quiet from its third sample: busy %v us, idle %v us, want 3800 and 2000 (each part's median)", busy, idle)
	}
	if busy, idle := p.split(1, t0.Add(6*time.Second)); busy != 4200 || idle != 2500 {
		t.Errorf("delete phase, quiet from its third sample: busy %v us, idle %v us, want 4200 and 2500", busy, idle)
	}
	if got := p.phase(1); got != 2600 {
		t.Errorf("delete phase, over all of it: %v us, want 2600", got)
	}
	if busy, idle := p.split(1, t0.Add(time.Hour)); busy != 2600 || idle != 0 {
		t.Errorf("no sample in the quiet end: busy %v us, idle %v us, want all four samples' median (2600) and 0", busy, idle)
	}
	var none *probe
	if busy, idle := none.split(0, t0); busy != 0 || idle != 0 {
		t.Errorf("no probe: %v and %v us, want 0", busy, idle)
	}
}
