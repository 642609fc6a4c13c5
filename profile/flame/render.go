package flame

import (
	"bytes"
	_ "embed"
	"fmt"
	"hash/fnv"
	"html"
	"sort"
	"strings"
)

// Layout of the drawing, in SVG user units (pixels).
const (
	width     = 1200.0
	pad       = 10.0
	span      = width - 2*pad // width of the root frame
	rowH      = 18.0
	boxH      = 17.0
	fontSize  = 11.0
	charW     = 6.6 // advance of a monospace glyph at fontSize (0.6em)
	maxFrames = 6000
)

// box is a frame placed on the drawing: its offset and width in value units
// (exact integers, so zooming can test containment exactly) and its depth.
type box struct {
	f     *Frame
	x, w  int64
	depth int
}

// layout places every frame, root first, in depth-first order. Past
// maxFrames, the narrowest frames are left out (their parents are never
// narrower, so the tree stays whole).
func (g *Graph) layout() (boxes []box, maxDepth int) {
	least := threshold(g.Root)
	var walk func(f *Frame, x int64, d int)
	walk = func(f *Frame, x int64, d int) {
		if d > 0 && f.Value < least {
			return
		}
		boxes = append(boxes, box{f: f, x: x, w: f.Value, depth: d})
		maxDepth = max(maxDepth, d)
		for _, c := range f.Children {
			walk(c, x, d+1)
			x += c.Value
		}
	}
	walk(g.Root, 0, 0)
	return boxes, maxDepth
}

// threshold is the smallest value a frame needs to be drawn.
func threshold(root *Frame) int64 {
	var values []int64
	var walk func(f *Frame)
	walk = func(f *Frame) {
		values = append(values, f.Value)
		for _, c := range f.Children {
			walk(c)
		}
	}
	walk(root)
	if len(values) <= maxFrames {
		return 0
	}
	sort.Slice(values, func(i, j int) bool { return values[i] > values[j] })
	return values[maxFrames] + 1
}

// SVG renders g as a self-contained SVG document.
func (g *Graph) SVG() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="no"?>` + "\n")
	g.writeSVG(&b)
	return b.Bytes()
}

//go:embed zoom.js
var zoomJS string

// HTML renders g as an HTML page holding the SVG inline, where clicking a
// frame zooms into it, Escape or "Reset zoom" zooms out, and a search box
// highlights matching frames.
func (g *Graph) HTML() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%s</title>
<link rel="icon" href="data:,">
<style>
body { margin: 8px; font-family: sans-serif; }
#bar { margin: 0 0 6px %gpx; font-size: 13px; }
#bar input { width: 22em; }
#flame g.f { cursor: pointer; }
#flame g.f.hit rect { fill: #e040fb; }
#flame g.f.anc rect { opacity: 0.5; }
#flame g.f.hide { display: none; }
</style>
</head>
<body>
<div id="bar"><button id="reset" type="button">Reset zoom</button>
<input id="search" type="search" placeholder="search frames (regular expression)">
<span id="match"></span> <span id="info">Click a frame to zoom into it.</span></div>
`, esc(g.title()), pad)
	g.writeSVG(&b)
	b.WriteString("<script>\n")
	b.WriteString(zoomJS)
	b.WriteString("</script>\n</body>\n</html>\n")
	return b.Bytes()
}

func (g *Graph) title() string {
	if g.Title != "" {
		return g.Title
	}
	if g.Diff {
		return fmt.Sprintf("Differential flame graph: %s", g.Type)
	}
	return fmt.Sprintf("Flame graph: %s", g.Type)
}

func (g *Graph) writeSVG(b *bytes.Buffer) {
	boxes, maxDepth := g.layout()
	total := g.Root.Value
	legend := g.legend()
	lines := append(append([]string(nil), g.Notes...), g.totals())
	top := 30 + 16*float64(len(lines)) + 8
	legendY := top + float64(maxDepth+1)*rowH + 8
	height := legendY + legendHeight(legend) + pad

	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" id="flame" width="%g" height="%g" viewBox="0 0 %g %g" `+
		`font-family="monospace" font-size="%g" data-total="%d" data-pad="%g" data-span="%g" data-cw="%g">`+"\n",
		width, height, width, height, fontSize, total, pad, span, charW)
	b.WriteString(`<style>g.f rect { stroke: #ffffff; stroke-width: 0.5; } g.f:hover rect { stroke: #000000; } g.f text { pointer-events: none; }</style>` + "\n")
	fmt.Fprintf(b, `<rect x="0" y="0" width="%g" height="%g" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(b, `<text x="%g" y="22" text-anchor="middle" font-size="17" font-family="sans-serif">%s</text>`+"\n", width/2, esc(g.title()))
	for i, l := range lines {
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle" font-family="sans-serif" font-size="12" fill="#444444">%s</text>`+"\n",
			width/2, 30+16*float64(i+1), esc(l))
	}
	b.WriteString(`<g id="frames">` + "\n")
	for _, bx := range boxes {
		x := pad + frac(bx.x, total)*span
		w := frac(bx.w, total) * span
		y := top + float64(bx.depth)*rowH
		name := bx.f.Short
		if bx.depth == 0 {
			name = "all (" + format(total, g.Unit) + ")"
		}
		fmt.Fprintf(b, `<g class="f" data-x="%d" data-w="%d" data-d="%d" data-n="%s"`, bx.x, bx.w, bx.depth, esc(name))
		if bx.f.Name != bx.f.Short {
			fmt.Fprintf(b, ` data-full="%s"`, esc(bx.f.Name))
		}
		fmt.Fprintf(b, `><title>%s</title><rect x="%.2f" y="%.2f" width="%.2f" height="%g" rx="2" fill="%s"/>`,
			esc(g.tooltip(bx.f)), x, y, w, boxH, g.color(bx.f))
		fmt.Fprintf(b, `<text x="%.2f" y="%.2f">%s</text></g>`+"\n", x+3, y+boxH-5, esc(fit(name, w)))
	}
	b.WriteString("</g>\n")
	g.writeLegend(b, legend, legendY)
	b.WriteString("</svg>\n")
}

