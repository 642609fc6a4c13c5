package flame

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// builder makes small pprof profiles: one function and location per name.
type builder struct {
	p    *profile.Profile
	locs map[string]*profile.Location
}

func newBuilder(types ...string) *builder {
	b := &builder{p: &profile.Profile{}, locs: map[string]*profile.Location{}}
	for _, t := range types {
		typ, unit, _ := strings.Cut(t, "/")
		b.p.SampleType = append(b.p.SampleType, &profile.ValueType{Type: typ, Unit: unit})
	}
	return b
}

func (b *builder) loc(names ...string) *profile.Location {
	key := strings.Join(names, "|")
	if l := b.locs[key]; l != nil {
		return l
	}
	l := &profile.Location{ID: uint64(len(b.p.Location) + 1)}
	for _, n := range names { // inlined: callee first, as pprof stores them
		f := &profile.Function{ID: uint64(len(b.p.Function) + 1), Name: n, SystemName: n, Filename: "x.go"}
		b.p.Function = append(b.p.Function, f)
		l.Line = append(l.Line, profile.Line{Function: f})
	}
	b.p.Location = append(b.p.Location, l)
	b.locs[key] = l
	return l
}

// add adds a sample with a root-first stack "a;b;c", values and a phase label.
func (b *builder) add(stack, phase string, values ...int64) {
	s := &profile.Sample{Value: values}
	names := strings.Split(stack, ";")
	for i := len(names) - 1; i >= 0; i-- {
		s.Location = append(s.Location, b.loc(names[i]))
	}
	if phase != "" {
		s.Label = map[string][]string{PhaseLabel: {phase}}
	}
	b.p.Sample = append(b.p.Sample, s)
}

func (b *builder) profile(t *testing.T) *profile.Profile {
	t.Helper()
	if err := b.p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	return b.p
}

// wallProfile is shaped like krosim's virtual-time profile, with names that
// need escaping.
func wallProfile(t *testing.T) *profile.Profile {
	b := newBuilder("wall/nanoseconds")
	b.add("worker;a.kro.run;reconcile #1;(instance);api_wait;get", "api_wait", 6e9)
	b.add("worker;a.kro.run;reconcile #1;deployment;api_wait;patch", "api_wait", 2e9)
	b.add("worker;a.kro.run;reconcile #1;deployment;throttle_wait;patch", "throttle_wait", 1e9)
	b.add(`worker;a.kro.run;reconcile #1;deployment;eval;${a < b && c > "d" ? 'x' : "y"}`, "eval", 5e8)
	b.add("worker;a.kro.run;reconcile #2;deployment;traversal;walk", "traversal", 2e8)
	b.add("worker;a.kro.run;reconcile #2;deployment;cpu_wait;vcpu", "cpu_wait", 1e8)
	b.add("worker;a.kro.run;reconcile #2;(instance);other;client get", "other", 1e8)
	b.add("rgd-controller;a.kro.run;compile;graph build", "compile", 1e6)
	return b.profile(t)
}

