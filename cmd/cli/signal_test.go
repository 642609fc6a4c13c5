//go:build unix

package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// child is a krosim process under test, its stderr read line by line.
type child struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	seen  chan string // every stderr line, as it arrives
	done  chan error  // cmd.Wait's error
}

func start(t *testing.T, bin string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...), seen: make(chan string, 1000), done: make(chan error, 1)}
	pipe, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			c.mu.Unlock()
			select {
			case c.seen <- sc.Text():
			default:
			}
		}
		c.done <- c.cmd.Wait()
	}()
	return c
}

func (c *child) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// await waits for a stderr line containing s.
func (c *child) await(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case line := <-c.seen:
			if strings.Contains(line, s) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q on stderr within %s:\n%s", s, within, c.stderr())
		}
	}
}

// exit waits for the process and returns its exit code.
func (c *child) exit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-c.done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return c.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("still running %s after the signal:\n%s", within, c.stderr())
		return 0
	}
}

func (c *child) signal(t *testing.T, sig os.Signal) time.Time {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// TestSignals sends real signals to a built krosim.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds krosim and runs it; -short skips it")
	}
	bin := filepath.Join(t.TempDir(), "krosim")
	if out, err := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, "../krosim").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	big := []string{"--rgd", chainRGD, "--instances", "20000"}

	// The simulation of 20,000 instances runs for minutes: a signal a second
	// in finds it running (or, on a busy host, still building the workload:
	// it then stops at the first event).
	stopsAtTheNextEvent := func(t *testing.T, cmd string, sig os.Signal, files ...string) {
		dir := t.TempDir()
		c := start(t, bin, append([]string{cmd, "--out", dir}, big...)...)
		time.Sleep(time.Second)
		sent := c.signal(t, sig)
		name := signalName(sig)
		c.await(t, "interrupted by "+name+"; writing the results so far", 5*time.Second)
		t.Logf("the simulation stopped %s after %s", time.Since(sent).Round(time.Millisecond), name)
		if code := c.exit(t, 15*time.Second); code != exitRun {
			t.Errorf("exit %d, want %d:\n%s", code, exitRun, c.stderr())
		}
		r := readResults(t, dir)
		if *r.Complete || !strings.HasPrefix(r.Incomplete, "interrupted by "+name+" at virtual time ") {
			t.Errorf("results.json: complete %v, incomplete %q", *r.Complete, r.Incomplete)
		}
		for _, f := range files {
			// On a busy host the signal may come before any reconcile: no stacks to fold.
			if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 && f != "wall.folded" {
				t.Errorf("%s not written (%v)", f, err)
			}
		}
		noTempFiles(t, dir)
		if !strings.Contains(c.stderr(), "are in "+dir) {
			t.Errorf("stderr does not say where the outputs are:\n%s", c.stderr())
		}
	}
	t.Run("run SIGTERM", func(t *testing.T) {
		stopsAtTheNextEvent(t, "run", syscall.SIGTERM, "metrics.prom", "wall.pb.gz")
	})
	t.Run("profile SIGINT", func(t *testing.T) {
		stopsAtTheNextEvent(t, "profile", os.Interrupt, "metrics.prom", "wall.pb.gz", "flame.svg", "flame.html", "wall.folded", "attribution.txt", "host.json")
	})

	t.Run("run second SIGTERM", func(t *testing.T) {
		// The second signal must land while the first one's results are
		// being written. On a busy host the first may stop the run before
		// its first event, and writing so little can finish before the second
		// signal arrives: that attempt exits as the first signal asks, with
		// whole files, and the test tries again.
		for attempt := 1; ; attempt++ {
			dir := t.TempDir()
			c := start(t, bin, append([]string{"run", "--out", dir}, big...)...)
			time.Sleep(time.Second)
			c.signal(t, syscall.SIGTERM)
			c.await(t, "interrupted by SIGTERM", 5*time.Second)
			c.signal(t, syscall.SIGTERM)
			code := c.exit(t, 5*time.Second)
			// Each file is complete or absent.
			if data, err := os.ReadFile(filepath.Join(dir, "results.json")); err == nil && !json.Valid(data) {
				t.Error("results.json is not valid JSON")
			}
			noTempFiles(t, dir)
			if code == 143 {
				return
			}
			if code != exitRun || !strings.Contains(c.stderr(), "are in "+dir) || attempt == 5 {
				t.Fatalf("attempt %d: exit %d, want 143:\n%s", attempt, code, c.stderr())
			}
			t.Logf("attempt %d: the results were written before the second signal came", attempt)
		}
	})

	t.Run("sweep SIGTERM", func(t *testing.T) {
		dir := t.TempDir()
		c := start(t, bin, "sweep", "--rgd", chainRGD, "--instances", "300", "--vary", "workers=1,2,3,4,5,6,7,8",
			"--parallel", "1", "--out", dir)
		c.await(t, "krosim sweep: 1/8 ", 10*time.Second)
		c.signal(t, syscall.SIGTERM)
		c.await(t, "interrupted by SIGTERM after ", 5*time.Second)
		if code := c.exit(t, 10*time.Second); code != exitRun {
			t.Errorf("exit %d, want %d:\n%s", code, exitRun, c.stderr())
		}
		data, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
		if err != nil {
			t.Fatal(err)
		}
		var sw struct {
			Complete   bool              `json:"complete"`
			Incomplete string            `json:"incomplete"`
			Points     []json.RawMessage `json:"points"`
		}
		if err := json.Unmarshal(data, &sw); err != nil {
			t.Fatal(err)
		}
		if sw.Complete || len(sw.Points) == 0 || len(sw.Points) == 8 || !strings.HasPrefix(sw.Incomplete, "interrupted by SIGTERM: ") {
			t.Errorf("sweep.json: complete %v, %d of 8 points, incomplete %q; want the finished points, marked interrupted by SIGTERM",
				sw.Complete, len(sw.Points), sw.Incomplete)
		}
		noTempFiles(t, dir)
	})
}
