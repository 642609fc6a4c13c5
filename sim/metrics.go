package sim

import (
	"bytes"
	"time"

	"github.com/krosim/krosim/sim/verb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Metrics renders the run as Prometheus text exposition with kro's metric
// names, as if scraped from kro's /metrics at the end of the run.
func (r *Result) Metrics() ([]byte, error) {
	reg := prometheus.NewRegistry()
	gvr := ""
	if len(r.RGDs) > 0 {
		gvr = r.RGDs[0].Name
	}
	c := r.kro
	counter := func(name, help string, v float64) {
		m := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: prometheus.Labels{"gvr": gvr}})
		m.Add(v)
		reg.MustRegister(m)
	}
	histogram := func(name, help string, ds []time.Duration, labels prometheus.Labels) {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18)})
		for _, d := range ds {
			h.Observe(d.Seconds())
		}
		reg.MustRegister(h)
	}
	counter("instance_reconcile_total", "Reconciles of instances.", float64(c.Stats.Reconciles))
	counter("instance_reconcile_errors_total", "Reconciles that returned an error.", float64(c.Stats.ReconcileErrors))
	histogram("instance_reconcile_duration_seconds", "Reconcile duration.", c.Stats.ReconcileDurations, prometheus.Labels{"gvr": gvr})
	counter("cel_expr_eval_total", "CEL evaluations.", float64(c.Stats.Evals))
	histogram("cel_expr_eval_duration_seconds", "CEL evaluation time on the target.", c.Stats.EvalDurations, nil)
	requeues := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynamic_controller_requeue_total",
		Help: "Requeues by type."}, []string{"type"})
	for _, typ := range []string{"no_requeue", "rate_limited", "requeue", "requeue_after"} {
		requeues.WithLabelValues(typ).Add(float64(c.Stats.Requeues[typ]))
	}
	reg.MustRegister(requeues)
	q := c.Queue
	gauge := func(name, help string, v float64, labels prometheus.Labels) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
		g.Set(v)
		reg.MustRegister(g)
	}
	gauge("dynamic_controller_queue_length", "Queue length at the end of the run.", float64(q.Len), nil)
	gauge("workqueue_depth", "Queue depth at the end of the run.", float64(q.Len), prometheus.Labels{"name": "dynamic-controller-queue"})
	histogram("workqueue_queue_duration_seconds", "Time from Add to Get.", q.QueueWaits, prometheus.Labels{"name": "dynamic-controller-queue"})
	histogram("workqueue_work_duration_seconds", "Time processing an item.", c.Stats.ReconcileDurations, prometheus.Labels{"name": "dynamic-controller-queue"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rest_client_request_duration_seconds",
		Help: "Request latency by verb.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18)}, []string{"verb"})
	for _, v := range verb.All {
		for _, d := range r.kro.Client.Verbs[v].Latencies {
			lat.WithLabelValues(string(v)).Observe(d.Seconds())
		}
	}
	reg.MustRegister(lat)
	rl := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rest_client_rate_limiter_duration_seconds",
		Help: "Client-side rate limiter waits.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{"verb"})
	for _, d := range r.kro.Client.ThrottleWaits {
		rl.WithLabelValues("all").Observe(d.Seconds())
	}
	reg.MustRegister(rl)
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
