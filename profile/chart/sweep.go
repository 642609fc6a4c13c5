package chart

import (
	"fmt"
	"strings"

	"github.com/krosim/krosim/sim/study"
)

// axisLabels name the dimensions on an x axis.
var axisLabels = map[string]string{
	study.QPS:          "client QPS limit (a what-if)",
	study.Burst:        "client burst",
	study.Workers:      "instance workers",
	study.CPUs:         "vCPUs",
	study.Instances:    "instances",
	study.LatencyScale: "API latency scale (x measured)",
}

// Sweep returns the charts of a sweep: converge time, p99 time to ready,
// throttle share and utilization against the x dimension (qps when varied,
// else the first dimension with several values), one line per combination
// of the other dimensions. qps=none points are dashed reference lines. It
// returns nothing when no dimension has two values.
func Sweep(s *study.Sweep) []Chart {
	xi := xDimension(s)
	if xi < 0 {
		return nil
	}
	xdim := s.Dimensions[xi]
	lines := linesOf(s, xi)
	where := fmt.Sprintf("%s instances, %s", study.Thousands(s.Study.Workload.Instances), s.Target.Name)
	if _, ok := indexOf(s.Dimensions, study.Instances); ok {
		where = s.Target.Name
	}
	var xs []float64
	for _, g := range s.Groups {
		if x := g.Params[xdim]; !(xdim == study.QPS && x == 0) {
			xs = append(xs, x)
		}
	}
	xAxis := Axis{Label: axisLabels[xdim], Log: NeedsLog(xs, 10)}
	type metric struct {
		name, title, ylabel string
		share               bool // a 0..1 share: fixed axis, no reference lines
		value               func(g study.Group) (study.Spread, bool)
	}
	metrics := []metric{
		{"converge", "Converge time", "converge time (s, virtual)", false, func(g study.Group) (study.Spread, bool) {
			if g.ConvergeSeconds == nil {
				return study.Spread{}, false
			}
			return *g.ConvergeSeconds, true
		}},
		{"ttr-p99", "p99 time to ready", "p99 time to ready (s, virtual)", false, func(g study.Group) (study.Spread, bool) { return g.TTRP99, true }},
		{"throttle", "Throttle share", "share of worker time throttled (0-1)", true, func(g study.Group) (study.Spread, bool) { return g.ThrottleShare, true }},
	}
	var out []Chart
	for _, m := range metrics {
		c := Chart{Name: m.name, Title: fmt.Sprintf("%s vs %s (%s)", m.title, xdim, where), X: xAxis, Y: Axis{Label: m.ylabel}}
		var ys []float64
		for li, l := range lines {
			ser, ref := series(l, xdim, m.value)
			ser.Label, ser.Color = l.label, li
			if len(ser.Points) > 0 {
				c.Series = append(c.Series, ser)
			}
			if ref != nil && !m.share {
				c.Series = append(c.Series, Series{Label: l.label + ", no limit (as kro runs)", Color: li, Reference: true, Points: []Point{*ref}})
			}
		}
		for _, s := range c.Series {
			for _, p := range s.Points {
				ys = append(ys, p.Low, p.High)
			}
		}
		if m.share {
			c.Y.Min, c.Y.Max = 0, 1
		} else {
			c.Y.Log = NeedsLog(ys, 20)
		}
		if m.name == "converge" {
			markConverge(&c, s, xdim, lines)
		}
		out = append(out, c)
	}
	util := Chart{Name: "utilization", Title: fmt.Sprintf("Utilization vs %s (%s)", xdim, where), X: xAxis,
		Y: Axis{Label: "busy share, 0-1 (solid: workers, dashed: vCPUs)", Min: 0, Max: 1}}
	for li, l := range lines {
		w, _ := series(l, xdim, func(g study.Group) (study.Spread, bool) { return g.WorkerUtilization, true })
		v, _ := series(l, xdim, func(g study.Group) (study.Spread, bool) { return g.VCPUUtilization, true })
		w.Label, w.Color = l.label+": workers", li
		v.Label, v.Color, v.Dashed = l.label+": vCPUs", li, true
		if len(w.Points) > 0 {
			util.Series = append(util.Series, w, v)
		}
	}
	return append(out, util)
}

// Files renders every chart of the sweep in every format: name.png, name.svg.
func Files(s *study.Sweep) (map[string][]byte, error) { return Render(Sweep(s)) }

// xDimension picks qps when it has two settings, else the first dimension
// with two values; -1 when none has.
func xDimension(s *study.Sweep) int {
	if i, ok := indexOf(s.Dimensions, study.QPS); ok && len(s.Values[i]) >= 2 {
		return i
	}
	for i, vals := range s.Values {
		if len(vals) >= 2 {
			return i
		}
	}
	return -1
}

type line struct {
	label  string
	groups []study.Group
}

// linesOf splits the groups by the values of every dimension but xi, in grid order.
func linesOf(s *study.Sweep, xi int) []line {
	var out []line
	at := map[string]int{}
	for _, g := range s.Groups {
		var parts []string
		for i, d := range s.Dimensions {
			if i != xi {
				parts = append(parts, d+"="+study.FormatValue(d, g.Params[d]))
			}
		}
		key := strings.Join(parts, ", ")
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			label := key
			if label == "" {
				label = "all"
			}
			out = append(out, line{label: label})
		}
		out[i].groups = append(out[i].groups, g)
	}
	return out
}

// series returns a line's points along x, and its qps=none point if any.
func series(l line, xdim string, value func(study.Group) (study.Spread, bool)) (Series, *Point) {
	var s Series
	var ref *Point
	for _, g := range l.groups {
		v, ok := value(g)
		if !ok {
			continue
		}
		p := Point{X: g.Params[xdim], Y: v.Mean, Low: v.Min, High: v.Max}
		if xdim == study.QPS && p.X == 0 {
			ref = &p
			continue
		}
		s.Points = append(s.Points, p)
	}
	return s, ref
}

func indexOf(xs []string, x string) (int, bool) {
	for i, v := range xs {
		if v == x {
			return i, true
		}
	}
	return -1, false
}

// markConverge labels each line's points with the constraint that binds
// them where it changes along the line, and rings each knee.
func markConverge(c *Chart, s *study.Sweep, xdim string, lines []line) {
	si := 0
	for _, l := range lines {
		for si < len(c.Series) && (c.Series[si].Reference || c.Series[si].Label != l.label) {
			si++
		}
		if si == len(c.Series) {
			break
		}
		ser := &c.Series[si]
		prev := study.Constraint("")
		k := 0
		for _, g := range l.groups {
			if g.ConvergeSeconds == nil || (xdim == study.QPS && g.Params[xdim] == 0) {
				continue
			}
			if g.Constraint != prev && k < len(ser.Points) {
				ser.Points[k].Label = string(g.Constraint)
			}
			prev = g.Constraint
			k++
		}
		si++
	}
	for _, k := range s.Knees {
		if k.Dimension != xdim || (xdim == study.QPS && k.Value == 0) {
			continue
		}
		c.Marks = append(c.Marks, Mark{X: k.Value, Y: k.ConvergeSeconds,
			Label: fmt.Sprintf("knee: %s=%s%s", xdim, study.FormatValue(xdim, k.Value), s.DescribeFixed(k.Fixed))})
	}
}
