package cluster

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestHostLoadVerdict(t *testing.T) {
	start := hostSample{ok: true, total: 1000, busy: 100, steal: 0, measured: 50, load1: 0.2, pids: 4}
	cases := []struct {
		name  string
		end   hostSample
		quiet bool
		why   string
	}{
		{"quiet: the run's own processes used the CPU", hostSample{ok: true, total: 2000, busy: 700, measured: 620, pids: 4}, true, ""},
		{"other processes", hostSample{ok: true, total: 2000, busy: 900, measured: 300, pids: 4}, false, "other processes used 55%"},
		{"background work at a lower priority", hostSample{ok: true, total: 2000, busy: 900, measured: 300, pids: 4,
			procs: map[procKey]proc{{7, 1}: {nice: 19, ticks: 500}}}, false, "used 55% of the host's 2 CPUs, 50% of it at a lower priority"},
		{"stolen", hostSample{ok: true, total: 2000, busy: 300, steal: 100, measured: 250, pids: 4}, false, "stole 10%"},
	}
	for _, c := range cases {
		h := hostLoad(start, c.end, 10)
		if h == nil {
			t.Fatalf("%s: no host", c.name)
		}
		if h.Quiet != c.quiet || !strings.Contains(h.Verdict, c.why) {
			t.Errorf("%s: quiet %v verdict %q, want %v and %q", c.name, h.Quiet, h.Verdict, c.quiet, c.why)
		}
		if d := h.Busy - h.Measured - h.Background - h.Other; d > 1e-3 || d < -1e-3 {
			t.Errorf("%s: other %v is not busy %v less measured %v", c.name, h.Other, h.Busy, h.Measured)
		}
	}
	if hostLoad(hostSample{}, start, 1) != nil || hostLoad(start, start, 1) != nil {
		t.Error("a failed or empty interval gave a host")
	}
}

// TestSampleHost reads this machine's counters, and counts a PID file's
// process (this test's own) as measured.
func TestSampleHost(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc on this OS: real runs record no host here")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "self.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gone.pid"), []byte("999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := sampleHost(dir)
	x := 0
	for i := 0; i < 3e7; i++ { // some CPU time of our own
		x += i % 7
	}
	_ = x
	b := sampleHost(dir)
	if !a.ok || !b.ok {
		t.Fatal("sampleHost failed on Linux")
	}
	if a.pids != 2 {
		t.Errorf("found %d measured processes, want 2 (krosim, and the PID file of a live process; not the dead one)", a.pids)
	}
	if b.total < a.total || b.busy < a.busy || b.measured < a.measured {
		t.Errorf("counters went backwards: %+v then %+v", a, b)
	}
}

func TestBackground(t *testing.T) {
	a := map[procKey]proc{
		{10, 1}: {ppid: 1, nice: 19, ticks: 100}, // a build, niced
		{11, 5}: {ppid: 10, nice: 19, ticks: 40}, // its compiler, which ends
		{12, 1}: {ppid: 1, nice: 0, ticks: 1000}, // a foreground process
	}
	b := map[procKey]proc{
		{10, 1}: {ppid: 1, nice: 19, ticks: 100 + 60 + 50}, // the compiler's 60, reaped, and 50 of its own
		{12, 1}: {ppid: 1, nice: 0, ticks: 2000},
		{13, 9}: {ppid: 10, nice: 19, ticks: 30}, // born since
	}
	// 50 of its own + the compiler's 20 after the first sample + 30 of the newcomer.
	if got := background(a, b); got != 100 {
		t.Errorf("background %d ticks, want 100", got)
	}
}
