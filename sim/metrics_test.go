package sim_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsRun is a run that uses every family krosim emits: a client rate
// limiter, server errors (reconcile errors, rate-limited requeues) and 429s.
func metricsRun(t *testing.T) *sim.Result {
	t.Helper()
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(40), Seed: 3}
	cfg.Target.Client.QPS, cfg.Target.Client.Burst = 20, 10
	cfg.Target.Faults = map[verb.Verb]target.Faults{verb.Patch: {Err500: 0.05, Throttle: 0.05}}
	return run(t, cfg, load(t, "../testdata/rgd/webapp.yaml"))
}

func parseProm(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func labelNames(m *dto.Metric) string {
	var names []string
	for _, lp := range m.Label {
		names = append(names, lp.GetName())
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func bounds(m *dto.Metric) []float64 {
	var bs []float64
	for _, b := range m.GetHistogram().GetBucket() {
		if math.IsInf(b.GetUpperBound(), 1) {
			continue // the text parser's, not a bucket kro defines
		}
		bs = append(bs, b.GetUpperBound())
	}
	return bs
}

// kroFacts are kro v0.9.4's definitions (pkg/metrics, its client-go
// adapters, and controller-runtime v0.24.1's workqueue provider, which
// labels depth with an empty priority): label names, and a histogram's
// first and last bucket and their number.
var kroFacts = map[string]struct {
	labels          string
	first, last     float64
	buckets         int
	labelValueMatch func(name, value string) bool
}{
	"cel_expr_eval_total":                           {},
	"cel_expr_eval_duration_seconds":                {first: 0.005, last: 10, buckets: 11},
	"instance_reconcile_total":                      {labels: "gvr", labelValueMatch: gvrString},
	"instance_reconcile_errors_total":               {labels: "gvr", labelValueMatch: gvrString},
	"instance_reconcile_duration_seconds":           {labels: "gvr", first: .01, last: 120, buckets: 16, labelValueMatch: gvrString},
	"dynamic_controller_reconcile_total":            {labels: "gvr", labelValueMatch: gvrKey},
	"dynamic_controller_reconcile_duration_seconds": {labels: "gvr", first: .01, last: 120, buckets: 16, labelValueMatch: gvrKey},
	"dynamic_controller_requeue_total":              {labels: "gvr,type", labelValueMatch: requeueLabel},
	"dynamic_controller_queue_length":               {},
	"workqueue_depth":                               {labels: "controller,name,priority", labelValueMatch: queueLabel},
	"workqueue_adds_total":                          {labels: "controller,name", labelValueMatch: queueLabel},
	"workqueue_retries_total":                       {labels: "controller,name", labelValueMatch: queueLabel},
	"workqueue_queue_duration_seconds":              {labels: "controller,name", first: 1e-8, last: 1e3, buckets: 12, labelValueMatch: queueLabel},
	"workqueue_work_duration_seconds":               {labels: "controller,name", first: 1e-8, last: 1e3, buckets: 12, labelValueMatch: queueLabel},
	"workqueue_unfinished_work_seconds":             {labels: "controller,name", labelValueMatch: queueLabel},
	"workqueue_longest_running_processor_seconds":   {labels: "controller,name", labelValueMatch: queueLabel},
	"rest_client_request_duration_seconds":          {labels: "verb", first: 0.001, last: 32.768, buckets: 16, labelValueMatch: method},
	"rest_client_rate_limiter_duration_seconds":     {labels: "verb", first: 0.001, last: 32.768, buckets: 16, labelValueMatch: method},
	"rest_client_request_retries_total":             {labels: "code,method", labelValueMatch: retryLabel},
}

func gvrString(name, v string) bool {
	return name == "gvr" && v == "kro.run/v1alpha1, Resource=webapps"
}
func gvrKey(name, v string) bool { return name == "gvr" && v == "kro.run/v1alpha1/webapps" }
func queueLabel(name, v string) bool {
	return (name == "priority" && v == "") || v == sim.QueueName
}
func method(name, v string) bool {
	return slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, v)
}
func requeueLabel(name, v string) bool {
	return gvrKey(name, v) || (name == "type" && slices.Contains([]string{"no_requeue", "requeue", "requeue_after", "rate_limited"}, v))
}
func retryLabel(name, v string) bool {
	return (name == "code" && v == "429") || (name == "method" && method(name, v))
}

func TestMetricsMatchKroSource(t *testing.T) {
	b, err := metricsRun(t).Metrics()
	if err != nil {
		t.Fatal(err)
	}
	fams := parseProm(t, b)
	for name, want := range kroFacts {
		mf := fams[name]
		if mf == nil {
			t.Errorf("%s: not emitted", name)
			continue
		}
		for _, m := range mf.Metric {
			if got := labelNames(m); got != want.labels {
				t.Errorf("%s: labels %q, kro's are %q", name, got, want.labels)
			}
			for _, lp := range m.Label {
				if !want.labelValueMatch(lp.GetName(), lp.GetValue()) {
					t.Errorf("%s: label %s=%q is not one kro writes", name, lp.GetName(), lp.GetValue())
				}
			}
			if bs := bounds(m); want.buckets > 0 && (len(bs) != want.buckets || bs[0] != want.first || bs[len(bs)-1] != want.last) {
				t.Errorf("%s: buckets %v, kro's are %d from %g to %g", name, bs, want.buckets, want.first, want.last)
			}
		}
	}
	for name := range fams {
		if _, ok := kroFacts[name]; !ok {
			t.Errorf("%s: emitted, but not a family of kro's this test knows", name)
		}
	}
}

// TestMetricsMatchRealScrapes holds a simulated scrape to real kro's
// (testdata/realapi/measured/*/metrics/kro-*.prom): every family both have
// has the same label names, label values of the same shape, and buckets.
func TestMetricsMatchRealScrapes(t *testing.T) {
	b, err := metricsRun(t).Metrics()
	if err != nil {
		t.Fatal(err)
	}
	sim := parseProm(t, b)
	files, _ := filepath.Glob("../testdata/realapi/measured/*/metrics/kro-*.prom")
	if len(files) == 0 {
		t.Fatal("no real scrapes")
	}
	compared := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for name, real := range parseProm(t, raw) {
			got := sim[name]
			if got == nil {
				t.Errorf("%s: %s is not emitted", f, name)
				continue
			}
			compared[name] = true
			if got.GetType() != real.GetType() {
				t.Errorf("%s: type %v, real %v", name, got.GetType(), real.GetType())
			}
			want := labelNames(real.Metric[0])
			for _, m := range got.Metric {
				if l := labelNames(m); l != want {
					t.Errorf("%s: labels %q, real %q", name, l, want)
				}
				if !slices.Equal(bounds(m), bounds(real.Metric[0])) {
					t.Errorf("%s: buckets %v, real %v", name, bounds(m), bounds(real.Metric[0]))
				}
			}
			realValues := map[string]bool{}
			for _, m := range real.Metric {
				for _, lp := range m.Label {
					realValues[lp.GetName()+"="+shape(lp.GetValue())] = true
				}
			}
			for _, m := range got.Metric {
				for _, lp := range m.Label {
					if !realValues[lp.GetName()+"="+shape(lp.GetValue())] {
						t.Errorf("%s: %s=%q has no counterpart in a real scrape", name, lp.GetName(), lp.GetValue())
					}
				}
			}
		}
	}
	if len(compared) < 2 {
		t.Errorf("compared %d families with real scrapes, want at least 2", len(compared))
	}
}

// shape is a label value with the resource name made generic, so a
// simulated gvr of webapps matches a real one of fidelityapps.
func shape(v string) string {
	if i := strings.Index(v, "Resource="); i >= 0 {
		return v[:i] + "Resource=*"
	}
	return v
}

// TestOpenMetricsScrapes checks metrics.om's shape: # EOF at the end, a
// sample a series a scrape, timestamps from sim.Epoch, counters that never
// fall, and a last scrape equal to metrics.prom.
func TestOpenMetricsScrapes(t *testing.T) {
	res := metricsRun(t)
	om, err := res.OpenMetrics(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(om, []byte("# EOF\n")) {
		t.Fatal("metrics.om does not end in # EOF")
	}
	times := sim.ScrapeTimes(res.Duration, 5*time.Second)
	if len(times) < 3 {
		t.Fatalf("%d scrapes in a %v run", len(times), res.Duration)
	}
	last := map[string]float64{} // series -> its value in the latest scrape
	stamps := map[string][]string{}
	for _, line := range strings.Split(string(om), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		j := strings.LastIndexByte(line[:i], ' ')
		series, value, ts := line[:j], line[j+1:i], line[i+1:]
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if (strings.Contains(series, "_total") || strings.Contains(series, "_count")) && v < last[series] {
			t.Errorf("%s fell from %g to %g at %s", series, last[series], v, ts)
		}
		last[series] = v
		stamps[series] = append(stamps[series], ts)
	}
	want := make([]string, len(times))
	for i, d := range times {
		want[i] = strconv.FormatFloat(float64(sim.Epoch.Add(d).UnixMilli())/1000, 'g', -1, 64)
	}
	for series, got := range stamps {
		if !slices.Equal(got, want) {
			t.Errorf("%s: stamped %v, want %v", series, got, want)
			break
		}
	}
	prom, _ := res.Metrics()
	for name, mf := range parseProm(t, prom) {
		for _, m := range mf.Metric {
			if m.Counter == nil {
				continue
			}
			key := name + "{"
			for k, lp := range m.Label {
				if k > 0 {
					key += ","
				}
				key += lp.GetName() + "=\"" + lp.GetValue() + "\""
			}
			key += "}"
			if len(m.Label) == 0 {
				key = name
			}
			if got := last[key]; got != m.Counter.GetValue() {
				t.Errorf("%s: last scrape %g, metrics.prom %g", key, got, m.Counter.GetValue())
			}
		}
	}
}

// TestCELMetricsCountEveryEvaluation: an expression over the CEL cost limit
// fails every reconcile that evaluates it; krosim evaluates it once and reuses
// the outcome for the same inputs, but kro evaluates it each time, so every
// evaluation is one observation in cel_expr_eval_total and
// cel_expr_eval_duration_seconds, each observed when it happened.
func TestCELMetricsCountEveryEvaluation(t *testing.T) {
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(2), Seed: 1, MaxTime: target.Duration(10 * time.Minute)}
	res := run(t, cfg, load(t, "../testdata/hostile/bombs/nested-all.yaml"))
	if res.Summary.ReconcileErrors < 4 {
		t.Fatalf("%d reconcile errors, want the bomb to fail reconciles again and again", res.Summary.ReconcileErrors)
	}
	b, err := res.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	fams := parseProm(t, b)
	evals := float64(res.Summary.Evaluations)
	if got := fams["cel_expr_eval_total"].Metric[0].GetCounter().GetValue(); got != evals {
		t.Errorf("cel_expr_eval_total %v, want every evaluation: %v", got, evals)
	}
	h := fams["cel_expr_eval_duration_seconds"].Metric[0].GetHistogram()
	if got := float64(h.GetSampleCount()); got != evals {
		t.Errorf("cel_expr_eval_duration_seconds count %v, want %v", got, evals)
	}
}

// TestWorkqueueGaugesAgree: at every scrape the seconds of work in progress
// (unfinished) are at least those of the longest reconcile in progress, and
// neither is consumed by the other or by an earlier rendering: each is
// computed from the reconcile log at its own scrape times.
func TestWorkqueueGaugesAgree(t *testing.T) {
	res := metricsRun(t)
	const every = time.Second
	om, err := res.OpenMetrics(every)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := res.OpenMetrics(every)
	if !bytes.Equal(om, again) {
		t.Fatal("a second rendering of metrics.om differs from the first")
	}
	gauge := func(name string) []float64 {
		var vs []float64
		for _, line := range strings.Split(string(om), "\n") {
			if !strings.HasPrefix(line, name+"{") {
				continue
			}
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-2], 64)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			vs = append(vs, v)
		}
		return vs
	}
	unfinished := gauge("workqueue_unfinished_work_seconds")
	longest := gauge("workqueue_longest_running_processor_seconds")
	if len(unfinished) != len(longest) || len(unfinished) < 3 {
		t.Fatalf("%d unfinished and %d longest scrapes", len(unfinished), len(longest))
	}
	busy := 0
	for i := range unfinished {
		if unfinished[i] < longest[i] {
			t.Errorf("scrape %d: %g s unfinished, less than the longest reconcile's %g s", i, unfinished[i], longest[i])
		}
		if longest[i] > 0 {
			busy++
		}
	}
	if busy == 0 {
		t.Error("no scrape found a reconcile in progress")
	}
}
