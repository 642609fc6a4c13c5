package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	pprofile "github.com/google/pprof/profile"
)

var webapp = filepath.Join("..", "..", "testdata", "rgd", "webapp.yaml")

// profileRun runs krosim profile on a small fixed scenario into a fresh directory.
func profileRun(t *testing.T, extra ...string) (dir, stdout string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "out")
	args := append([]string{"profile", "--rgd", webapp, "--instances", "20", "--out", dir}, extra...)
	code, stdout, stderr := run(args...)
	if code != exitOK {
		t.Fatalf("krosim %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return dir, stdout
}

func readProfile(t *testing.T, path string) *pprofile.Profile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pprofile.ParseData(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("%s: CheckValid: %v", path, err)
	}
	return p
}

func TestProfileWritesEveryOutput(t *testing.T) {
	dir, stdout := profileRun(t)
	for _, name := range []string{"results.json", "metrics.prom", "wall.pb.gz", "flame.svg", "flame.html",
		"wall.folded", "attribution.txt", "host.cpu.pb.gz", "host.heap.pb.gz", "host.json"} {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", name, err)
		}
		if !strings.Contains(stdout, path+"\n") {
			t.Errorf("stdout does not list %s", path)
		}
	}
	// Every profile written is valid.
	wall := readProfile(t, filepath.Join(dir, "wall.pb.gz"))
	if wall.SampleType[0].Type != "wall" || wall.SampleType[0].Unit != "nanoseconds" {
		t.Errorf("wall.pb.gz sample type %v", wall.SampleType[0])
	}
	cpu := readProfile(t, filepath.Join(dir, "host.cpu.pb.gz"))
	if cpu.SampleType[len(cpu.SampleType)-1].Type != "cpu" {
		t.Errorf("host.cpu.pb.gz sample types %v", cpu.SampleType)
	}
	readProfile(t, filepath.Join(dir, "host.heap.pb.gz"))

	// The table and the host section are printed, and told apart.
	for _, want := range []string{"Worker time by phase", "API wait by verb", "Top 5 resources", "not this host",
		"Host: krosim itself on this machine (this host, not the target", "CPU profile by phase label"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	att, _ := os.ReadFile(filepath.Join(dir, "attribution.txt"))
	if !strings.Contains(stdout, string(att)) {
		t.Error("stdout does not hold attribution.txt")
	}

	var host hostReport
	data, _ := os.ReadFile(filepath.Join(dir, "host.json"))
	if err := json.Unmarshal(data, &host); err != nil {
		t.Fatal(err)
	}
	if host.GOMAXPROCS < 1 || !strings.HasPrefix(host.GoVersion, "go") || host.ElapsedSeconds <= 0 ||
		host.CPUSeconds <= 0 || host.MaxRSSBytes < 1<<20 || len(host.Stages) != 3 {
		t.Errorf("host.json implausible: %+v", host)
	}

	// The folded stacks are the flame graph's, and every phase in them is drawn.
	folded, _ := os.ReadFile(filepath.Join(dir, "wall.folded"))
	phases := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(folded)), "\n") {
		frames := strings.Split(line[:strings.LastIndexByte(line, ' ')], ";")
		for _, f := range frames {
			switch f {
			case "compile", "eval", "traversal", "api_wait", "throttle_wait", "cpu_wait", "other":
				phases[f] = true
			}
		}
	}
	if len(phases) < 4 {
		t.Errorf("only phases %v in wall.folded", phases)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "flame.svg"))
	names := svgFrameNames(t, svg)
	for ph := range phases {
		if !names[ph] {
			t.Errorf("flame.svg has no frame for phase %s", ph)
		}
	}
}

// svgFrameNames parses an SVG flame graph as XML and returns its frames' names.
func svgFrameNames(t *testing.T, doc []byte) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("flame graph is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "g" {
			for _, a := range se.Attr {
				if a.Name.Local == "data-n" {
					names[a.Value] = true
				}
			}
		}
	}
}

// TestProfileDeterministic runs the same profile twice: every file but
// host.* is byte-identical, as the design promises.
func TestProfileDeterministic(t *testing.T) {
	a, _ := profileRun(t)
	b, _ := profileRun(t)
	entries, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "host.") {
			continue
		}
		x, _ := os.ReadFile(filepath.Join(a, e.Name()))
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs of the same config", e.Name())
		}
		compared++
	}
	if compared < 7 {
		t.Errorf("compared only %d files", compared)
	}
}

func TestRunWallDeterministic(t *testing.T) {
	var walls [][]byte
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		if code, _, stderr := run("run", "--rgd", webapp, "--instances", "20", "--qps", "5", "--quiet", "--out", dir); code != exitOK {
			t.Fatalf("krosim run: exit %d\n%s", code, stderr)
		}
		readProfile(t, filepath.Join(dir, "wall.pb.gz"))
		data, _ := os.ReadFile(filepath.Join(dir, "wall.pb.gz"))
		walls = append(walls, data)
	}
	if !bytes.Equal(walls[0], walls[1]) {
		t.Error("wall.pb.gz differs between two runs of the same config")
	}
}

