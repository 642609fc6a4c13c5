package sim

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/queue"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Epoch is virtual time zero in metrics.om: scrapes are stamped Epoch plus
// their virtual time, so the file is the same on every run and machine.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// The buckets of kro v0.9.4's metrics (pkg/metrics), of client-go's
// rest_client metrics as kro registers them, and of controller-runtime
// v0.24.1's workqueue metrics (kro's go.mod), which kro's dynamic
// controller's queue reports through.
var (
	kroBuckets       = []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 20, 25, 30, 45, 60, 120}
	restBuckets      = prometheus.ExponentialBuckets(0.001, 2, 16)
	workqueueBuckets = prometheus.ExponentialBuckets(10e-9, 10, 12)
	celBuckets       = prometheus.DefBuckets
)

// QueueName is the name kro gives its dynamic controller's workqueue: the
// name and controller labels of the workqueue_* metrics.
const QueueName = "dynamic-controller-queue"

// Metrics renders the end of the run as Prometheus text exposition with
// kro's metric names, labels and buckets, as if scraped from kro's /metrics
// when the run ended.
func (r *Result) Metrics() ([]byte, error) {
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range r.families() {
		mf := f.render([]time.Duration{r.Duration}, false)
		if len(mf.Metric) == 0 {
			continue // as kro exposes no series of a vector never used
		}
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return b.Bytes(), nil
}

// OpenMetrics renders the run as kro's metrics scraped every interval of
// virtual time from 0, and once more at its end: OpenMetrics text with
// timestamps from Epoch, ending in "# EOF".
func (r *Result) OpenMetrics(every time.Duration) ([]byte, error) {
	if every <= 0 {
		return nil, fmt.Errorf("metrics: scrape interval %v is not positive", every)
	}
	times := ScrapeTimes(r.Duration, every)
	var b bytes.Buffer
	for _, f := range r.families() {
		mf := f.render(times, true)
		if len(mf.Metric) == 0 {
			continue
		}
		if _, err := expfmt.MetricFamilyToOpenMetrics(&b, mf); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(&b); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return b.Bytes(), nil
}

// ScrapeTimes are the virtual times of the scrapes of a run lasting d:
// every interval from 0, and d.
func ScrapeTimes(d, every time.Duration) []time.Duration {
	var ts []time.Duration
	for t := time.Duration(0); t < d; t += every {
		ts = append(ts, t)
	}
	return append(ts, d)
}

// families are the metrics kro exposes that the run can fill, by name.
func (r *Result) families() []*family {
	if r.metricFamilies == nil {
		r.metricFamilies = r.makeFamilies()
	}
	return r.metricFamilies
}

// makeFamilies builds kro's metric families from the run's logs, sorted by name.
func (r *Result) makeFamilies() []*family {
	c := r.kro
	log := c.Stats.ReconcileLog()
	fs := [][]*family{
		r.celFamilies(c.Stats),
		r.instanceFamilies(log),
		r.dynamicFamilies(log, &c.Queue.Log),
		r.workqueueFamilies(log, &c.Queue.Log),
		r.restFamilies(),
	}
	var all []*family
	for _, f := range fs {
		all = append(all, f...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	return all
}

func (r *Result) celFamilies(s kro.Stats) []*family {
	total := newFamily("cel_expr_eval_total", "Total number of CEL expression evaluations", dto.MetricType_COUNTER, nil)
	dur := newFamily("cel_expr_eval_duration_seconds", "Duration of CEL expression evaluations in seconds", dto.MetricType_HISTOGRAM, celBuckets)
	for at, d := range s.EvalObservations() {
		total.add(at, 1)
		dur.add(at, d.Seconds())
	}
	return []*family{total, dur}
}

// instanceFamilies are kro's instance controller's, labeled with the
// instance GVR as schema.GroupVersionResource.String() writes it.
func (r *Result) instanceFamilies(log []kro.Reconcile) []*family {
	total := newFamily("instance_reconcile_total", "Total number of instance reconciliations per GVR", dto.MetricType_COUNTER, nil, "gvr")
	errs := newFamily("instance_reconcile_errors_total", "Total number of instance reconciliation errors per GVR", dto.MetricType_COUNTER, nil, "gvr")
	dur := newFamily("instance_reconcile_duration_seconds", "Duration of instance reconciliation in seconds per GVR", dto.MetricType_HISTOGRAM, kroBuckets, "gvr")
	for _, rec := range log {
		gvr := rec.GVR.String()
		total.add(rec.End, 1, gvr)
		dur.add(rec.End, (rec.End - rec.Start).Seconds(), gvr)
		if rec.Err {
			errs.add(rec.End, 1, gvr)
		}
	}
	return []*family{total, errs, dur}
}

// dynamicFamilies are kro's dynamic controller's, labeled with the GVR as
// its keyFromGVR writes it: group/version/resource.
func (r *Result) dynamicFamilies(log []kro.Reconcile, q *queue.Log) []*family {
	total := newFamily("dynamic_controller_reconcile_total", "Total number of reconciliations per GVR", dto.MetricType_COUNTER, nil, "gvr")
	dur := newFamily("dynamic_controller_reconcile_duration_seconds", "Duration of reconciliations per GVR", dto.MetricType_HISTOGRAM, kroBuckets, "gvr")
	requeues := newFamily("dynamic_controller_requeue_total", "Total number of requeues per GVR", dto.MetricType_COUNTER, nil, "gvr", "type")
	length := newFamily("dynamic_controller_queue_length", "Current length of the workqueue", dto.MetricType_GAUGE, nil)
	for _, rec := range log {
		gvr := dynamicKey(rec.GVR)
		total.add(rec.End, 1, gvr)
		dur.add(rec.End, (rec.End - rec.Start).Seconds(), gvr)
		switch rec.Requeue {
		case "rate_limited", "no_requeue":
			// kro counts every error as rate_limited, the ones it then
			// drops after the retry limit included; its no_requeue is
			// for NoRequeue errors, which the model does not return.
			requeues.add(rec.End, 1, gvr, "rate_limited")
		case "requeue_after", "requeue":
			requeues.add(rec.End, 1, gvr, rec.Requeue)
		}
	}
	for e := range q.Events() {
		if e.What == queue.Got { // kro sets the gauge as a worker takes a key
			length.set(e.At, float64(e.Depth))
		}
	}
	return []*family{total, dur, requeues, length}
}

// dynamicKey is kro's keyFromGVR: group, then /version, then /resource,
// each when not empty.
func dynamicKey(gvr schema.GroupVersionResource) string {
	s := gvr.Group
	for _, p := range []string{gvr.Version, gvr.Resource} {
		if p != "" {
			s += "/" + p
		}
	}
	return s
}

// workqueueFamilies are controller-runtime's workqueue metrics of kro's
// queue, labeled name and controller with the queue's name (and depth with
// an empty priority).
func (r *Result) workqueueFamilies(log []kro.Reconcile, q *queue.Log) []*family {
	labels := []string{"controller", "name"}
	depth := newFamily("workqueue_depth", "Current depth of workqueue by workqueue and priority", dto.MetricType_GAUGE, nil, "controller", "name", "priority")
	adds := newFamily("workqueue_adds_total", "Total number of adds handled by workqueue", dto.MetricType_COUNTER, nil, labels...)
	retries := newFamily("workqueue_retries_total", "Total number of items added to the workqueue with a non-zero delay (rate-limited requeues, explicit RequeueAfter or AddAfter calls)", dto.MetricType_COUNTER, nil, labels...)
	wait := newFamily("workqueue_queue_duration_seconds", "How long in seconds an item stays in workqueue before being requested", dto.MetricType_HISTOGRAM, workqueueBuckets, labels...)
	work := newFamily("workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes.", dto.MetricType_HISTOGRAM, workqueueBuckets, labels...)
	unfinished := newFamily("workqueue_unfinished_work_seconds", "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.", dto.MetricType_GAUGE, nil, labels...)
	longest := newFamily("workqueue_longest_running_processor_seconds", "How many seconds has the longest running processor for workqueue been running.", dto.MetricType_GAUGE, nil, labels...)
	for e := range q.Events() {
		switch e.What {
		case queue.Added:
			adds.add(e.At, 1, QueueName, QueueName)
		case queue.Retried:
			retries.add(e.At, 1, QueueName, QueueName)
		case queue.Pushed:
			depth.set(e.At, float64(e.Depth), QueueName, QueueName, "")
		case queue.Got:
			depth.set(e.At, float64(e.Depth), QueueName, QueueName, "")
			wait.add(e.At, e.Wait.Seconds(), QueueName, QueueName)
		}
	}
	for _, rec := range log {
		work.add(rec.End, (rec.End - rec.Start).Seconds(), QueueName, QueueName)
	}
	unfinished.gaugeFunc(func() func(time.Duration) float64 {
		running := inFlight(log)
		return func(t time.Duration) float64 {
			sum := 0.0
			for _, start := range running(t) {
				sum += (t - start).Seconds()
			}
			return sum
		}
	}, QueueName, QueueName)
	longest.gaugeFunc(func() func(time.Duration) float64 {
		running := inFlight(log)
		return func(t time.Duration) float64 {
			starts := running(t)
			if len(starts) == 0 {
				return 0
			}
			return (t - slices.Min(starts)).Seconds()
		}
	}, QueueName, QueueName)
	return []*family{depth, adds, retries, wait, work, unfinished, longest}
}

// inFlight returns a function of increasing times giving the starts of the
// reconciles in progress at each.
func inFlight(log []kro.Reconcile) func(t time.Duration) []time.Duration {
	byStart := slices.Clone(log)
	sort.SliceStable(byStart, func(i, j int) bool { return byStart[i].Start < byStart[j].Start })
	next := 0
	var active []kro.Reconcile
	return func(t time.Duration) []time.Duration {
		for ; next < len(byStart) && byStart[next].Start <= t; next++ {
			active = append(active, byStart[next])
		}
		active = slices.DeleteFunc(active, func(rec kro.Reconcile) bool { return rec.End <= t })
		starts := make([]time.Duration, len(active))
		for i, rec := range active {
			starts[i] = rec.Start
		}
		return starts
	}
}

// restFamilies are client-go's request metrics of kro's client, by HTTP
// method as client-go labels them.
func (r *Result) restFamilies() []*family {
	lat := newFamily("rest_client_request_duration_seconds", "Request latency in seconds, partitioned by verb.", dto.MetricType_HISTOGRAM, restBuckets, "verb")
	limiter := newFamily("rest_client_rate_limiter_duration_seconds", "Client-side rate limiter latency in seconds, partitioned by verb.", dto.MetricType_HISTOGRAM, restBuckets, "verb")
	retries := newFamily("rest_client_request_retries_total", "Total number of request retries, partitioned by status code and method.", dto.MetricType_COUNTER, nil, "code", "method")
	for a := range r.kro.Client.Attempts() {
		m := a.Verb.Method()
		if a.Limited {
			limiter.add(a.Sent, a.Throttle.Seconds(), m)
		}
		lat.add(a.Done, (a.Done - a.Sent).Seconds(), m)
		if a.Retried != "" {
			retries.add(a.Done, 1, a.Retried, m)
		}
	}
	return []*family{lat, limiter, retries}
}
