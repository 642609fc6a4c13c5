package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/krosim/krosim/profile/bench"
	"golang.org/x/term"
)

// benchProgress shows a bench's steps on stderr when it is a terminal: a
// bar redrawn in place, with the step running and a wall-time ETA. Off a
// terminal it prints nothing, so logs and pipes stay clean.
type benchProgress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	start time.Time
	drawn bool
}

func newBenchProgress(w io.Writer, quiet bool) *benchProgress {
	p := &benchProgress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && !quiet {
		p.on = term.IsTerminal(int(f.Fd()))
	}
	return p
}

// step is bench.Options.Progress.
func (p *benchProgress) step(s bench.Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on {
		return
	}
	const width = 20
	fill := width * s.Done / max(1, s.Total)
	elapsed := time.Since(p.start)
	eta := ""
	if s.Done > 0 {
		eta = "  ETA " + time.Duration(float64(elapsed)/float64(s.Done)*float64(s.Total-s.Done)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[Kkrosim bench [%s%s] %d/%d %s  %s%s", strings.Repeat("#", fill), strings.Repeat(".", width-fill),
		s.Done, s.Total, s.What, elapsed.Round(time.Second), eta)
	p.drawn = true
}

// log is where a real run's own progress lines go: stderr on a terminal,
// below the bar; nowhere otherwise.
func (p *benchProgress) log() io.Writer {
	if !p.on {
		return io.Discard
	}
	return writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.endLine()
		return p.w.Write(b)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// interrupted says why the bench stopped early; it prints on any stderr.
func (p *benchProgress) interrupted(why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
	fmt.Fprintf(p.w, "krosim: bench: %s; writing what finished, marked incomplete (%s)\n", why, interruptNote)
}

// finish ends the bar's line.
func (p *benchProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
}

func (p *benchProgress) endLine() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
