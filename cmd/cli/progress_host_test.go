package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim"
)

// fakeTTY is standard error as a terminal.
type fakeTTY struct{ bytes.Buffer }

func (*fakeTTY) IsTerminal() bool { return true }

// TestRunProgressOnATerminal runs run and profile with standard error a
// terminal and not: the progress line appears only on the terminal, is
// erased at the end, and every output is byte for byte the same.
func TestRunProgressOnATerminal(t *testing.T) {
	rgd := filepath.Join("..", "..", "testdata", "rgd", "webapp.yaml")
	for _, cmd := range []string{"run", "profile"} {
		t.Run(cmd, func(t *testing.T) {
			outputs := map[bool]map[string]string{}
			for _, tty := range []bool{false, true} {
				dir := t.TempDir()
				var stdout bytes.Buffer
				var stderr interface {
					Write([]byte) (int, error)
					String() string
				} = &bytes.Buffer{}
				if tty {
					stderr = &fakeTTY{}
				}
				code := execute([]string{cmd, "--rgd", rgd, "--instances", "40", "--delete", "--out", dir}, strings.NewReader(""), &stdout, stderr, notifySignals)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr.String())
				}
				files := map[string]string{"stdout": strings.ReplaceAll(hostFree(stdout.String()), dir, "$OUT")}
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if !strings.HasPrefix(e.Name(), "host.") {
						files[e.Name()] = readString(t, filepath.Join(dir, e.Name()))
					}
				}
				outputs[tty] = files
				errText := stderr.String()
				if !tty {
					if strings.Contains(errText, "\r") {
						t.Errorf("progress drawn into a pipe: %q", errText)
					}
					continue
				}
				if !strings.HasPrefix(errText, "\rkrosim "+cmd+": ") || !strings.Contains(errText, "s virtual, ") ||
					!strings.Contains(errText, "/40 instances ready") || !strings.Contains(errText, " events/s\x1b[K") {
					t.Errorf("no progress line on the terminal: %q", errText)
				}
				if !strings.HasSuffix(errText, "\r\x1b[K") {
					t.Errorf("the progress line is left on the terminal: %q", errText)
				}
			}
			if len(outputs[false]) < 4 {
				t.Fatalf("only %d outputs", len(outputs[false]))
			}
			for name, plain := range outputs[false] {
				if outputs[true][name] != plain {
					t.Errorf("%s differs with progress on a terminal", name)
				}
			}
		})
	}
	t.Run("quiet", func(t *testing.T) {
		tty := &fakeTTY{}
		if code := execute([]string{"run", "--rgd", rgd, "--instances", "5", "--quiet"}, strings.NewReader(""), &bytes.Buffer{}, tty, notifySignals); code != exitOK || tty.Len() != 0 {
			t.Errorf("--quiet: exit %d, stderr %q", code, tty.String())
		}
	})
}

// hostFree is profile's standard output without its host section, which
// measures this machine.
func hostFree(s string) string {
	text, _, _ := strings.Cut(s, "\nHost: ")
	return text
}

// TestRunProgressLine checks the line and its throttle with a fake clock.
func TestRunProgressLine(t *testing.T) {
	tty := &fakeTTY{}
	p := newRunProgress(tty, "run", false)
	clock := time.Unix(0, 0)
	p.now = func() time.Time { return clock }
	p.last = clock
	p.update(sim.Progress{Virtual: 1500 * time.Millisecond, Events: 0, Instances: 100, Ready: 0})
	clock = clock.Add(100 * time.Millisecond)
	p.update(sim.Progress{Virtual: 2 * time.Second, Events: 1000, Instances: 100, Ready: 3}) // too soon: not drawn
	clock = clock.Add(400 * time.Millisecond)
	p.update(sim.Progress{Virtual: 9 * time.Second, Events: 25000, Instances: 100, Ready: 60, Settled: 62, Deleted: 10})
	p.clear()
	want := "\rkrosim run: 1.5s virtual, 0/100 instances ready, 0 events/s\x1b[K" +
		"\rkrosim run: 9.0s virtual, 60/100 instances ready, 2 failed, 10 deleted, 50,000 events/s\x1b[K" +
		"\r\x1b[K"
	if tty.String() != want {
		t.Errorf("drew %q\nwant %q", tty.String(), want)
	}
	if newRunProgress(&bytes.Buffer{}, "run", false) != nil || newRunProgress(tty, "run", true) != nil {
		t.Error("progress drawn into a pipe, or with --quiet")
	}
}
