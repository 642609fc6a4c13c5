package calibration

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
)

// TestProgressFitMatchesTheServersWaits: the progress delay's fit rounds
// find the delay at which the simulated LISTs wait as long in all as the
// server counted, here a made-up response of 100s + 3,000s per second of
// delay against 121s counted (7ms), and runs with a delete phase, whose
// server counts cover more than the simulated create phase, take no part.
func TestProgressFitMatchesTheServersWaits(t *testing.T) {
	real := func(phases int, wait float64, waits int) cpuRun {
		res := &result.Result{Real: &result.Real{Phases: make([]result.Phase, phases)}}
		res.API.WatchCacheWaitSeconds, res.API.WatchCacheWaits = wait, waits
		return cpuRun{run: &run{res: res}}
	}
	runs := []cpuRun{real(1, 50, 2000), real(1, 71, 2000), real(2, 999, 9000)}
	simulate := func(delay target.Duration) {
		x := delay.D().Seconds()
		runs[0].simWaits, runs[0].simWait = 2000, 40+1200*x
		runs[1].simWaits, runs[1].simWait = 2000, 60+1800*x
		runs[2].simWaits, runs[2].simWait = 9000, 1
	}
	var f progressFit
	var delay target.Duration
	var said string
	for range calibrationRounds {
		simulate(delay)
		said = f.step(&delay, runs)
	}
	if got := delay.D(); math.Abs(float64(got-7*time.Millisecond)) > float64(50*time.Microsecond) {
		t.Errorf("fitted progress delay %v, want 7ms", got)
	}
	if !strings.Contains(said, "waited 121.00s in all (4000 waits") {
		t.Errorf("the report does not give the server's count of the create-only runs: %s", said)
	}
	if s := f.step(&delay, runs[2:]); s != "" || math.Abs(float64(delay.D()-7*time.Millisecond)) > float64(50*time.Microsecond) {
		t.Errorf("runs with a delete phase moved the delay to %v (%q)", delay.D(), s)
	}
}
