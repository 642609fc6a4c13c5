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
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is a line chart described independently of any renderer.
type Chart struct {
	Name   string // file name without extension
	Title  string
	X, Y   Axis
	Series []Series
}

// Axis is one axis of a chart.
type Axis struct {
	Label string
	Log   bool
	// Min and Max, when Max > Min, fix the axis range (else it fits the data).
	Min, Max float64
}

// Series is one line. A Reference series has one point and is drawn as a
// dashed horizontal line across the chart, for a setting with no x value
// (such as "no QPS limit").
type Series struct {
	Label     string
	Color     int // index into the default palette
	Dashed    bool
	Reference bool
	Points    []Point
}

// Point is a y value at x, with its spread (Low <= Y <= High) over seeds.
type Point struct {
	X, Y, Low, High float64
}

// Size of a rendered chart.
const (
	Width  = 16 * vg.Centimeter
	Height = 10 * vg.Centimeter
)

// Formats are the file formats Render supports.
var Formats = []string{"png", "svg"}

// Render draws the chart in format (png or svg), its legend below the plot
// so no entry hides a line.
func (c *Chart) Render(format string) ([]byte, error) {
	p, leg, err := c.plot()
	if err != nil {
		return nil, err
	}
	legendH := vg.Length(len(c.Series))*legendEntry + legendPad
	h := Height + legendH
	var cv vg.CanvasWriterTo
	switch format {
	case "svg":
		cv = vgsvg.New(Width, h)
	case "png":
		cv = vgimg.PngCanvas{Canvas: vgimg.New(Width, h)}
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
	return b.Bytes(), nil
}

// Legend layout below the plot.
const (
	legendEntry = 14 * vg.Millimeter / 3
	legendPad   = 4 * vg.Millimeter
)

// plot builds the gonum plot of the chart and, apart, its legend.
func (c *Chart) plot() (*plot.Plot, plot.Legend, error) {
	p := plot.New()
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
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
	for _, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		col := plotutil.Color(s.Color)
		pts := s.Points
		if s.Reference {
			if math.IsInf(xmin, 0) {
				continue
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
			return nil, leg, fmt.Errorf("chart %s: %s: %w", c.Name, s.Label, err)
		}
		line.Color = col
		line.Width = vg.Points(1.5)
		if s.Dashed || s.Reference {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(line)
		leg.Add(s.Label, line)
		if s.Reference {
			continue
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, leg, err
		}
		sc.Color = col
		sc.Radius = vg.Points(2.5)
		p.Add(sc)
		if spread {
			bars, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{xys, errs})
			if err != nil {
				return nil, leg, err
			}
			bars.Color = col
			p.Add(bars)
		}
	}
	if c.X.Log {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if xs := xValues(c.Series); len(xs) > 0 && len(xs) <= maxValueTicks {
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
	p.BackgroundColor = color.White
	return p, leg, nil
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
