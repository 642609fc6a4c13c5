package chart

import (
	"fmt"

	"github.com/krosim/krosim/profile/analysis"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/verb"
)

// Run returns the charts of one run: API latency by verb and the workers'
// time by phase.
func Run(r *result.Result) []Chart {
	var out []Chart
	lat := Chart{Name: "api-latency", Title: "kro's API request latency by verb (server side)",
		X: Axis{Label: "verb"}, Y: Axis{Label: "latency (ms)", Log: true}}
	var verbs []string
	qs := []struct {
		name string
		get  func(result.LatencyMS) float64
	}{{"p50", func(l result.LatencyMS) float64 { return l.P50 }}, {"p95", func(l result.LatencyMS) float64 { return l.P95 }}, {"p99", func(l result.LatencyMS) float64 { return l.P99 }}}
	series := make([]Series, len(qs))
	for i, q := range qs {
		series[i] = Series{Label: q.name, Color: i, Markers: true}
	}
	for _, v := range verb.All {
		t, ok := r.API.Verbs[v]
		if !ok || t.Calls == 0 || t.LatencyMS.P50 <= 0 {
			continue
		}
		for i, q := range qs {
			y := q.get(t.LatencyMS)
			series[i].Points = append(series[i].Points, Point{X: float64(len(verbs)), Y: y, Low: y, High: y})
		}
		verbs = append(verbs, fmt.Sprintf("%s (%d)", v, t.Calls))
	}
	if len(verbs) > 0 {
		lat.X.Categories, lat.Series = verbs, series
		lat.X.Label = "verb (calls)"
		lat.Limits = []Limit{{Y: 1000, Label: "SLO: mutating and object reads p99 <= 1 s"}}
		out = append(out, lat)
	}
	if total := r.WorkerSeconds(); total > 0 {
		att := Chart{Name: "attribution", Title: fmt.Sprintf("Worker time by phase (%d worker(s) x %.3g s)", r.Config.ControllerWorkers(), r.Summary.DurationSeconds),
			Bars: true, Horizontal: true, X: Axis{Label: "phase"}, Y: Axis{Label: "share of worker time (%)"}}
		s := Series{Label: "share of worker time", Color: 0}
		for _, p := range span.Phases() {
			v := 100 * r.Attribution[p.String()] / total
			s.Points = append(s.Points, Point{X: float64(len(att.X.Categories)), Y: v, Low: v, High: v})
			att.X.Categories = append(att.X.Categories, p.String())
		}
		att.Series = []Series{s}
		out = append(out, att)
	}
	return out
}

// Changes charts the significant changes against a baseline as bars of
// their relative change, with the thresholds drawn: the metrics that
// changed least are left out past max.
func Changes(cs []analysis.Change, max int) *Chart {
	c := &Chart{Name: "changes", Title: "Change against the baseline (significant changes only)", Bars: true, Horizontal: true,
		X: Axis{Label: "metric"}, Y: Axis{Label: "change of the median (%)"}}
	worse := Series{Label: "worse (regression beyond threshold)", Color: 0}
	other := Series{Label: "better, or within threshold", Color: 2}
	thr := map[float64]bool{}
	for _, ch := range cs {
		if !ch.Significant || len(c.X.Categories) >= max {
			continue
		}
		d := 100 * ch.Delta
		if d != d { // NaN: no baseline to divide by
			continue
		}
		p := Point{X: float64(len(c.X.Categories)), Y: d, Low: d, High: d}
		if ch.Regression {
			worse.Points = append(worse.Points, p)
		} else {
			other.Points = append(other.Points, p)
		}
		c.X.Categories = append(c.X.Categories, ch.Metric)
		if ch.Better != analysis.Neutral && !thr[ch.Threshold] {
			thr[ch.Threshold] = true
			y := -100 * ch.Threshold * float64(ch.Better)
			c.Limits = append(c.Limits, Limit{Y: y, Label: fmt.Sprintf("threshold %+.0f%%", y)})
		}
	}
	if len(c.X.Categories) == 0 {
		return nil
	}
	c.Series = []Series{worse, other}
	return c
}
