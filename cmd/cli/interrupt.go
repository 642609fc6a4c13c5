package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// interrupts starts watching for SIGINT and SIGTERM on behalf of a command
// that stops cleanly: ctx is cancelled, with an *interrupted cause, by the
// first signal; stop ends the watch. Main uses notifySignals; tests pass
// their own, to interrupt a command without sending a signal.
type interrupts func(stderr io.Writer) (ctx context.Context, stop func())

// interrupted is the cause of a command's cancelled context: a signal asked krosim to stop.
type interrupted struct{ sig os.Signal }

func (e *interrupted) Error() string { return "interrupted by " + signalName(e.sig) }

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// signalExit is the status a shell reports for a process that sig killed: 128 + its number.
func signalExit(sig os.Signal) int {
	if n, ok := sig.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return exitRun
}

// interruptNote is what a command prints when the first signal stops it.
const interruptNote = "a second signal quits at once"

// notifySignals watches the process's SIGINT and SIGTERM.
func notifySignals(stderr io.Writer) (context.Context, func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, stop := watchSignals(sigs, stderr, quit)
	return ctx, func() {
		signal.Stop(sigs)
		stop()
	}
}

// watchSignals turns sigs into a context. The first signal cancels it, so
// the command stops at its next event and writes what it has, marked
// incomplete. A second one means the user will not wait: it calls exit
// with 128 + the signal's number, as a shell reports a process the signal
// killed, leaving every output file either as it was or complete.
func watchSignals(sigs <-chan os.Signal, stderr io.Writer, exit func(code int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan struct{})
	go func() {
		first := true
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				select {
				case <-done: // stopped: the command is over
					return
				default:
				}
				if first {
					first = false
					cancel(&interrupted{sig})
					continue
				}
				fmt.Fprintf(stderr, "krosim: second signal (%s): quitting now; files being written are left as they were\n", signalName(sig))
				exit(signalExit(sig))
				return
			}
		}
	}()
	return ctx, func() {
		close(done)
		cancel(nil)
	}
}