func TestFolded(t *testing.T) {
	g, err := New(wallProfile(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := `rgd-controller;a.kro.run;compile;graph build 1000000
worker;a.kro.run;reconcile #1;(instance);api_wait;get 6000000000
worker;a.kro.run;reconcile #1;deployment;api_wait;patch 2000000000
worker;a.kro.run;reconcile #1;deployment;eval;${a < b && c > "d" ? 'x' : "y"} 500000000
worker;a.kro.run;reconcile #1;deployment;throttle_wait;patch 1000000000
worker;a.kro.run;reconcile #2;(instance);other;client get 100000000
worker;a.kro.run;reconcile #2;deployment;cpu_wait;vcpu 100000000
worker;a.kro.run;reconcile #2;deployment;traversal;walk 200000000
`
	if got := string(g.Folded()); got != want {
		t.Errorf("folded:\n%s\nwant:\n%s", got, want)
	}
	if g.Root.Value != 9901000000 || g.Type != "wall" || g.Unit != "nanoseconds" {
		t.Errorf("root %d, type %s/%s", g.Root.Value, g.Type, g.Unit)
	}
}

// svgFrame is one frame as drawn.
type svgFrame struct {
	name  string
	x, w  float64
	fill  string
	depth int
	value int64
}

// parseSVG parses the document with encoding/xml and returns its frames and texts.
func parseSVG(t *testing.T, doc []byte) (frames []svgFrame, texts []string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var cur *svgFrame
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range tok.Attr {
				attr[a.Name.Local] = a.Value
			}
			switch tok.Name.Local {
			case "g":
				if attr["class"] == "f" {
					cur = &svgFrame{name: attr["data-n"]}
					cur.depth, _ = strconv.Atoi(attr["data-d"])
					cur.value, _ = strconv.ParseInt(attr["data-w"], 10, 64)
				}
			case "rect":
				if cur != nil {
					cur.x, _ = strconv.ParseFloat(attr["x"], 64)
					cur.w, _ = strconv.ParseFloat(attr["width"], 64)
					cur.fill = attr["fill"]
				}
			case "text":
				inText = true
			}
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "g":
				if cur != nil {
					frames = append(frames, *cur)
					cur = nil
				}
			case "text":
				inText = false
			}
		}
	}
	return frames, texts
}

