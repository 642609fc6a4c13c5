package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is a line or bar chart described independently of any renderer.
type Chart struct {
	Name   string // file name without extension
	Title  string
	X, Y   Axis
	Series []Series
	// Bars draws the series as grouped bars over X.Categories, a point's
	// X its category's index.
	Bars bool
	// Horizontal lays bars along the y axis, categories down the side:
	// room for long category names.
	Horizontal bool
	// Marks are annotated points, such as a knee, drawn as a ring and a label.
	Marks []Mark
	// Limits are labeled horizontal lines, such as a published number.
	Limits []Limit
}

// Axis is one axis of a chart.
type Axis struct {
	Label string
	Log   bool
	// Min and Max, when Max > Min, fix the axis range (else it fits the data).
	Min, Max float64
	// Categories name the positions 0, 1, ... of a categorical x axis (of
	// the y axis for horizontal bars).
	Categories []string
}

// Series is one line (or one set of bars). A Reference series has one
// point and is drawn as a dashed horizontal line across the chart, for a
// setting with no x value (such as "no QPS limit").
type Series struct {
	Label     string
	Color     int // index into the default palette
	Dashed    bool
	Reference bool
	// Markers draws the points alone, no line between them: for
	// categories, whose order means nothing.
	Markers bool
	Points  []Point
}

// Point is a y value at x, with its spread (Low <= Y <= High) over seeds,
// and an optional label written beside it.
type Point struct {
	X, Y, Low, High float64
	Label           string
}

// Mark is an annotated point.
type Mark struct {
	X, Y  float64
	Label string
}

// Limit is a labeled horizontal line at Y.
type Limit struct {
	Y     float64
	Label string
}

// Size and resolution of a rendered chart.
const (
	Width  = 16 * vg.Centimeter
	Height = 10 * vg.Centimeter
	// DPI of the PNG: twice a screen's, sharp on high-density displays.
	DPI = 192
)

// Type sizes: read at a glance at the chart's size.
const (
	titleSize = 13
	labelSize = 11
	tickSize  = 10
	noteSize  = 9
)

// sans is the charts' typeface; SVGs name it with fallbacks (svgFonts).
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Formats are the file formats Render supports.
var Formats = []string{"png", "svg"}

// Render draws the chart in format (png or svg), its legend below the plot
// so no entry hides a line.
func (c *Chart) Render(format string) ([]byte, error) {
	p, leg, err := c.plot()
	if err != nil {
		return nil, err
	}
	legendH := vg.Length(c.legendEntries())*legendEntry + legendPad
	h := Height + legendH
	var cv vg.CanvasWriterTo
	switch format {
	case "svg":
		cv = vgsvg.New(Width, h)
	case "png":
		cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(Width, h), vgimg.UseDPI(DPI))}
	default:
		return nil, fmt.Errorf("chart %s: unknown format %q (want png or svg)", c.Name, format)
	}
	dc := draw.New(cv)
	r := dc.Rectangle
	dc.FillPolygon(color.White, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
	p.Draw(draw.Crop(dc, 0, 0, legendH, 0))
	leg.Draw(draw.Crop(dc, legendPad, 0, legendPad/2, -Height))
	var b bytes.Buffer
	if _, err := cv.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.Name, err)
	}
	if format == "svg" {
		return svgFonts(b.Bytes()), nil
	}
	return b.Bytes(), nil
}

// legendEntries counts the legend's entries: one per series with points.
func (c *Chart) legendEntries() int {
	n := 0
	for _, s := range c.Series {
		if len(s.Points) > 0 {
			n++
		}
	}
	return n
}

