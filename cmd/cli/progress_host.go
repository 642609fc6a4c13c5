package cli

// Host side: this file reads the wall clock, to throttle the progress line
// and to measure events per second of real time. The simulation only
// reports checkpoints in virtual time (sim.Options.Progress).

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/study"
	"golang.org/x/term"
)

// terminal is a writer that says whether it is a terminal: tests stand in
// for one with it.
type terminal interface {
	io.Writer
	IsTerminal() bool
}

// isTerminal reports whether w shows what is written to it to a person:
// progress is drawn only there, never into a pipe or a file.
func isTerminal(w io.Writer) bool {
	switch w := w.(type) {
	case terminal:
		return w.IsTerminal()
	case *os.File:
		return term.IsTerminal(int(w.Fd()))
	}
	return false
}

// progressEvery is the least wall time between two redraws of the line.
const progressEvery = 250 * time.Millisecond

// runProgress draws one line on a terminal, redrawn in place as a run or
// profile goes: virtual time, instances ready of all, events per second of
// wall time.
type runProgress struct {
	mu     sync.Mutex
	w      io.Writer
	cmd    string
	now    func() time.Time
	last   time.Time // of the last redraw
	events uint64    // at the last redraw
	drawn  bool      // a line is on screen
}

// newRunProgress returns the progress of command cmd on w, or nil when w
// is no terminal or quiet is set: then nothing is drawn.
func newRunProgress(w io.Writer, cmd string, quiet bool) *runProgress {
	if quiet || !isTerminal(w) {
		return nil
	}
	return &runProgress{w: w, cmd: cmd, now: time.Now, last: time.Now()}
}

// update is sim.Options.Progress: it redraws the line at most every progressEvery.
func (p *runProgress) update(s sim.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	elapsed := now.Sub(p.last)
	if p.drawn && elapsed < progressEvery {
		return
	}
	rate := float64(s.Events-p.events) / max(elapsed.Seconds(), 1e-3)
	p.last, p.events = now, s.Events
	line := fmt.Sprintf("krosim %s: %.1fs virtual, %d/%s ready", p.cmd, s.Virtual.Seconds(), s.Ready, study.Plural(s.Instances, "instance"))
	if failed := s.Settled - s.Ready; failed > 0 {
		line += fmt.Sprintf(", %d failed", failed)
	}
	if s.Deleted > 0 {
		line += fmt.Sprintf(", %d deleted", s.Deleted)
	}
	line += fmt.Sprintf(", %s events/s", study.Thousands(int(rate)))
	// \r and erase to the end of the line: the new line covers the old.
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.drawn = true
}

// clear erases the line, before other messages or once the run is over.
func (p *runProgress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