func TestFlameCommand(t *testing.T) {
	dir, _ := profileRun(t)
	base := filepath.Join(t.TempDir(), "base")
	if code, _, stderr := run("run", "--rgd", webapp, "--instances", "20", "--qps", "5", "--quiet", "--out", base); code != exitOK {
		t.Fatalf("krosim run: exit %d\n%s", code, stderr)
	}
	wall := filepath.Join(dir, "wall.pb.gz")
	out := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		file  string // written, or "" for stdout
		check func(t *testing.T, data []byte)
	}{
		{"svg of ours", []string{wall, "--out", filepath.Join(out, "a.svg")}, "a.svg", func(t *testing.T, data []byte) {
			if names := svgFrameNames(t, data); !names["api_wait"] || !names["worker"] {
				t.Errorf("frames %v", names)
			}
		}},
		{"html", []string{wall, "-o", "html", "--out", filepath.Join(out, "a.html")}, "a.html", func(t *testing.T, data []byte) {
			if !bytes.Contains(data, []byte("function zoom(")) {
				t.Error("no zoom script")
			}
		}},
		{"folded to stdout is wall.folded", []string{wall, "-o", "folded", "--out", "-"}, "", func(t *testing.T, data []byte) {
			want, _ := os.ReadFile(filepath.Join(dir, "wall.folded"))
			if !bytes.Equal(data, want) {
				t.Errorf("krosim flame --folded differs from wall.folded:\n%.300s\nwant:\n%.300s", data, want)
			}
		}},
		{"queue wait sample type", []string{wall, "-o", "folded", "--sample-index", "queue_wait", "--out", "-"}, "", func(t *testing.T, data []byte) {
			if !strings.HasPrefix(string(data), "workqueue;queue_wait ") || strings.Count(string(data), "\n") != 1 {
				t.Errorf("queue_wait folded: %q", data)
			}
		}},
		{"go cpu profile", []string{filepath.Join(dir, "host.cpu.pb.gz"), "--out", filepath.Join(out, "cpu.svg")}, "cpu.svg", func(t *testing.T, data []byte) {
			if !bytes.Contains(data, []byte("of cpu")) || len(svgFrameNames(t, data)) < 1 { // a short run may have no samples
				t.Errorf("host CPU flame graph has frames %v", svgFrameNames(t, data))
			}
		}},
		{"heap profile", []string{filepath.Join(dir, "host.heap.pb.gz"), "--sample-index", "alloc_space", "--out", filepath.Join(out, "heap.svg")}, "heap.svg", func(t *testing.T, data []byte) {
			if !bytes.Contains(data, []byte("of alloc_space")) {
				t.Error("not drawn from alloc_space")
			}
		}},
		{"diff", []string{wall, "--diff", filepath.Join(base, "wall.pb.gz"), "--out", filepath.Join(out, "diff.svg")}, "diff.svg", func(t *testing.T, data []byte) {
			if !bytes.Contains(data, []byte("vs base "+filepath.Join(base, "wall.pb.gz"))) || !bytes.Contains(data, []byte("red: more than the base")) {
				t.Errorf("not a differential graph:\n%.1000s", data)
			}
		}},
		{"merge", []string{wall, wall, "-o", "folded", "--out", "-"}, "", func(t *testing.T, data []byte) {
			if !strings.HasPrefix(string(data), "rgd-controller;") {
				t.Errorf("merged folded: %.200s", data)
			}
		}},
		{"deprecated spellings: -o FILE and --folded", []string{wall, "--folded", "-o", "-"}, "", func(t *testing.T, data []byte) {
			want, _ := os.ReadFile(filepath.Join(dir, "wall.folded"))
			if !bytes.Equal(data, want) {
				t.Errorf("krosim flame --folded -o - differs from wall.folded:\n%.300s", data)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(append([]string{"flame"}, tt.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			data := []byte(stdout)
			if tt.file != "" {
				var err error
				if data, err = os.ReadFile(filepath.Join(out, tt.file)); err != nil {
					t.Fatal(err)
				}
			}
			tt.check(t, data)
		})
	}
}

func TestFlameErrors(t *testing.T) {
	junk := writeFile(t, "junk.pb.gz", "not a profile")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no profiles", []string{"flame"}, exitUsage, "no profiles given"},
		{"html and folded", []string{"flame", "--html", "--folded", junk}, exitUsage, "exclude each other"},
		{"bad format with --out", []string{"flame", "-o", "png", "--out", "x.png", junk}, exitUsage, `-o/--output must be svg, html or folded, not "png"`},
		{"missing file", []string{"flame", filepath.Join(t.TempDir(), "none.pb.gz")}, exitRun, "no such file"},
		{"not a profile", []string{"flame", junk}, exitRun, "junk.pb.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestProfileWithoutCPUProfile runs profile while another CPU profile is
// running, as under go test -cpuprofile: everything else is still written.
func TestProfileWithoutCPUProfile(t *testing.T) {
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Skipf("a CPU profile is already running: %v", err)
	}
	defer pprof.StopCPUProfile()
	dir := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run("profile", "--rgd", webapp, "--instances", "5", "--quiet", "--out", dir)
	if code != exitOK || !strings.Contains(stderr, "no host CPU profile") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var host hostReport
	data, err := os.ReadFile(filepath.Join(dir, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &host); err != nil || !strings.Contains(host.CPUProfile.Error, "already in use") {
		t.Errorf("host.json cpu_profile.error %q (%v)", host.CPUProfile.Error, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "flame.svg")); err != nil {
		t.Error(err)
	}
}

func TestProfileUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"profile", "--rgd", webapp, "--top", "0"},
		{"profile", "--rgd", webapp, "extra"},
		{"profile"},
	} {
		if code, _, stderr := run(args...); code != exitUsage {
			t.Errorf("krosim %s: exit %d, want %d; stderr %q", strings.Join(args, " "), code, exitUsage, stderr)
		}
	}
}

// BenchmarkProfileOverhead measures what krosim profile adds to krosim run
// on make profile's example (300 instances of webapp on kro-defaults): the
// host CPU and heap profiles, the labels, the flame graphs and tables.
// It reports overhead-% = (profile - run) / run of the median wall times
// (the target is <= 20%) and cpu-overhead-%, the same for this process's
// CPU time, which other load on the machine disturbs less.
func BenchmarkProfileOverhead(b *testing.B) {
	dir := b.TempDir()
	runArgs := []string{"run", "--rgd", webapp, "--instances", "300", "--quiet", "--out", filepath.Join(dir, "run")}
	profArgs := []string{"profile", "--rgd", webapp, "--instances", "300", "--quiet", "--out", filepath.Join(dir, "profile")}
	var cpu [2]time.Duration // run, profile: this process's user+system CPU
	one := func(args []string) time.Duration {
		// Both start from a collected heap: profile ends with a heap profile,
		// and garbage left by one would slow the other.
		b.StopTimer()
		runtime.GC()
		b.StartTimer()
		ru0 := getRusage()
		start := time.Now()
		if code, _, stderr := run(args...); code != exitOK {
			b.Fatalf("krosim %s: exit %d\n%s", args[0], code, stderr)
		}
		d := time.Since(start)
		ru := getRusage()
		k := 0
		if args[0] == "profile" {
			k = 1
		}
		cpu[k] += ru.user + ru.sys - ru0.user - ru0.sys
		return d
	}
	one(runArgs) // warm caches
	var plain, prof []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate the order, so drift in the machine's speed hits both alike.
		if i%2 == 0 {
			plain = append(plain, one(runArgs))
			prof = append(prof, one(profArgs))
		} else {
			prof = append(prof, one(profArgs))
			plain = append(plain, one(runArgs))
		}
	}
	// Medians: a busy machine's stalls hit single runs, not the typical one.
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2]+ds[(len(ds)-1)/2]) / 2
	}
	mp, mq := median(plain), median(prof)
	b.ReportMetric(mp, "run-ns/op")
	b.ReportMetric(mq, "profile-ns/op")
	b.ReportMetric(100*(mq-mp)/mp, "overhead-%")
	if cpu[0] > 0 {
		b.ReportMetric(100*float64(cpu[1]-cpu[0])/float64(cpu[0]), "cpu-overhead-%")
	}
}

