package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Series is one scraped sample: a metric name, its labels and its value
// (histograms and summaries contribute name_sum and name_count).
type Series struct {
	Name   string
	Labels map[string]string
	Value  float64
}

func (s Series) key() string {
	names := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(s.Name)
	for _, k := range names {
		fmt.Fprintf(&b, ",%s=%s", k, s.Labels[k])
	}
	return b.String()
}

// Scrape is one reading of a /metrics endpoint.
type Scrape struct {
	Raw    []byte
	Series map[string]Series // by key
}

// fetchMetrics reads and parses a Prometheus text endpoint.
func fetchMetrics(ctx context.Context, client *http.Client, url string) (*Scrape, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics %s: %w", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("metrics %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics %s: %s: %.200s", url, resp.Status, raw)
	}
	return ParseScrape(raw)
}

func ParseScrape(raw []byte) (*Scrape, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("parsing metrics: %w", err)
	}
	s := &Scrape{Raw: raw, Series: map[string]Series{}}
	add := func(name string, m *dto.Metric, v float64, extra ...string) {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(extra); i += 2 {
			labels[extra[i]] = extra[i+1]
		}
		x := Series{Name: name, Labels: labels, Value: v}
		s.Series[x.key()] = x
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			switch {
			case m.Counter != nil:
				add(name, m, m.GetCounter().GetValue())
			case m.Gauge != nil:
				add(name, m, m.GetGauge().GetValue())
			case m.Untyped != nil:
				add(name, m, m.GetUntyped().GetValue())
			case m.Histogram != nil:
				add(name+"_sum", m, m.GetHistogram().GetSampleSum())
				add(name+"_count", m, float64(m.GetHistogram().GetSampleCount()))
				// Cumulative buckets as the exposition names them, +Inf included.
				for _, b := range m.GetHistogram().GetBucket() {
					add(name+"_bucket", m, float64(b.GetCumulativeCount()), "le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))
				}
				add(name+"_bucket", m, float64(m.GetHistogram().GetSampleCount()), "le", "+Inf")
			case m.Summary != nil:
				add(name+"_sum", m, m.GetSummary().GetSampleSum())
				add(name+"_count", m, float64(m.GetSummary().GetSampleCount()))
			}
		}
	}
	return s, nil
}

// sum adds the values of every series called name whose labels match, in
// the order of their keys, so that the same scrape always gives the same
// bits.
func (s *Scrape) Sum(name string, match func(map[string]string) bool) float64 {
	if s == nil {
		return 0
	}
	keys := make([]string, 0, len(s.Series))
	for k, x := range s.Series {
		if x.Name == name && (match == nil || match(x.Labels)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	total := 0.0
	for _, k := range keys {
		total += s.Series[k].Value
	}
	return total
}

// delta returns after minus before for every series called name, by key.
func Delta(before, after *Scrape, name string) []Series {
	var out []Series
	for k, x := range after.Series {
		if x.Name != name {
			continue
		}
		d := x.Value
		if b, ok := before.Series[k]; ok {
			d -= b.Value
		}
		if d != 0 {
			x.Value = d
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}
