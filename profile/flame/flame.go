package flame

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// PhaseLabel is the sample label whose value colors a frame. krosim's
// virtual-time profiles and its host CPU profiles both carry it.
const PhaseLabel = "phase"

// Frame is one box of a flame graph: a function on one path from the root,
// with the total value of the samples whose stacks pass through it.
type Frame struct {
	Name     string           // full name, as in the profile
	Short    string           // display name: Go package paths trimmed
	Value    int64            // total of the samples through this frame
	Base     int64            // in a differential graph, the base profile's total
	Phases   map[string]int64 // Value by the samples' phase label ("" when unlabeled)
	Children []*Frame         // sorted by name

	index map[string]*Frame // children by name while building
}

// Self is the value of the samples whose stacks end at f.
func (f *Frame) Self() int64 {
	s := f.Value
	for _, c := range f.Children {
		s -= c.Value
	}
	return s
}

// Graph is a flame graph independent of how it is drawn: a tree of frames
// whose widths are proportional to their values.
type Graph struct {
	Title string
	Notes []string // lines under the title
	Type  string   // the sample type drawn, e.g. "wall" or "cpu"
	Unit  string   // its unit: "nanoseconds", "bytes", "count", ...
	Root  *Frame   // named "all"; its Value is the total
	Diff  bool     // widths are the new profile, colors the change from each frame's Base
}

// SampleIndex resolves a sample type name to its index in p. An empty name
// picks the profile's default: DefaultSampleType if set, else the last type,
// as go tool pprof does (cpu rather than samples for a Go CPU profile).
func SampleIndex(p *profile.Profile, name string) (int, error) {
	if len(p.SampleType) == 0 {
		return 0, fmt.Errorf("flame: profile has no sample types")
	}
	if name == "" {
		name = p.DefaultSampleType
		if name == "" {
			return len(p.SampleType) - 1, nil
		}
	}
	var have []string
	for i, st := range p.SampleType {
		if st.Type == name {
			return i, nil
		}
		have = append(have, st.Type)
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(p.SampleType) {
		return i, nil
	}
	return 0, fmt.Errorf("flame: no sample type %q (the profile has %s)", name, strings.Join(have, ", "))
}

// New builds the flame graph of p's sample type index. Samples with
// non-positive values are left out.
func New(p *profile.Profile, index int) (*Graph, error) {
	if index < 0 || index >= len(p.SampleType) {
		return nil, fmt.Errorf("flame: sample index %d out of range (the profile has %d types)", index, len(p.SampleType))
	}
	st := p.SampleType[index]
	g := &Graph{Type: st.Type, Unit: st.Unit, Root: newFrame("all", "all")}
	var names []string
	for _, s := range p.Sample {
		v := s.Value[index]
		if v <= 0 {
			continue
		}
		phase := ""
		if l := s.Label[PhaseLabel]; len(l) > 0 {
			phase = l[0]
		}
		names = names[:0]
		// Locations are leaf first, and so are the inlined lines of each.
		for i := len(s.Location) - 1; i >= 0; i-- {
			loc := s.Location[i]
			if len(loc.Line) == 0 {
				names = append(names, fmt.Sprintf("0x%x", loc.Address))
				continue
			}
			for j := len(loc.Line) - 1; j >= 0; j-- {
				names = append(names, lineName(loc.Line[j]))
			}
		}
		g.add(names, v, phase)
	}
	g.Root.finish()
	return g, nil
}

// lineName names a frame by its function, keeping the file of a Go function
// out of it (pprof's flame graph does the same).
func lineName(l profile.Line) string {
	if l.Function == nil || l.Function.Name == "" {
		return "?"
	}
	return l.Function.Name
}

func newFrame(name, short string) *Frame {
	return &Frame{Name: name, Short: short, Phases: map[string]int64{}, index: map[string]*Frame{}}
}

func (g *Graph) add(names []string, v int64, phase string) {
	f := g.Root
	f.Value += v
	f.Phases[phase] += v
	for _, n := range names {
		c := f.index[n]
		if c == nil {
			c = newFrame(n, shortName(n))
			f.index[n] = c
		}
		c.Value += v
		c.Phases[phase] += v
		f = c
	}
}

// finish turns the children maps into slices sorted by name, so every
// rendering walks the tree in the same order.
func (f *Frame) finish() {
	f.Children = f.Children[:0]
	for _, c := range f.index {
		f.Children = append(f.Children, c)
	}
	sort.Slice(f.Children, func(i, j int) bool { return f.Children[i].Name < f.Children[j].Name })
	f.index = nil
	for _, c := range f.Children {
		c.finish()
	}
}

// shortName trims the package path of a Go symbol ("github.com/a/b.(*T).M"
// -> "b.(*T).M"). Other names (expressions, URLs) are kept whole.
func shortName(n string) string {
	slash := strings.LastIndexByte(n, '/')
	if slash < 0 || strings.ContainsAny(n, " ${}\"") || strings.Contains(n, "://") {
		return n
	}
	rest := n[slash+1:]
	if !strings.Contains(rest, ".") {
		return n
	}
	return rest
}

// Folded renders g as folded stacks, one "root;...;leaf value" line per
// distinct stack with the value of the samples ending there, sorted. The
// root frame "all" is left out. Semicolons and line breaks in names become
// ':' and ' ' so every line parses.
func (g *Graph) Folded() []byte {
	var lines []string
	var walk func(f *Frame, path string)
	walk = func(f *Frame, path string) {
		if self := f.Self(); self > 0 && path != "" {
			lines = append(lines, path+" "+strconv.FormatInt(self, 10))
		}
		for _, c := range f.Children {
			p := foldedName(c.Name)
			if path != "" {
				p = path + ";" + p
			}
			walk(c, p)
		}
	}
	walk(g.Root, "")
	sort.Strings(lines)
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

var foldedReplacer = strings.NewReplacer(";", ":", "\n", " ", "\r", " ")

func foldedName(n string) string { return foldedReplacer.Replace(n) }

// Diff returns the differential flame graph from base to cur: the frames and
// widths of cur, each frame's Base set to its value in base (0 when new), so
// a renderer can color gains and losses. Frames only in base have no width
// and are left out; Root.Base still holds base's total.
func Diff(base, cur *Graph) (*Graph, error) {
	if base.Unit != cur.Unit || base.Type != cur.Type {
		// Wall nanoseconds minus CPU nanoseconds is not a change of anything.
		return nil, fmt.Errorf("flame: cannot compare %s (%s) with %s (%s)", base.Type, base.Unit, cur.Type, cur.Unit)
	}
	d := *cur
	d.Diff = true
	d.Notes = append([]string(nil), cur.Notes...)
	d.Root = diffFrame(base.Root, cur.Root)
	return &d, nil
}

func diffFrame(base, cur *Frame) *Frame {
	f := &Frame{Name: cur.Name, Short: cur.Short, Value: cur.Value, Phases: cur.Phases}
	var byName map[string]*Frame
	if base != nil {
		f.Base = base.Value
		byName = make(map[string]*Frame, len(base.Children))
		for _, c := range base.Children {
			byName[c.Name] = c
		}
	}
	for _, c := range cur.Children {
		f.Children = append(f.Children, diffFrame(byName[c.Name], c))
	}
	return f
}