// TestProfileSaysWhyTheRunOutlastsConverging checks that the summary and the
// flame graph reconcile the converge time with the run's length, which the
// graph's worker time covers: kro goes on confirming after the last instance
// is ready.
func TestProfileSaysWhyTheRunOutlastsConverging(t *testing.T) {
	dir, stdout := profileRun(t)
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Summary struct {
			ConvergeSeconds *float64 `json:"converge_seconds"`
			DurationSeconds float64  `json:"duration_seconds"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.ConvergeSeconds == nil || s.DurationSeconds <= *s.ConvergeSeconds {
		t.Fatalf("converged %v, run lasted %gs; the scenario is meant to outlast converging", s.ConvergeSeconds, s.DurationSeconds)
	}
	line := fmt.Sprintf("  run lasted:     %.3fs virtual: kro confirms and requeues after the last instance is ready", s.DurationSeconds)
	if !strings.Contains(stdout, line) {
		t.Errorf("the summary does not say %q:\n%s", line, stdout)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "flame.svg"))
	if err != nil {
		t.Fatal(err)
	}
	note := fmt.Sprintf("every instance was ready at %.3fs; the graph covers the whole run: kro confirms", *s.ConvergeSeconds)
	if !strings.Contains(string(svg), note) {
		t.Errorf("flame.svg does not say %q", note)
	}
}
