package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/profile/bench"
)

func TestBenchWritesItsThreeFiles(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"bench", "--suite", "crud", "--instances", "5", "--count", "1", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"results.json", "bench.txt", "tables.md"} {
		data, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	js, _ := os.ReadFile(filepath.Join(out, "results.json"))
	if !strings.Contains(string(js), `"format": "krosim/bench/v1"`) {
		t.Error("results.json has no format")
	}
	if code := Main([]string{"bench", "--suite", "nope"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("unknown suite: exit %d", code)
	}
}

// countdown is a context a signal cancels at its n-th look (Err call), so
// a deterministic command is interrupted at the same point every time;
// n < 0 never cancels. looks counts the calls.
type countdown struct {
	context.Context
	n, looks int
}

func (c *countdown) Err() error {
	c.looks++
	if c.n >= 0 && c.looks >= c.n {
		return &interrupted{os.Interrupt}
	}
	return nil
}

func (c *countdown) signals() interrupts {
	return func(io.Writer) (context.Context, func()) { return c, func() {} }
}

func TestBenchInterruptKeepsWhatFinished(t *testing.T) {
	args := func(dir, suites string) []string {
		return []string{"bench", "--suite", suites, "--instances", "5", "--count", "2", "--out", dir}
	}
	// How many looks the crud suite takes, the CLI's own last look included:
	// the interrupt comes at the cel suite's first.
	whole := &countdown{Context: context.Background(), n: -1}
	var stdout, stderr bytes.Buffer
	if code := dispatch(args(t.TempDir(), "crud"), &stdout, &stderr, whole.signals()); code != 0 {
		t.Fatalf("crud alone: exit %d: %s", code, stderr.String())
	}
	dir := t.TempDir()
	stderr.Reset()
	ctx := &countdown{Context: context.Background(), n: whole.looks}
	if code := dispatch(args(dir, "crud,cel"), &stdout, &stderr, ctx.signals()); code != exitRun {
		t.Fatalf("exit %d, want %d: %s", code, exitRun, stderr.String())
	}
	r := readResults(t, dir)
	if *r.Complete || r.Incomplete != "stopped during the cel suite: interrupted by SIGINT" {
		t.Errorf("results.json: complete %v, incomplete %q", *r.Complete, r.Incomplete)
	}
	js, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	var rep bench.Report
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatal(err)
	}
	crud := 0
	for _, b := range rep.Benchmarks {
		if b.Suite == bench.CRUD && len(b.Throughput.Runs) >= 1 {
			crud++
		}
		if b.Suite == bench.CEL {
			t.Errorf("cel benchmark %s written though the suite was interrupted at its start", b.Name)
		}
	}
	if crud != 5 {
		t.Errorf("%d crud benchmarks kept, want all 5", crud)
	}
	tables, _ := os.ReadFile(filepath.Join(dir, "tables.md"))
	txt, _ := os.ReadFile(filepath.Join(dir, "bench.txt"))
	if !strings.Contains(string(tables), "**Incomplete:** stopped during the cel suite") || !strings.Contains(string(txt), "incomplete: stopped during the cel suite") {
		t.Errorf("tables.md or bench.txt does not say the run is incomplete")
	}
	noTempFiles(t, dir)
	for _, want := range []string{
		"krosim: bench: stopped during the cel suite: interrupted by SIGINT; writing what finished, marked incomplete",
		"what finished, marked incomplete, is in " + dir,
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
		}
	}
}

func TestBenchRealUnreachableWritesNothing(t *testing.T) {
	kc := "../../testdata/realapi/unreachable.kubeconfig"
	out := filepath.Join(t.TempDir(), "bench")
	var stdout, stderr bytes.Buffer
	code := Main([]string{"bench", "--kubeconfig", kc, "--rgd", "../../testdata/rgd/webapp.yaml", "--out", out}, &stdout, &stderr)
	if code != exitRun || !strings.Contains(stderr.String(), "the cluster is unreachable") || !strings.Contains(stderr.String(), "127.0.0.1:1") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written for a cluster that never answered", out)
	}
	if code := Main([]string{"bench", "--kubeconfig", kc, "--suite", "workers", "--rgd", "x.yaml"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("workers on a real cluster: exit %d", code)
	}
}

func TestBenchInterruptInsideASimulation(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	ctx := &countdown{Context: context.Background(), n: 50}
	code := dispatch([]string{"bench", "--suite", "crud,cel", "--instances", "5", "--count", "2", "--out", dir}, &stdout, &stderr, ctx.signals())
	if code != exitRun {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if r := readResults(t, dir); *r.Complete || r.Incomplete != "stopped during the crud suite: interrupted by SIGINT" {
		t.Errorf("results.json: complete %v, incomplete %q", *r.Complete, r.Incomplete)
	}
}

func TestBenchProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := &benchProgress{w: &b, on: true, start: time.Now()}
	p.step(bench.Step{Done: 0, Total: 4, What: "crud: seed 1 of 2"})
	p.step(bench.Step{Done: 2, Total: 4, What: "cel: simple on this host"})
	fmt.Fprint(p.log(), "krosim real: create phase\n")
	p.finish()
	out := b.String()
	for _, want := range []string{"\r\033[Kkrosim bench [....................] 0/4 crud: seed 1 of 2", "[##########..........] 2/4 cel: simple on this host", "ETA ", "\nkrosim real: create phase\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q: %q", want, out)
		}
	}
	var off bytes.Buffer
	q := newBenchProgress(&off, false) // not a terminal
	q.step(bench.Step{Done: 0, Total: 1, What: "x"})
	fmt.Fprint(q.log(), "line\n")
	q.finish()
	if off.Len() != 0 {
		t.Errorf("progress off a terminal printed %q", off.String())
	}
}