func frac(v, total int64) float64 {
	if total <= 0 {
		return 1
	}
	return float64(v) / float64(total)
}

// fit truncates name with an ellipsis to what a frame w wide can show.
// zoom.js does the same when zooming.
func fit(name string, w float64) string {
	c := int((w - 6) / charW)
	if c < 3 {
		return ""
	}
	r := []rune(name)
	if len(r) <= c {
		return name
	}
	return string(r[:c-1]) + "…"
}

func (g *Graph) totals() string {
	if g.Diff {
		d := g.Root.Value - g.Root.Base
		return fmt.Sprintf("total %s, base %s, change %s (%s); red: more than the base, blue: less",
			format(g.Root.Value, g.Unit), format(g.Root.Base, g.Unit), signed(d, g.Unit), pct(d, g.Root.Base))
	}
	return fmt.Sprintf("total %s of %s; width is share of the total", format(g.Root.Value, g.Unit), g.Type)
}

func (g *Graph) tooltip(f *Frame) string {
	var b strings.Builder
	b.WriteString(f.Name)
	fmt.Fprintf(&b, "\n%s, %.2f%% of the total", format(f.Value, g.Unit), 100*frac(f.Value, g.Root.Value))
	if self := f.Self(); self > 0 && len(f.Children) > 0 {
		fmt.Fprintf(&b, " (self %s)", format(self, g.Unit))
	}
	if g.Diff {
		fmt.Fprintf(&b, "\nbase %s, change %s (%s)", format(f.Base, g.Unit), signed(f.Value-f.Base, g.Unit), pct(f.Value-f.Base, f.Base))
	}
	if ps := sortedPhases(f.Phases); len(ps) > 1 || (len(ps) == 1 && ps[0] != "") {
		var parts []string
		for _, p := range ps {
			name := p
			if name == "" {
				name = "(no phase label)"
			}
			parts = append(parts, fmt.Sprintf("%s %.1f%%", name, 100*frac(f.Phases[p], f.Value)))
		}
		b.WriteString("\nphase: " + strings.Join(parts, ", "))
	}
	return b.String()
}

