package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hostileBound is how long one command may take on a hostile input.
const hostileBound = 60 * time.Second

// mainBounded runs Main in a goroutine and fails t, rather than hanging or
// crashing the test binary, when it panics or outlives hostileBound.
func mainBounded(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	type result struct {
		code           int
		stdout, stderr string
		panicked       any
	}
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		defer func() {
			if p := recover(); p != nil {
				done <- result{panicked: p}
			}
		}()
		c := Main(args, &out, &errOut)
		done <- result{code: c, stdout: out.String(), stderr: errOut.String()}
	}()
	timer := time.NewTimer(hostileBound)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.panicked != nil {
			t.Fatalf("krosim %s panicked: %v", strings.Join(args, " "), r.panicked)
		}
		return r.code, r.stdout, r.stderr
	case <-timer.C:
		t.Fatalf("krosim %s ran for over %s", strings.Join(args, " "), hostileBound)
	}
	return 0, "", ""
}

// TestHostileCorpus runs `krosim validate` on every file of
// testdata/hostile: recursive types, bad bytes, alias bombs, deep nesting,
// giant lines, duplicate keys. A file named ok-* must validate; every other
// must fail with exit 1, nothing on stdout, and a first line
// file:line:col: cause. None may panic or take over hostileBound, and no
// report may echo a giant line whole.
func TestHostileCorpus(t *testing.T) {
	files, err := filepath.Glob("../../testdata/hostile/*.yaml")
	if err != nil || len(files) < 40 {
		t.Fatalf("want at least 40 files in testdata/hostile, got %d (%v)", len(files), err)
	}
	dir := t.TempDir()
	// Too big to keep in the repository.
	big := filepath.Join(dir, "oversize.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("a: b\n"), 17<<20/5), 0o644); err != nil {
		t.Fatal(err)
	}
	line := filepath.Join(dir, "megabyte-line.yaml")
	if err := os.WriteFile(line, []byte("a: "+strings.Repeat("b", 1<<20)+": c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files = append(files, big, line)
	if _, err := os.Stat("/dev/zero"); err == nil {
		files = append(files, "/dev/zero")
	}
	rejected, accepted := 0, 0
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := mainBounded(t, "validate", "--timings=false", file)
			if strings.HasPrefix(name, "ok-") {
				accepted++
				if code != exitOK || stderr != "" {
					t.Errorf("exit %d, want 0; stderr:\n%.2000s", code, stderr)
				}
				return
			}
			rejected++
			if code != exitRun {
				t.Errorf("exit %d, want %d; stderr:\n%.2000s", code, exitRun, stderr)
			}
			if stdout != "" {
				t.Errorf("partial output on stdout:\n%.2000s", stdout)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			if !regexp.MustCompile(`^` + regexp.QuoteMeta(file) + `:\d+:\d+: \S`).MatchString(first) {
				t.Errorf("first line of stderr is not %s:line:col: cause:\n%.2000s", file, first)
			}
			for _, l := range strings.Split(stderr, "\n") {
				if len(l) > 1000 {
					t.Errorf("stderr has a line of %d bytes: %.200q...", len(l), l)
					break
				}
			}
		})
	}
	t.Logf("%d files: %d rejected, %d accepted", len(files), rejected, accepted)
}

// TestHostileTargets runs `krosim run` with every target file of
// testdata/hostile/target, each with one bad number: exit 2 before anything
// runs, naming file:line:col and the cause.
func TestHostileTargets(t *testing.T) {
	files, err := filepath.Glob("../../testdata/hostile/target/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in testdata/hostile/target (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := mainBounded(t, "run", "--rgd", "../../testdata/rgd/webapp.yaml", "--target", file, "--out", out)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			if want := fmt.Sprintf("krosim run: %s:", file); !regexp.MustCompile(`^` + regexp.QuoteMeta(want) + `\d+:\d+: \S`).MatchString(stderr) {
				t.Errorf("stderr does not start with %s:line:col: cause:\n%s", want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout:\n%s", stdout)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}
