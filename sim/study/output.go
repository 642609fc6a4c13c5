package study

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/krosim/krosim/sim/span"
)

// NoQPSLimit is how sweep.json writes qps none: client-go's QPS for "no
// client-side limit", where its 0 would mean "the default, 5".
const NoQPSLimit = -1

// JSON is sweep.json: deterministic for a given study. Its qps none is
// NoQPSLimit.
func (s *Sweep) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(s.noneAsNoQPSLimit(), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// CSV is sweep.csv: one row per point, every dimension's effective value,
// the headline numbers, attribution shares and the diagnosis.
func (s *Sweep) CSV() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{"index"}
	for _, d := range Dimensions {
		head = append(head, strings.ReplaceAll(d, "-", "_"))
	}
	head = append(head, "seed", "complete", "converge_seconds", "ttr_p50_seconds", "ttr_p95_seconds", "ttr_p99_seconds",
		"reconciles", "api_calls", "throttle_share", "throttled_calls", "rejected_429", "worker_utilization", "vcpu_utilization")
	for _, p := range span.Phases() {
		head = append(head, "share_"+p.String())
	}
	head = append(head, "queue_max_depth", "queue_mean_depth", "constraint", "evidence")
	if err := w.Write(head); err != nil {
		return nil, err
	}
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, r := range s.Points {
		rec := []string{strconv.Itoa(r.Index)}
		for _, d := range Dimensions {
			v := num(r.Params[d])
			if d == QPS && r.Params[d] == 0 {
				v = "none"
			}
			rec = append(rec, v)
		}
		conv := ""
		if r.ConvergeSeconds != nil {
			conv = num(*r.ConvergeSeconds)
		}
		rec = append(rec, strconv.FormatUint(r.Seed, 10), strconv.FormatBool(r.Complete), conv,
			num(r.TimeToReady.P50), num(r.TimeToReady.P95), num(r.TimeToReady.P99),
			strconv.Itoa(r.Reconciles), strconv.Itoa(r.APICalls), num(r.ThrottleShare),
			strconv.Itoa(r.ThrottledCalls), strconv.Itoa(r.Rejected429),
			num(r.Utilization.Workers), num(r.Utilization.VCPUs))
		for _, p := range span.Phases() {
			rec = append(rec, num(r.Shares[p.String()]))
		}
		rec = append(rec, strconv.Itoa(r.QueueMaxDepth), num(r.QueueMeanDepth),
			string(r.Diagnosis.Constraint), r.Diagnosis.Evidence)
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// noneAsNoQPSLimit returns a copy of the sweep whose qps values (0 inside
// krosim) say none as NoQPSLimit.
func (s *Sweep) noneAsNoQPSLimit() *Sweep { return s.withQPS(toNoQPSLimit) }

func toNoQPSLimit(v float64) float64 {
	if v == 0 {
		return NoQPSLimit
	}
	return v
}

func fromNoQPSLimit(v float64) float64 {
	if v == NoQPSLimit {
		return 0
	}
	return v
}

// withQPS returns a copy of the sweep with f applied to every qps value: the
// study's, the grid's, the points', the groups' and the knees'.
func (s *Sweep) withQPS(qps func(float64) float64) *Sweep {
	params := func(m map[string]float64) map[string]float64 {
		if _, ok := m[QPS]; !ok {
			return m
		}
		out := maps.Clone(m)
		out[QPS] = qps(m[QPS])
		return out
	}
	out := *s
	if s.Study != nil && len(s.Study.Dimensions[QPS]) > 0 {
		st := *s.Study
		st.Dimensions = maps.Clone(s.Study.Dimensions)
		st.Dimensions[QPS] = sliceMap(s.Study.Dimensions[QPS], qps)
		out.Study = &st
	}
	out.Values = slices.Clone(s.Values)
	for i, d := range s.Dimensions {
		if d == QPS {
			out.Values[i] = sliceMap(s.Values[i], qps)
		}
	}
	out.Points = slices.Clone(s.Points)
	for i := range out.Points {
		out.Points[i].Params = params(out.Points[i].Params)
	}
	out.Groups = slices.Clone(s.Groups)
	for i := range out.Groups {
		out.Groups[i].Params = params(out.Groups[i].Params)
	}
	out.Knees = slices.Clone(s.Knees)
	for i := range out.Knees {
		k := &out.Knees[i]
		k.Fixed = params(k.Fixed)
		if k.Dimension != QPS {
			continue
		}
		k.Value, k.Best, k.Tightest, k.Loosest = qps(k.Value), qps(k.Best), qps(k.Tightest), qps(k.Loosest)
		if k.BeforeValue != nil {
			v := qps(*k.BeforeValue)
			k.BeforeValue = &v
		}
	}
	return &out
}

func sliceMap(xs []float64, f func(float64) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// WriteText writes the summary a person reads: the table over the grid, the
// knees and the recommendations.
func (s *Sweep) WriteText(w io.Writer) error {
	var b strings.Builder
	st := s.Study
	var dims []string
	for i, d := range s.Dimensions {
		vals := make([]string, len(s.Values[i]))
		for j, v := range s.Values[i] {
			vals[j] = FormatValue(d, v)
		}
		dims = append(dims, d+" "+strings.Join(vals, ","))
	}
	grid := strings.Join(dims, " x ")
	if grid == "" {
		grid = "no dimension varied"
	}
	fmt.Fprintf(&b, "krosim sweep: %d points (%s; %s) of %s instances of %s on %s\n",
		s.PointsTotal, grid, Plural(len(st.Seeds), "seed"), Thousands(st.Workload.Instances),
		strings.Join(s.RGDNames, ", "), s.Target.Name)
	if !s.Complete {
		fmt.Fprintf(&b, "INCOMPLETE: %s; the numbers below cover those points only\n", s.Incomplete)
	}
	b.WriteString("\n")
	writeTable(&b, s)
	if len(s.Knees) > 0 {
		b.WriteString("\nKnees (the tightest value within 5% of the best converge time, other dimensions fixed):\n")
		for _, k := range s.Knees {
			where := s.DescribeFixed(k.Fixed)
			fmt.Fprintf(&b, "  %-13s %s%s (%s; best %s at %s)\n", k.Dimension, FormatValue(k.Dimension, k.Value),
				where, seconds(k.ConvergeSeconds), seconds(k.BestSeconds), FormatValue(k.Dimension, k.Best))
		}
	}
	b.WriteString("\nRecommendation:\n")
	for _, r := range s.Recommendations {
		fmt.Fprintf(&b, "  - %s\n", r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DescribeFixed says where a knee's other dimensions were fixed, in grid
// order: " at qps=20, workers=1", or nothing when none was.
func (s *Sweep) DescribeFixed(fixed map[string]float64) string {
	var parts []string
	for _, d := range s.Dimensions {
		if v, ok := fixed[d]; ok {
			parts = append(parts, d+"="+FormatValue(d, v))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " at " + strings.Join(parts, ", ")
}

// writeTable writes one line per group, right-aligned columns.
func writeTable(b *strings.Builder, s *Sweep) {
	multi := len(s.Study.Seeds) > 1
	head := append([]string{}, s.Dimensions...)
	conv := "converge"
	if multi {
		conv = "converge (min-max)"
	}
	head = append(head, conv, "ttr p50", "ttr p99", "reconciles", "API calls", "throttled", "429s", "busy workers", "busy vCPUs", "binds")
	rows := [][]string{head}
	for _, g := range s.Groups {
		var row []string
		for i, d := range s.Dimensions {
			row = append(row, FormatValue(d, g.Values[i]))
		}
		c := fmt.Sprintf("not converged (%d/%d)", g.Converged, g.Seeds)
		if g.ConvergeSeconds != nil {
			c = seconds(g.ConvergeSeconds.Mean)
			if multi {
				c += fmt.Sprintf(" (%s-%s)", seconds(g.ConvergeSeconds.Min), seconds(g.ConvergeSeconds.Max))
			}
		}
		row = append(row, c, seconds(g.TTRP50.Mean), seconds(g.TTRP99.Mean),
			fmt.Sprintf("%.0f", g.Reconciles.Mean), fmt.Sprintf("%.0f", g.APICalls.Mean),
			pct(g.ThrottleShare.Mean), fmt.Sprintf("%.0f", g.Rejected429.Mean),
			pct(g.WorkerUtilization.Mean), pct(g.VCPUUtilization.Mean), string(g.Constraint))
		rows = append(rows, row)
	}
	width := make([]int, len(head))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range rows {
		b.WriteString(" ")
		for i, c := range r {
			if i == len(r)-1 {
				fmt.Fprintf(b, "  %s", c)
				continue
			}
			fmt.Fprintf(b, "  %*s", width[i], c)
		}
		b.WriteString("\n")
	}
}

// DecodeSweep parses sweep.json: qps none (NoQPSLimit) becomes 0 again, as
// inside krosim, and each group's values are restored from its params.
func DecodeSweep(data []byte) (*Sweep, error) {
	var s Sweep
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if s.Format != sweepFormat {
		return nil, fmt.Errorf("format %q, want %q", s.Format, sweepFormat)
	}
	if s.Study == nil || s.Target == nil || len(s.Values) != len(s.Dimensions) {
		return nil, fmt.Errorf("not a complete sweep: study, target and one value list per dimension are required")
	}
	qps := func(v float64) float64 {
		if v == NoQPSLimit {
			return 0
		}
		return v
	}
	fix := func(m map[string]float64) {
		if v, ok := m[QPS]; ok {
			m[QPS] = qps(v)
		}
	}
	if d := s.Study.Dimensions[QPS]; d != nil {
		s.Study.Dimensions[QPS] = sliceMap(d, qps)
	}
	for i, d := range s.Dimensions {
		if d == QPS {
			s.Values[i] = sliceMap(s.Values[i], qps)
		}
	}
	for i := range s.Points {
		fix(s.Points[i].Params)
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		fix(g.Params)
		g.Values = make([]float64, len(s.Dimensions))
		for j, d := range s.Dimensions {
			g.Values[j] = g.Params[d]
		}
	}
	for i := range s.Knees {
		k := &s.Knees[i]
		fix(k.Fixed)
		if k.Dimension == QPS {
			k.Value, k.Best, k.Tightest, k.Loosest = qps(k.Value), qps(k.Best), qps(k.Tightest), qps(k.Loosest)
			if k.BeforeValue != nil {
				v := qps(*k.BeforeValue)
				k.BeforeValue = &v
			}
		}
	}
	return &s, nil
}
