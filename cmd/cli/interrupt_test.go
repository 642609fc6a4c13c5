package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// injected interrupts a command through ctx instead of a signal.
func injected(ctx context.Context) interrupts {
	return func(io.Writer) (context.Context, func()) { return ctx, func() {} }
}

// cancelled is a context a signal has already cancelled.
func cancelled(sig os.Signal) context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&interrupted{sig})
	return ctx
}

func TestWatchSignals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sig      os.Signal
		cause    string
		exitCode int
	}{
		{"SIGINT", os.Interrupt, "interrupted by SIGINT", 130},
		{"SIGTERM", syscall.SIGTERM, "interrupted by SIGTERM", 143},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sigs := make(chan os.Signal, 2)
			exited := make(chan int, 1)
			var stderr bytes.Buffer
			ctx, stop := watchSignals(sigs, &stderr, func(code int) { exited <- code })
			defer stop()

			sigs <- tc.sig
			<-ctx.Done()
			var sig *interrupted
			if cause := context.Cause(ctx); !errors.As(cause, &sig) || cause.Error() != tc.cause {
				t.Errorf("cause %v, want %s", cause, tc.cause)
			}
			select {
			case code := <-exited:
				t.Fatalf("the first signal exited %d", code)
			case <-time.After(10 * time.Millisecond):
			}

			sigs <- tc.sig
			select {
			case code := <-exited:
				if code != tc.exitCode {
					t.Errorf("second signal exits %d, want %d", code, tc.exitCode)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("a second signal did not exit")
			}
			if !strings.Contains(stderr.String(), "second signal ("+tc.name+")") {
				t.Errorf("stderr %q does not name the second signal", stderr.String())
			}
		})
	}
}

func TestStopEndsTheWatch(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, stop := watchSignals(sigs, &bytes.Buffer{}, func(code int) { t.Errorf("exit %d after stop", code) })
	stop()
	sigs <- os.Interrupt
	sigs <- os.Interrupt
	time.Sleep(10 * time.Millisecond)
	if context.Cause(ctx) != context.Canceled {
		t.Errorf("cause %v after stop, want context.Canceled", context.Cause(ctx))
	}
}

// resultsFile is what the interruption tests read of results.json.
type resultsFile struct {
	Complete   *bool  `json:"complete"`
	Incomplete string `json:"incomplete"`
}

func readResults(t *testing.T, dir string) resultsFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r resultsFile
	if err := json.Unmarshal(data, &r); err != nil || r.Complete == nil {
		t.Fatalf("results.json is not a result (%v):\n%.300s", err, data)
	}
	return r
}

// noTempFiles fails if a write left its temporary file in dir.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInterruptedRunWritesIncompleteOutputs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cmd   string
		sig   os.Signal
		files []string
	}{
		{"run SIGTERM", "run", syscall.SIGTERM, []string{"metrics.prom", "results.json", "wall.pb.gz"}},
		{"profile SIGINT", "profile", os.Interrupt, []string{"attribution.txt", "flame.html", "flame.svg", "metrics.prom", "results.json", "wall.folded", "wall.pb.gz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			code := dispatch([]string{tc.cmd, "--rgd", chainRGD, "--instances", "50", "--out", dir}, &stdout, &stderr, injected(cancelled(tc.sig)))
			if code != exitRun {
				t.Errorf("exit %d, want %d\n%s", code, exitRun, stderr.String())
			}
			name := signalName(tc.sig)
			r := readResults(t, dir)
			if *r.Complete || !strings.HasPrefix(r.Incomplete, "interrupted by "+name+" at virtual time ") {
				t.Errorf("results.json: complete %v, incomplete %q; want false, interrupted by %s at virtual time ...", *r.Complete, r.Incomplete, name)
			}
			for _, f := range tc.files {
				// Stopped at the first event, the folded stacks may be empty.
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s not written: %v", f, err)
				}
			}
			noTempFiles(t, dir)
			for _, want := range []string{
				"krosim: " + tc.cmd + ": interrupted by " + name + "; writing the results so far, marked incomplete",
				"run incomplete: interrupted by " + name + " at virtual time ",
				"its outputs, marked incomplete, are in " + dir,
			} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}

func TestHelpSaysWhatASignalDoes(t *testing.T) {
	for _, c := range commands {
		help := c.help()
		if says := strings.Contains(help, "On SIGINT or SIGTERM: "); says != (c.interrupt != "") {
			t.Errorf("krosim %s: help mentions signals %v, want %v", c.name, says, c.interrupt != "")
		}
	}
}

// blockingReader blocks every Read until the test ends, after calling
// started once: standard input that never comes, a load that hangs.
type blockingReader struct {
	started func()
	once    bool
	end     <-chan struct{}
}

func (r *blockingReader) Read([]byte) (int, error) {
	if !r.once {
		r.once = true
		r.started()
	}
	<-r.end
	return 0, io.EOF
}

// TestSignalWhileLoadingQuits: loading does not look at the signal's
// context, so a signal while an RGD loads ends the command at once, writing
// nothing, instead of waiting for a load that may never end.
func TestSignalWhileLoadingQuits(t *testing.T) {
	for _, cmd := range []string{"run", "profile", "sweep"} {
		t.Run(cmd, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			end := make(chan struct{})
			defer close(end)
			stdin := &blockingReader{started: func() { cancel(&interrupted{syscall.SIGTERM}) }, end: end}
			out := filepath.Join(t.TempDir(), "out")
			args := []string{cmd, "--rgd", "-", "--instances", "5", "--out", out}
			if cmd == "sweep" {
				args = append(args, "--vary", "workers=1,2")
			}
			var stdout, stderr bytes.Buffer
			code := execute(args, stdin, &stdout, &stderr, injected(ctx))
			if code != exitRun || !strings.Contains(stderr.String(), "interrupted by SIGTERM while loading the RGDs; nothing written") {
				t.Errorf("exit %d, stderr %q; want exit %d, interrupted while loading", code, stderr.String(), exitRun)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists after an interrupted load (%v)", out, err)
			}
		})
	}
}