// sortedPhases orders a frame's phases by value, largest first, ties by name.
func sortedPhases(m map[string]int64) []string {
	ps := make([]string, 0, len(m))
	for p, v := range m {
		if v > 0 {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool {
		if m[ps[i]] != m[ps[j]] {
			return m[ps[i]] > m[ps[j]]
		}
		return ps[i] < ps[j]
	})
	return ps
}

// phaseColors are the colors of krosim's phases, virtual (the target's) and
// host (krosim's own CPU): light enough for black labels.
var phaseColors = map[string]rgb{
	"compile":       {179, 157, 219},
	"eval":          {255, 183, 77},
	"traversal":     {129, 199, 132},
	"api_wait":      {100, 181, 246},
	"api":           {100, 181, 246},
	"throttle_wait": {229, 115, 115},
	"cpu_wait":      {255, 241, 118},
	"queue_wait":    {77, 182, 172},
	"other":         {189, 189, 189},
	"idle":          {238, 238, 238},
	"sim":           {215, 204, 200},
	"output":        {244, 143, 177},
}

type rgb struct{ r, g, b int }

func (c rgb) String() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// mix moves c toward white by t (0..1).
func (c rgb) mix(t float64) rgb {
	m := func(v int) int { return v + int(float64(255-v)*t+0.5) }
	return rgb{m(c.r), m(c.g), m(c.b)}
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func phaseColor(p string) rgb {
	if c, ok := phaseColors[p]; ok {
		return c
	}
	h := hash(p)
	return rgb{140 + int(h%100), 140 + int(h>>8%100), 140 + int(h>>16%100)}
}

// hotColor is the classic flame graph palette, one color per package.
func hotColor(name string) rgb {
	pkg := name
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		if j := strings.IndexByte(pkg[i:], '.'); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.IndexByte(pkg, '.'); j >= 0 {
		pkg = pkg[:j]
	}
	h := hash(pkg)
	return rgb{205 + int(h%51), int(h >> 8 % 231), int(h >> 16 % 56)}
}

func (g *Graph) color(f *Frame) string {
	if g.Diff {
		return diffColor(f.Value, f.Base).String()
	}
	ps := sortedPhases(f.Phases)
	if len(ps) == 0 || ps[0] == "" {
		return hotColor(f.Name).String()
	}
	share := frac(f.Phases[ps[0]], f.Value)
	return phaseColor(ps[0]).mix(0.6 * (1 - share)).String()
}

// diffColor is red where cur grew from base, blue where it shrank, grey
// where it held, deeper the larger the change relative to the larger value.
func diffColor(cur, base int64) rgb {
	m := max(cur, base)
	if m <= 0 {
		return rgb{235, 235, 235}
	}
	t := float64(cur-base) / float64(m)
	if t >= 0 {
		return rgb{235 + int(20*t), 235 - int(185*t), 235 - int(185*t)}
	}
	t = -t
	return rgb{235 - int(185*t), 235 - int(185*t), 235 + int(20*t)}
}

type legendItem struct {
	color rgb
	text  string
}

func (g *Graph) legend() []legendItem {
	if g.Diff {
		return []legendItem{
			{diffColor(1, 0), "more than the base"},
			{diffColor(1, 2), "less (half the base)"},
			{diffColor(1, 1), "unchanged"},
		}
	}
	ps := sortedPhases(g.Root.Phases)
	if len(ps) == 0 || (len(ps) == 1 && ps[0] == "") {
		return nil
	}
	var items []legendItem
	for _, p := range ps {
		name := p
		c := phaseColor(p)
		if p == "" {
			name, c = "(no phase label)", hotColor("")
		}
		items = append(items, legendItem{c, fmt.Sprintf("%s %s (%.1f%%)", name, format(g.Root.Phases[p], g.Unit), 100*frac(g.Root.Phases[p], g.Root.Value))})
	}
	return items
}

// legendRows places legend items left to right, wrapping at the width.
func legendRows(items []legendItem) [][]legendItem {
	var rows [][]legendItem
	x := pad
	for _, it := range items {
		w := itemWidth(it)
		if len(rows) == 0 || x+w > width-pad {
			rows = append(rows, nil)
			x = pad
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], it)
		x += w
	}
	return rows
}

func itemWidth(it legendItem) float64 { return 18 + float64(len([]rune(it.text)))*charW + 16 }

func legendHeight(items []legendItem) float64 { return float64(len(legendRows(items))) * rowH }

func (g *Graph) writeLegend(b *bytes.Buffer, items []legendItem, y float64) {
	b.WriteString(`<g id="legend">` + "\n")
	for _, row := range legendRows(items) {
		x := pad
		for _, it := range row {
			fmt.Fprintf(b, `<rect x="%.2f" y="%.2f" width="12" height="12" fill="%s" stroke="#888888" stroke-width="0.5"/>`, x, y+2, it.color)
			fmt.Fprintf(b, `<text x="%.2f" y="%.2f">%s</text>`+"\n", x+18, y+12, esc(it.text))
			x += itemWidth(it)
		}
		y += rowH
	}
	b.WriteString("</g>\n")
}

// format renders a value in its unit, readably.
func format(v int64, unit string) string {
	f := float64(v)
	a := f
	if a < 0 {
		a = -a
	}
	switch unit {
	case "nanoseconds":
		switch {
		case a >= 1e9:
			return fmt.Sprintf("%.2fs", f/1e9)
		case a >= 1e6:
			return fmt.Sprintf("%.2fms", f/1e6)
		case a >= 1e3:
			return fmt.Sprintf("%.2fµs", f/1e3)
		}
		return fmt.Sprintf("%dns", v)
	case "bytes":
		switch {
		case a >= 1<<30:
			return fmt.Sprintf("%.2f GiB", f/(1<<30))
		case a >= 1<<20:
			return fmt.Sprintf("%.2f MiB", f/(1<<20))
		case a >= 1<<10:
			return fmt.Sprintf("%.2f KiB", f/(1<<10))
		}
		return fmt.Sprintf("%d B", v)
	case "count", "":
		return fmt.Sprintf("%d", v)
	}
	return fmt.Sprintf("%d %s", v, unit)
}

func signed(v int64, unit string) string {
	if v >= 0 {
		return "+" + format(v, unit)
	}
	return format(v, unit)
}

func pct(d, base int64) string {
	if base == 0 {
		if d == 0 {
			return "0%"
		}
		return "new"
	}
	return fmt.Sprintf("%+.1f%%", 100*float64(d)/float64(base))
}

// esc makes s safe as XML text or attribute: valid UTF-8, no control
// characters XML forbids, markup escaped.
func esc(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0xFFFE || r == 0xFFFF {
			return ' '
		}
		return r
	}, s)
	return html.EscapeString(s)
}
