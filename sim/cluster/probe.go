package cluster

import (
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/krosim/krosim/sim/result"
)

// The host's speed while a real run runs. On a virtual machine the
// processors' shared cache belongs to other tenants too: the same work ran
// 1.1 to 1.8 times as long from one minute to the next on the quiet
// harness, where neither the load nor the hypervisor's steal showed
// anything, and the CPU time kro, the API server and etcd spent per request
// followed it. A probe times a fixed piece of cache-bound work in its own
// thread's CPU time, a few milliseconds every ProbeInterval (about 1% of one
// processor), so a run records how fast its host was while it ran.

// ProbeInterval is how often the probe samples the host's speed.
const ProbeInterval = 200 * time.Millisecond

// probeWords is the probe's working set: 8 MiB, more than a core's own
// cache and less than the shared one, so the probe slows when others crowd
// the shared cache.
const probeWords = 1 << 20

// probeSteps is the probe's work per sample: random updates of the working
// set, about 2 ms on the harness's processors when nothing crowds them.
const probeSteps = 200_000

// probe samples the host's speed until stopped.
type probe struct {
	mu      sync.Mutex
	samples []time.Duration // CPU time of each sample's work
	at      []time.Time     // when each sample ended
	marks   []int           // len(samples) at each mark
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// startProbe starts a probe, or returns nil where threads' CPU time cannot
// be read.
func startProbe() *probe {
	if _, ok := threadCPU(); !ok {
		return nil
	}
	p := &probe{stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *probe) run() {
	defer close(p.done)
	runtime.LockOSThread() // the thread's CPU time is the work's alone
	defer runtime.UnlockOSThread()
	mem := make([]uint64, probeWords)
	for i := range mem {
		mem[i] = uint64(i)
	}
	tick := time.NewTicker(ProbeInterval)
	defer tick.Stop()
	x := uint64(1)
	for {
		c0, _ := threadCPU()
		x = probeWork(mem, x)
		c1, _ := threadCPU()
		now := time.Now()
		p.mu.Lock()
		p.samples, p.at = append(p.samples, c1-c0), append(p.at, now)
		p.mu.Unlock()
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

// probeWork updates probeSteps words of mem at random (a PCG step picks each).
func probeWork(mem []uint64, x uint64) uint64 {
	for range probeSteps {
		x = x*6364136223846793005 + 1442695040888963407
		mem[x>>44&(probeWords-1)] += x
	}
	return x
}

// mark ends a phase: the samples since the previous mark are its own.
func (p *probe) mark() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.marks = append(p.marks, len(p.samples))
	p.mu.Unlock()
}

// span is the samples of the phase that the i-th mark ended, or of the
// whole run up to the last mark when i is -1. The caller holds p.mu.
func (p *probe) span(i int) []time.Duration {
	lo, hi := p.bounds(i)
	return p.samples[lo:hi]
}

// bounds is where span(i) starts and ends in p.samples.
func (p *probe) bounds(i int) (lo, hi int) {
	switch {
	case i < 0:
		return 0, p.marks[len(p.marks)-1]
	case i == 0:
		return 0, p.marks[0]
	}
	return p.marks[i-1], p.marks[i]
}

// cpuIn is the probe's own CPU time in span(i).
func (p *probe) cpuIn(i int) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var all time.Duration
	for _, d := range p.span(i) {
		all += d
	}
	return all
}

// phase is the median sample of the phase that the i-th mark ended, in
// microseconds, 0 without samples.
func (p *probe) phase(i int) float64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return micros(quantile(p.span(i), 0.5))
}

// split is the median sample of the phase that the i-th mark ended among
// those that ended before since (the moment kro's reconciles last moved in
// it: busy, the host's speed while the run worked) and among the rest
// (idle, while the run's own processes stood still), in microseconds, 0
// without samples.
func (p *probe) split(i int, since time.Time) (busy, idle float64) {
	if p == nil {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	lo, hi := p.bounds(i)
	var work, quiet []time.Duration
	for j := lo; j < hi; j++ {
		if p.at[j].Before(since) {
			work = append(work, p.samples[j])
		} else {
			quiet = append(quiet, p.samples[j])
		}
	}
	return micros(quantile(work, 0.5)), micros(quantile(quiet, 0.5))
}

// finish stops the probe and summarizes its samples, nil without any.
func (p *probe) finish() *result.Probe {
	if p == nil {
		return nil
	}
	p.halt()
	if len(p.samples) == 0 {
		return nil
	}
	med, fast := quantile(p.samples, 0.5), quantile(p.samples, 0.1)
	return &result.Probe{Interval: ProbeInterval.Seconds(), Samples: len(p.samples),
		Median: micros(med), Fast: micros(fast), Slowdown: result.Round(float64(med) / float64(fast))}
}

// halt stops the probe, once, and waits for it.
func (p *probe) halt() {
	if p == nil {
		return
	}
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// quantile is the q-quantile of ds (the nearest sample below), 0 when empty.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// micros is d in whole microseconds.
func micros(d time.Duration) float64 { return float64(d.Round(time.Microsecond) / time.Microsecond) }

// exclude takes the probe's own CPU time in the phase that the i-th mark
// ended (i -1: the whole run) out of krosim's (ph.CPUSeconds["krosim"]),
// which measures krosim's watching of the run, and records it apart.
func (p *probe) exclude(ph *result.Phase, i int) {
	if p == nil || len(p.marks) == 0 {
		return
	}
	own := p.cpuIn(i).Seconds()
	ph.ProbeCPUSeconds = result.Round(own)
	if k, ok := ph.CPUSeconds["krosim"]; ok {
		ph.CPUSeconds["krosim"] = result.Round(max(0, k-own))
	}
}
