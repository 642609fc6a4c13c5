package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/krosim/krosim/sim/study"
)

// progress reports a sweep's points on stderr as they finish, using wall time
// for the ETA: a bar redrawn in place on a terminal, one line per point otherwise.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
	tty   bool
	dims  []string
	start time.Time
	drawn bool // a bar is on screen without its newline
	done  int
	total int
}

// newProgress reports on points of study s, of which total run here.
func newProgress(w io.Writer, quiet bool, total int, s *study.Study) *progress {
	p := &progress{w: w, quiet: quiet, dims: s.Grid().Dims, start: time.Now(), total: total}
	p.tty = isTerminal(w)
	if p.tty && !quiet {
		p.bar(0, 0, "")
	}
	return p
}

// bar redraws the progress bar in place.
func (p *progress) bar(done int, elapsed time.Duration, eta string) {
	const width = 30
	fill := width * done / max(1, p.total)
	fmt.Fprintf(p.w, "\rkrosim sweep [%s%s] %d/%d points  %s elapsed%s ",
		strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, p.total,
		elapsed.Round(100*time.Millisecond), eta)
	p.drawn = true
}

// point is study.Options.Progress.
func (p *progress) point(pr study.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = pr.Done, pr.Total
	if p.quiet {
		return
	}
	elapsed := time.Since(p.start)
	eta := time.Duration(float64(elapsed) / float64(pr.Done) * float64(pr.Total-pr.Done))
	if p.tty {
		p.bar(pr.Done, elapsed, "  ETA "+eta.Round(time.Second).String())
		return
	}
	r := pr.Row
	var params []string
	for _, d := range p.dims {
		params = append(params, d+"="+study.FormatValue(d, r.Params[d]))
	}
	params = append(params, fmt.Sprintf("seed=%d", r.Seed))
	conv := "not converged"
	if r.ConvergeSeconds != nil {
		conv = fmt.Sprintf("converged in %.3fs virtual", *r.ConvergeSeconds)
	}
	fmt.Fprintf(p.w, "krosim sweep: %d/%d %s: %s; binding: %s (ETA %s)\n",
		pr.Done, pr.Total, strings.Join(params, " "), conv, r.Diagnosis.Constraint, eta.Round(time.Second))
}

// interrupted says that a signal stopped the sweep (why) and what happens next.
func (p *progress) interrupted(why error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	fmt.Fprintf(p.w, "krosim sweep: %v after %d of %d points; waiting for the running points, then writing their results (%s)\n",
		why, p.done, p.total, interruptNote)
}

// finish ends the bar's line.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