func TestSVG(t *testing.T) {
	g, err := New(wallProfile(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	g.Title = `a "title" <with> markup & more`
	doc := g.SVG()
	frames, texts := parseSVG(t, doc)
	byName := map[string]svgFrame{}
	for _, f := range frames {
		byName[f.name] = f
	}
	// A frame for every phase present, colored by it.
	for _, ph := range []string{"api_wait", "throttle_wait", "eval", "traversal", "cpu_wait", "other", "compile"} {
		f, ok := byName[ph]
		if !ok {
			t.Errorf("no frame for phase %s", ph)
			continue
		}
		if want := phaseColors[ph].String(); f.fill != want {
			t.Errorf("phase %s drawn %s, want %s", ph, f.fill, want)
		}
	}
	// Widths proportional to values.
	total := float64(g.Root.Value)
	for _, f := range frames {
		want := float64(f.value) / total * span
		if math.Abs(f.w-want) > 0.01 {
			t.Errorf("frame %q is %.2f wide, want %.2f", f.name, f.w, want)
		}
	}
	if root := frames[0]; root.depth != 0 || root.w != span || root.x != pad {
		t.Errorf("root frame %+v, want x %g width %g", root, pad, span)
	}
	// Title, totals and legend are there, and markup in names survived.
	joined := strings.Join(texts, "\n")
	for _, want := range []string{g.Title, "total 9.90s of wall", "api_wait 8.00s (80.8%)", "compile 1.00ms (0.0%)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
	if _, ok := byName[`${a < b && c > "d" ? 'x' : "y"}`]; !ok {
		t.Errorf("the expression frame lost its name")
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		name string
		w    float64
		want string
	}{
		{"deployment", 200, "deployment"},
		{"deployment", 6 + 10*charW, "deployment"},
		{"deployment", 6 + 9*charW, "deployme…"},
		{"deployment", 6 + 3*charW, "de…"},
		{"deployment", 6 + 2.9*charW, ""},
		{"äöüäöü", 6 + 4*charW, "äöü…"},
	}
	for _, tt := range tests {
		if got := fit(tt.name, tt.w); got != tt.want {
			t.Errorf("fit(%q, %.1f) = %q, want %q", tt.name, tt.w, got, tt.want)
		}
	}
}

// TestGoCPUProfile reads a profile shaped like runtime/pprof's: two sample
// types, leaf-first stacks with inlined frames, package paths, labels on some samples.
func TestGoCPUProfile(t *testing.T) {
	b := newBuilder("samples/count", "cpu/nanoseconds")
	b.add("runtime.main;main.main;github.com/google/cel-go/interpreter.(*evalAnd).Eval", "eval", 3, 3e7)
	b.add("runtime.main;main.main;gonum.org/v1/gonum/graph/topo.Sort", "traversal", 1, 1e7)
	b.add("runtime.gcBgMarkWorker", "", 2, 2e7)
	p := b.p
	// main.main's call into cel-go was inlined into one location.
	inl := b.loc("github.com/google/cel-go/interpreter.(*evalAnd).Eval", "main.main")
	p.Sample[0].Location = []*profile.Location{inl, b.loc("runtime.main")}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	idx, err := SampleIndex(p, "")
	if err != nil || idx != 1 {
		t.Fatalf("default sample index %d, %v; want 1 (cpu), as go tool pprof", idx, err)
	}
	if i, err := SampleIndex(p, "samples"); err != nil || i != 0 {
		t.Errorf("SampleIndex(samples) = %d, %v", i, err)
	}
	if i, err := SampleIndex(p, "0"); err != nil || i != 0 {
		t.Errorf("SampleIndex(0) = %d, %v", i, err)
	}
	if _, err := SampleIndex(p, "alloc_space"); err == nil || !strings.Contains(err.Error(), "samples, cpu") {
		t.Errorf("SampleIndex(alloc_space) error %v, want one listing the types", err)
	}
	g, err := New(p, idx)
	if err != nil {
		t.Fatal(err)
	}
	want := `runtime.gcBgMarkWorker 20000000
runtime.main;main.main;github.com/google/cel-go/interpreter.(*evalAnd).Eval 30000000
runtime.main;main.main;gonum.org/v1/gonum/graph/topo.Sort 10000000
`
	if got := string(g.Folded()); got != want {
		t.Errorf("folded:\n%s\nwant:\n%s", got, want)
	}
	frames, _ := parseSVG(t, g.SVG())
	names := map[string]bool{}
	for _, f := range frames {
		names[f.name] = true
	}
	for _, n := range []string{"interpreter.(*evalAnd).Eval", "topo.Sort", "runtime.gcBgMarkWorker"} {
		if !names[n] {
			t.Errorf("no frame %q (package paths trimmed) in %v", n, names)
		}
	}
}

func TestShortName(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/google/cel-go/interpreter.(*evalAnd).Eval": "interpreter.(*evalAnd).Eval",
		"runtime.mallocgc":                        "runtime.mallocgc",
		`${"http://" + ingress.spec.host + "/x"}`: `${"http://" + ingress.spec.host + "/x"}`,
		"a/b": "a/b",
	} {
		if got := shortName(in); got != want {
			t.Errorf("shortName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDiff(t *testing.T) {
	base := newBuilder("wall/nanoseconds")
	base.add("worker;api_wait;get", "api_wait", 100)
	base.add("worker;throttle_wait;get", "throttle_wait", 300)
	base.add("worker;eval;${x}", "eval", 50)
	cur := newBuilder("wall/nanoseconds")
	cur.add("worker;api_wait;get", "api_wait", 100)
	cur.add("worker;throttle_wait;get", "throttle_wait", 30)
	cur.add("worker;eval;${x}", "eval", 150)
	cur.add("worker;cpu_wait;vcpu", "cpu_wait", 20)
	bg, err := New(base.profile(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	cg, err := New(cur.profile(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Diff(bg, cg)
	if err != nil {
		t.Fatal(err)
	}
	if d.Root.Value != 300 || d.Root.Base != 450 || !d.Diff {
		t.Errorf("root value %d base %d diff %v; want 300, 450, true", d.Root.Value, d.Root.Base, d.Diff)
	}
	frames, texts := parseSVG(t, d.SVG())
	fill := map[string]string{}
	for _, f := range frames {
		fill[f.name] = f.fill
	}
	red := func(c string) bool { return c[1:3] > c[3:5] }
	blue := func(c string) bool { return c[5:7] > c[1:3] }
	for name, want := range map[string]func(string) bool{"eval": red, "vcpu": red, "throttle_wait": blue} {
		if !want(fill[name]) {
			t.Errorf("frame %s drawn %s", name, fill[name])
		}
	}
	if fill["api_wait"] != diffColor(1, 1).String() {
		t.Errorf("unchanged frame drawn %s, want %s", fill["api_wait"], diffColor(1, 1))
	}
	if !strings.Contains(strings.Join(texts, "\n"), "total 300ns, base 450ns, change -150ns (-33.3%)") {
		t.Errorf("diff totals missing from:\n%s", strings.Join(texts, "\n"))
	}
	other := newBuilder("alloc/bytes")
	other.add("f", "", 1)
	og, _ := New(other.profile(t), 0)
	if _, err := Diff(og, cg); err == nil {
		t.Error("Diff of bytes and nanoseconds succeeded")
	}
}

// TestManyFrames checks that a profile too big to draw keeps the widest
// frames and whole paths.
func TestManyFrames(t *testing.T) {
	b := newBuilder("cpu/nanoseconds")
	for i := 0; i < 3*maxFrames; i++ {
		b.add(fmt.Sprintf("main;f%d;g%d", i%100, i), "", int64(1+i))
	}
	g, err := New(b.profile(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	boxes, _ := g.layout()
	if len(boxes) > maxFrames || len(boxes) < maxFrames/2 {
		t.Errorf("%d frames drawn, want at most %d and not far fewer", len(boxes), maxFrames)
	}
	drawn := map[*Frame]bool{}
	for _, bx := range boxes {
		drawn[bx.f] = true
	}
	var check func(f *Frame)
	check = func(f *Frame) {
		for _, c := range f.Children {
			if drawn[c] && !drawn[f] {
				t.Fatalf("%s is drawn without its parent %s", c.Name, f.Name)
			}
			check(c)
		}
	}
	check(g.Root)
	frames, _ := parseSVG(t, g.SVG())
	if len(frames) != len(boxes) {
		t.Errorf("SVG has %d frames, layout %d", len(frames), len(boxes))
	}
}

func TestHTMLHoldsTheSVG(t *testing.T) {
	g, err := New(wallProfile(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	page := string(g.HTML())
	start, end := strings.Index(page, "<svg"), strings.Index(page, "</svg>")
	if start < 0 || end < 0 {
		t.Fatal("no inline SVG")
	}
	frames, _ := parseSVG(t, []byte(page[start:end+len("</svg>")]))
	if len(frames) != 27 {
		t.Errorf("inline SVG has %d frames, want 27", len(frames))
	}
	for _, want := range []string{"<!DOCTYPE html>", `id="search"`, `id="reset"`, "function zoom(", "</script>"} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	offline := strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
	if strings.Contains(offline, "http://") || strings.Contains(offline, "https://") || strings.Contains(offline, "src=") {
		t.Error("HTML refers to the network or to other files")
	}
}

func TestEmptyProfile(t *testing.T) {
	b := newBuilder("cpu/nanoseconds")
	g, err := New(b.profile(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Folded()) != 0 {
		t.Errorf("folded of nothing: %q", g.Folded())
	}
	frames, _ := parseSVG(t, g.SVG())
	if len(frames) != 1 {
		t.Errorf("%d frames for an empty profile, want the root only", len(frames))
	}
}

func ExampleGraph_Folded() {
	fn := &profile.Function{ID: 1, Name: "main.work"}
	root := &profile.Function{ID: 2, Name: "main.main"}
	work := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	main := &profile.Location{ID: 2, Line: []profile.Line{{Function: root}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{work, main}, Value: []int64{30}},
			{Location: []*profile.Location{main}, Value: []int64{10}},
		},
		Location: []*profile.Location{work, main},
		Function: []*profile.Function{fn, root},
	}
	g, _ := New(p, 0)
	fmt.Print(string(g.Folded()))
	// Output:
	// main.main 10
	// main.main;main.work 30
}