// svgFonts lets a browser without Liberation Sans use a metric-compatible
// sans-serif instead of its default serif.
func svgFonts(svg []byte) []byte {
	return bytes.ReplaceAll(svg, []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;"))
}

// Legend layout below the plot.
const (
	legendEntry = 5 * vg.Millimeter
	legendPad   = 4 * vg.Millimeter
)

// style sets the plot's text in sans-serif at readable sizes.
func style(p *plot.Plot, leg *plot.Legend) {
	set := func(st *text.Style, size vg.Length) { st.Font = font.From(sans, size) }
	set(&p.Title.TextStyle, titleSize)
	set(&p.X.Label.TextStyle, labelSize)
	set(&p.Y.Label.TextStyle, labelSize)
	set(&p.X.Tick.Label, tickSize)
	set(&p.Y.Tick.Label, tickSize)
	set(&leg.TextStyle, tickSize)
	p.Title.Padding = vg.Points(6)
}

// noteStyle is the style of annotations.
func noteStyle(col color.Color) text.Style {
	return text.Style{Color: col, Font: font.From(sans, noteSize), Handler: plot.DefaultTextHandler, XAlign: draw.XLeft, YAlign: draw.YCenter}
}

// plot builds the gonum plot of the chart and, apart, its legend.
func (c *Chart) plot() (*plot.Plot, plot.Legend, error) {
	p := plot.New()
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	style(p, &leg)
	p.Title.Text = c.Title
	p.X.Label.Text, p.Y.Label.Text = c.X.Label, c.Y.Label
	p.Add(plotter.NewGrid())
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		if s.Reference {
			continue
		}
		for _, pt := range s.Points {
			xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
		}
	}
	if c.X.Max > c.X.Min {
		xmin, xmax = c.X.Min, c.X.Max
	}
	if c.Bars {
		if err := c.bars(p, &leg); err != nil {
			return nil, leg, err
		}
	} else {
		k := 0 // the series' place among the non-reference ones
		for _, s := range c.Series {
			if err := c.line(p, &leg, k, s, xmin, xmax); err != nil {
				return nil, leg, err
			}
			if !s.Reference {
				k++
			}
		}
	}
	if err := c.annotate(p, &leg, xmin, xmax); err != nil {
		return nil, leg, err
	}
	switch {
	case c.Bars && c.Horizontal:
		p.NominalY(c.X.Categories...)
	case c.Bars || len(c.X.Categories) > 0:
		p.NominalX(c.X.Categories...)
	case c.X.Log:
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if xs := xValues(c.Series); !c.Bars && len(c.X.Categories) == 0 && len(xs) > 0 && len(xs) <= maxValueTicks {
		p.X.Tick.Marker = valueTicks(xs)
	}
	if c.Y.Log {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	if c.X.Max > c.X.Min {
		p.X.Min, p.X.Max = c.X.Min, c.X.Max
	}
	if c.Y.Max > c.Y.Min {
		p.Y.Min, p.Y.Max = c.Y.Min, c.Y.Max
	}
	if len(c.X.Categories) > 0 && !c.Bars {
		p.X.Min, p.X.Max = -0.5, float64(len(c.X.Categories))-0.5
	}
	p.BackgroundColor = color.White
	return p, leg, nil
}

// line draws series s, the k-th that is not a reference, with its own color, dash pattern and
// marker shape, so that overlapping lines stay apart in print and for
// color-blind readers.
func (c *Chart) line(p *plot.Plot, leg *plot.Legend, k int, s Series, xmin, xmax float64) error {
	if len(s.Points) == 0 {
		return nil
	}
	col := plotutil.Color(s.Color)
	pts := s.Points
	if s.Reference {
		if math.IsInf(xmin, 0) {
			return nil
		}
		y := s.Points[0]
		pts = []Point{{X: xmin, Y: y.Y, Low: y.Low, High: y.High}, {X: xmax, Y: y.Y, Low: y.Low, High: y.High}}
	}
	xys := make(plotter.XYs, len(pts))
	errs := make(plotter.YErrors, len(pts))
	spread := false
	for i, pt := range pts {
		xys[i] = plotter.XY{X: pt.X, Y: pt.Y}
		errs[i].Low, errs[i].High = pt.Y-pt.Low, pt.High-pt.Y
		spread = spread || pt.Low < pt.Y || pt.High > pt.Y
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("chart %s: %s: %w", c.Name, s.Label, err)
	}
	line.Color = col
	line.Width = vg.Points(1.8)
	if s.Markers {
		line.Width = 0
	}
	switch {
	case s.Reference:
		line.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
	case s.Dashed:
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	default:
		line.Dashes = plotutil.Dashes(k % 4) // solid, then dash patterns in turn
	}
	if !s.Markers {
		p.Add(line)
	}
	if s.Reference {
		leg.Add(s.Label, line)
		return nil
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	sc.Color = col
	sc.Radius = vg.Points(3.5)
	sc.Shape = plotutil.Shape(k)
	p.Add(sc)
	if s.Markers {
		leg.Add(s.Label, sc)
	} else {
		leg.Add(s.Label, line, sc)
	}
	if spread {
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xys, errs})
		if err != nil {
			return err
		}
		bars.Color = col
		p.Add(bars)
	}
	return c.pointLabels(p, s.Points, col)
}

// pointLabels writes each labeled point's label to its right.
func (c *Chart) pointLabels(p *plot.Plot, pts []Point, col color.Color) error {
	var xys plotter.XYs
	var labels []string
	for _, pt := range pts {
		if pt.Label != "" {
			xys = append(xys, plotter.XY{X: pt.X, Y: pt.Y})
			labels = append(labels, pt.Label)
		}
	}
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i] = noteStyle(col)
	}
	l.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(6)}
	p.Add(l)
	return nil
}

// bars draws the series as grouped bars, side by side in each category.
func (c *Chart) bars(p *plot.Plot, leg *plot.Legend) error {
	n := len(c.Series)
	if exclusive(c.Series) { // one bar per category: no need to group
		n = 1
	}
	w := vg.Points(math.Min(24, 300/float64(max(1, n*max(1, len(c.X.Categories))))))
	for i, s := range c.Series {
		vals := make(plotter.Values, len(c.X.Categories))
		for _, pt := range s.Points {
			if k := int(pt.X); k >= 0 && k < len(vals) {
				vals[k] = pt.Y
			}
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return fmt.Errorf("chart %s: %s: %w", c.Name, s.Label, err)
		}
		b.Color = plotutil.Color(s.Color)
		b.LineStyle.Width = vg.Points(0.5)
		if n > 1 {
			b.Offset = vg.Length(float64(i)-float64(n-1)/2) * w
		}
		b.Horizontal = c.Horizontal
		p.Add(b)
		leg.Add(s.Label, b)
	}
	return nil
}

// annotate draws the limits and the marks.
func (c *Chart) annotate(p *plot.Plot, leg *plot.Legend, xmin, xmax float64) error {
	if c.Bars {
		xmin, xmax = -0.5, float64(len(c.X.Categories))-0.5
	}
	gray := color.Gray{Y: 90}
	for _, l := range c.Limits {
		if math.IsInf(xmin, 0) {
			break
		}
		from, to := plotter.XY{X: xmin, Y: l.Y}, plotter.XY{X: xmax, Y: l.Y}
		if c.Horizontal { // a limit on the value axis, across the categories
			from, to = plotter.XY{X: l.Y, Y: xmin}, plotter.XY{X: l.Y, Y: xmax}
		}
		ln, err := plotter.NewLine(plotter.XYs{from, to})
		if err != nil {
			return err
		}
		ln.Color, ln.Width, ln.Dashes = gray, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(2), vg.Points(1), vg.Points(2)}
		p.Add(ln)
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{from}, Labels: []string{l.Label}})
		if err != nil {
			return err
		}
		lab.TextStyle[0] = noteStyle(gray)
		lab.Offset = vg.Point{X: vg.Points(3), Y: vg.Points(6)}
		p.Add(lab)
	}
	if len(c.Marks) == 0 {
		return nil
	}
	var xys plotter.XYs
	var labels []string
	for _, m := range c.Marks {
		xys = append(xys, plotter.XY{X: m.X, Y: m.Y})
		labels = append(labels, m.Label)
	}
	ring, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	ring.Shape, ring.Radius, ring.Color = draw.RingGlyph{}, vg.Points(8), color.Black
	p.Add(ring)
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i] = noteStyle(color.Black)
		lab.TextStyle[i].YAlign = draw.YBottom
	}
	lab.Offset = vg.Point{X: vg.Points(9), Y: vg.Points(4)}
	p.Add(lab)
	return nil
}

// maxValueTicks is how many distinct x values still get a labeled tick each.
const maxValueTicks = 12

// xValues are the distinct x values of the non-reference series, ascending.
func xValues(ss []Series) []float64 {
	var xs []float64
	for _, s := range ss {
		if s.Reference {
			continue
		}
		for _, p := range s.Points {
			xs = append(xs, p.X)
		}
	}
	sort.Float64s(xs)
	return slices.Compact(xs)
}

// valueTicks labels exactly the values swept.
type valueTicks []float64

func (v valueTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for _, x := range v {
		ts = append(ts, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', -1, 64)})
	}
	return ts
}

// logTicks labels 1, 2 and 5 of every decade, with minor ticks between.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	if min <= 0 || max <= min {
		return ts
	}
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		d := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			x := m * d
			if x < min || x > max {
				continue
			}
			t := plot.Tick{Value: x}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(x, 'g', -1, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// NeedsLog reports whether values spanning this range read better on a log
// axis: all positive and the largest at least ratio times the smallest.
func NeedsLog(values []float64, ratio float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if v <= 0 {
			return false
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return len(values) > 1 && hi >= ratio*lo
}

// exclusive reports whether no two series have a point at the same x.
func exclusive(ss []Series) bool {
	seen := map[float64]bool{}
	for _, s := range ss {
		for _, p := range s.Points {
			if seen[p.X] {
				return false
			}
			seen[p.X] = true
		}
	}
	return true
}
