package real

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
	"gonum.org/v1/gonum/stat"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config is what a real run needs besides the RGDs.
type Config struct {
	Kubeconfig string
	// KroMetrics is the URL of kro's /metrics.
	KroMetrics string
	RGDFiles   []string
	Workload   workload.Workload
	// Seed makes the instances the same as a simulation's with that seed.
	Seed uint64
	// Workers is kro's --dynamic-controller-concurrent-reconciles, for the record
	// (krosim cannot read it from the controller).
	Workers int
	// Quiet is how long kro's reconcile counter must stand still before a phase
	// counts as over; it must exceed kro's requeue interval (3s).
	Quiet time.Duration
	// Timeout bounds each phase.
	Timeout time.Duration
	// Parallel is how many creates or deletes krosim has in flight at once.
	Parallel int
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Result is a real run's results.json: every field a simulation writes
// (sim.Result) plus what only a real run has. Its config says mode "real".
type Result struct {
	sim.Result
	Config RunConfig `json:"config"`
	Real   Measured  `json:"real"`

	// Metrics are the raw /metrics scrapes, by file name (kro-0.prom, ...).
	Metrics map[string][]byte `json:"-"`
}

// RunConfig is the config of a real run.
type RunConfig struct {
	Mode string `json:"mode"` // always "real"
	sim.Config
	Server     string  `json:"server"`
	KroMetrics string  `json:"kro_metrics"`
	Workers    int     `json:"workers"`
	Quiet      float64 `json:"quiet_seconds"`
	Parallel   int     `json:"parallel"`
}

// Measured is what the real run observed beyond the simulation's fields.
type Measured struct {
	Phases []Phase `json:"phases"`
	// Excluded are the requests left out of api_calls: watches and the
	// informers' cluster-wide LISTs, by resource then server verb.
	Excluded map[string]map[string]int `json:"excluded"`
	// Krosim are krosim's own requests, subtracted from the server's counts,
	// by resource then server verb.
	Krosim map[string]map[string]int `json:"krosim_requests"`
	// ReconcileSeconds is the sum of kro's reconcile durations.
	ReconcileSeconds float64  `json:"reconcile_seconds"`
	Instances        []Timing `json:"instances"`
	Notes            []string `json:"notes,omitempty"`
}

// Phase is the create or the delete phase of a real run.
type Phase struct {
	Name string `json:"name"`
	// Seconds until every instance was ready (or gone).
	Seconds float64 `json:"seconds"`
	// IdleSeconds until kro had been idle for the quiet period, minus that period.
	IdleSeconds        float64                      `json:"idle_seconds"`
	Reconciles         int                          `json:"reconciles"`
	ReconcileErrors    int                          `json:"reconcile_errors"`
	Requeues           map[string]int               `json:"requeues"`
	APICalls           map[verb.Verb]int            `json:"api_calls"`
	APICallsByResource map[string]map[verb.Verb]int `json:"api_calls_by_resource"`
}

// Timing is one instance's life, in seconds from the start of the run.
type Timing struct {
	Name    string   `json:"name"`
	Created float64  `json:"created"`
	Ready   *float64 `json:"ready"`
	Deleted *float64 `json:"deleted,omitempty"`
	Gone    *float64 `json:"gone,omitempty"`
}

var (
	rgdGVR = schema.GroupVersionResource{Group: "kro.run", Version: "v1alpha1", Resource: "resourcegraphdefinitions"}
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// runner is one real run in progress.
type runner struct {
	cfg    Config
	rgds   []*model.RGD
	dyn    dynamic.Interface
	http   *http.Client
	server string
	own    *counter
	start  time.Time
	log    io.Writer

	gvrs    []schema.GroupVersionResource // of the instances, one per RGD
	tracker *tracker
	scrapes map[string][]byte
	notes   []string
}

// Run applies the RGDs to the server, waits for kro to accept them, then
// creates the workload's instances (the same names, namespaces and specs as
// a simulation with the same seed), waits until kro reports every one ready
// and, with Workload.Delete, deletes them and waits until they are gone.
// After each phase it waits until kro is idle, so that every reconcile and
// request the phase caused is counted. kro is observed through its own
// /metrics and the API server's.
func Run(ctx context.Context, cfg Config, rgds []*model.RGD) (*Result, error) {
	if err := cfg.Workload.Validate(); err != nil {
		return nil, err
	}
	if len(rgds) == 0 {
		return nil, fmt.Errorf("no RGDs to run")
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Minute
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	r := &runner{cfg: cfg, rgds: rgds, own: newCounter(), log: cfg.Log, scrapes: map[string][]byte{}}
	if r.log == nil {
		r.log = io.Discard
	}
	if err := r.connect(); err != nil {
		return nil, err
	}
	for _, g := range rgds {
		if len(g.Resources) > 0 {
			for _, res := range g.Resources {
				if len(res.ReadyWhen) > 0 {
					r.notes = append(r.notes, fmt.Sprintf("%s: resource %s has readyWhen; krosim runs no kind controllers, so only a condition true without one (or a controller on the cluster) lets it become ready", g.Name, res.ID))
				}
			}
		}
		r.gvrs = append(r.gvrs, schema.GroupVersionResource{Group: g.Group, Version: g.APIVersion, Resource: ""})
	}
	if err := r.applyRGDs(ctx); err != nil {
		return nil, err
	}
	return r.run(ctx)
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "krosim real: %s\n", fmt.Sprintf(format, args...))
}

func (r *runner) connect() error {
	rc, err := clientcmd.BuildConfigFromFlags("", r.cfg.Kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	// krosim's own client must never be what limits the run.
	rc.QPS, rc.Burst = 1000, 1000
	rc.UserAgent = "krosim"
	rc.Wrap(r.own.wrap)
	if r.dyn, err = dynamic.NewForConfig(rc); err != nil {
		return err
	}
	if r.http, err = rest.HTTPClientFor(rc); err != nil {
		return err
	}
	r.server = strings.TrimSuffix(rc.Host, "/")
	return nil
}

// applyRGDs server-side-applies every RGD in the files and waits until kro
// reports each Ready and its instance CRD can take creates.
func (r *runner) applyRGDs(ctx context.Context) error {
	for _, f := range r.cfg.RGDFiles {
		docs, err := readDocs(f)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if d.GetKind() != "ResourceGraphDefinition" {
				continue
			}
			data, err := json.Marshal(d.Object)
			if err != nil {
				return err
			}
			force := true
			if _, err := r.dyn.Resource(rgdGVR).Patch(ctx, d.GetName(), types.ApplyPatchType, data,
				metav1.PatchOptions{FieldManager: "krosim", Force: &force}); err != nil {
				return fmt.Errorf("applying RGD %s from %s: %w", d.GetName(), f, err)
			}
			r.logf("applied RGD %s", d.GetName())
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for i, g := range r.rgds {
		for {
			obj, err := r.dyn.Resource(rgdGVR).Get(ctx, g.Name, metav1.GetOptions{})
			if err == nil && conditionTrue(obj, "Ready") {
				break
			}
			if time.Now().After(deadline) {
				state, _, _ := unstructured.NestedString(objOrEmpty(obj).Object, "status", "state")
				return fmt.Errorf("RGD %s not Ready after 2m (state %q, err %v): is kro running against this server?", g.Name, state, err)
			}
			if err := sleep(ctx, 250*time.Millisecond); err != nil {
				return err
			}
		}
		// kro names the instance CRD <plural>.<group>; find it by kind.
		crd, err := r.instanceCRD(ctx, g, deadline)
		if err != nil {
			return err
		}
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		r.gvrs[i].Resource = plural
		// The API server delays every create of a custom resource by 2 s while
		// its CRD was established less than 2 s ago (customresource_handler.go).
		if t := establishedAt(crd); !t.IsZero() {
			if wait := time.Until(t.Add(3 * time.Second)); wait > 0 {
				if err := sleep(ctx, wait); err != nil {
					return err
				}
			}
		}
		r.logf("RGD %s is Ready; instances are %s", g.Name, r.gvrs[i].GroupResource())
	}
	return nil
}

func (r *runner) instanceCRD(ctx context.Context, g *model.RGD, deadline time.Time) (*unstructured.Unstructured, error) {
	for {
		list, err := r.dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			crd := &list.Items[i]
			group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
			if group == g.Group && kind == g.Kind && conditionTrue(crd, "Established") {
				return crd, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no established CRD for %s.%s after 2m", g.Kind, g.Group)
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	wl := r.cfg.Workload
	n := wl.Instances
	// The same instances as sim.Run: its workload driver draws arrivals and
	// then each instance from the PCG stream 3 of the seed.
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 3))
	arrivals := wl.Arrivals(rng)
	type job struct {
		i    int
		gvr  schema.GroupVersionResource
		inst *unstructured.Unstructured
		ext  []*unstructured.Unstructured
	}
	jobs := make([]job, n)
	for i := 0; i < n; i++ {
		g := r.rgds[i%len(r.rgds)]
		inst := workload.Instance(g, wl.Namespace, i, rng)
		ext, err := workload.External(g, inst)
		if err != nil {
			return nil, err
		}
		jobs[i] = job{i: i, gvr: r.gvrs[i%len(r.rgds)], inst: inst, ext: ext}
	}

	var err error
	r.tracker, err = r.watch(ctx)
	if err != nil {
		return nil, err
	}
	defer r.tracker.stop()

	s0, k0, err := r.scrape(ctx, 0)
	if err != nil {
		return nil, err
	}
	own0 := r.own.snapshot()

	// Create phase.
	r.start = time.Now()
	r.tracker.setStart(r.start)
	r.logf("creating %d instances (%d at a time)", n, r.cfg.Parallel)
	errs := r.each(ctx, n, func(i int) error {
		j := jobs[i]
		if err := sleep(ctx, time.Until(r.start.Add(arrivals[i]))); err != nil {
			return err
		}
		for _, e := range j.ext {
			gvr, err := r.gvrFor(ctx, e)
			if err != nil {
				return err
			}
			if _, err := r.dyn.Resource(gvr).Namespace(e.GetNamespace()).Create(ctx, e, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("creating external %s: %w", e.GetName(), err)
			}
		}
		r.tracker.created(key(j.inst), time.Now())
		_, err := r.dyn.Resource(j.gvr).Namespace(j.inst.GetNamespace()).Create(ctx, j.inst, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating %s/%s: %w", j.inst.GetNamespace(), j.inst.GetName(), err)
		}
		return nil
	})
	if errs != nil {
		return nil, errs
	}
	readyAt, complete := r.tracker.wait(ctx, r.cfg.Timeout, func(t *tracker) bool { return t.ready == n }, "ready")
	if err := r.tracker.failure(); err != nil {
		return nil, err
	}
	r.logf("%d of %d ready after %.3fs; waiting for kro to be idle", r.tracker.count("ready"), n, readyAt.Sub(r.start).Seconds())
	res := &Result{Metrics: r.scrapes}
	res.Config = RunConfig{Mode: "real", Config: sim.Config{RGDFiles: r.cfg.RGDFiles, Workload: wl, Seed: r.cfg.Seed,
		MaxTime: target.Duration(r.cfg.Timeout)}, Server: r.server, KroMetrics: r.cfg.KroMetrics,
		Workers: r.cfg.Workers, Quiet: r.cfg.Quiet.Seconds(), Parallel: r.cfg.Parallel}
	start := mark{s: s0, k: k0, own: own0, scrapes: 1}
	last, err := r.endPhase(ctx, res, "create", readyAt.Sub(r.start), start)
	if err != nil {
		return nil, err
	}

	// Update phase: change the spec of the workload's share of instances,
	// the first ones in order as the simulation does, and wait until kro
	// reports each Ready for its new generation.
	var updStart, updatedAt time.Time
	updated := 0
	if m := int(wl.Update*float64(n) + 0.5); m > 0 && complete {
		updStart = time.Now()
		r.logf("changing the spec of %d instances", m)
		errs := r.each(ctx, m, func(i int) error {
			j := jobs[i]
			return r.change(ctx, j.gvr, j.inst, r.rgds[i%len(r.rgds)])
		})
		if errs != nil {
			return nil, errs
		}
		var ok bool
		updatedAt, ok = r.tracker.wait(ctx, r.cfg.Timeout, func(t *tracker) bool { return t.updated == m }, "updated")
		if err := r.tracker.failure(); err != nil {
			return nil, err
		}
		complete = complete && ok
		updated = r.tracker.count("updated")
		r.logf("%d of %d updated after %.3fs; waiting for kro to be idle", updated, m, updatedAt.Sub(updStart).Seconds())
		if last, err = r.endPhase(ctx, res, "update", updatedAt.Sub(updStart), last); err != nil {
			return nil, err
		}
	}

	// Delete phase.
	var delStart, goneAt time.Time
	deleted := true
	if wl.Delete && complete {
		delStart = time.Now()
		r.logf("deleting %d instances", n)
		errs := r.each(ctx, n, func(i int) error {
			j := jobs[i]
			r.tracker.deleting(key(j.inst), time.Now())
			err := r.dyn.Resource(j.gvr).Namespace(j.inst.GetNamespace()).Delete(ctx, j.inst.GetName(), metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting %s/%s: %w", j.inst.GetNamespace(), j.inst.GetName(), err)
			}
			return nil
		})
		if errs != nil {
			return nil, errs
		}
		goneAt, deleted = r.tracker.wait(ctx, r.cfg.Timeout, func(t *tracker) bool { return t.gone == n }, "gone")
		if err := r.tracker.failure(); err != nil {
			return nil, err
		}
		r.logf("%d of %d gone after %.3fs; waiting for kro to be idle", r.tracker.count("gone"), n, goneAt.Sub(delStart).Seconds())
		if last, err = r.endPhase(ctx, res, "delete", goneAt.Sub(delStart), last); err != nil {
			return nil, err
		}
	}

	// Totals over the whole workload, as a simulation reports them.
	endS, endK, endOwn, end := last.s, last.k, last.own, last.idle
	total := r.phase("total", 0, end, s0, endS, k0, endK, own0, endOwn)
	res.Format = "krosim/results/v1"
	res.CPUCost = "real"
	res.Complete = complete && deleted
	switch {
	case !complete:
		res.Incomplete = fmt.Sprintf("%d of %d instances ready after %s", r.tracker.count("ready"), n, r.cfg.Timeout)
	case !deleted:
		res.Incomplete = fmt.Sprintf("%d of %d instances gone after %s", r.tracker.count("gone"), n, r.cfg.Timeout)
	}
	s := &res.Summary
	s.InstancesTotal = n
	s.InstancesReady = r.tracker.count("ready")
	s.InstancesFailed = n - s.InstancesReady
	if complete {
		v := round(readyAt.Sub(r.start).Seconds())
		s.ConvergeSeconds = &v
	}
	if wl.Delete && complete && deleted {
		v := round(goneAt.Sub(delStart).Seconds())
		s.DeleteSeconds = &v
	}
	if !updStart.IsZero() && complete {
		v := round(updatedAt.Sub(updStart).Seconds())
		s.UpdateSeconds, s.InstancesUpdated = &v, updated
	}
	s.DurationSeconds = round(end.Sub(r.start).Seconds())
	s.Reconciles = total.Reconciles
	s.ReconcileErrors = total.ReconcileErrors
	s.RequeuesByReason = total.Requeues
	s.APICalls = total.APICalls
	s.APICallsByResource = total.APICallsByResource
	s.WorldAPICalls = map[verb.Verb]int{}
	for _, v := range verb.All {
		s.WorldAPICalls[v] = 0
	}
	for q, c := range subtract(endOwn, own0) {
		if v, ok := simVerb(q); ok {
			s.WorldAPICalls[v] += c
		}
	}
	// The readiness watch's LIST is krosim's, not the workload's.
	s.WorldAPICalls[verb.List] = 0
	var ttr []float64
	res.Real.Instances, ttr = r.tracker.timings()
	s.TimeToReady = percentiles(ttr)
	res.API.Verbs = map[verb.Verb]sim.VerbResult{}
	for _, v := range verb.All {
		res.API.Verbs[v] = sim.VerbResult{Calls: s.APICalls[v]}
	}
	res.API.ClientLimiter = "none (kro's --client-qps has no effect)"
	// The server's own account of how long kro's LISTs waited for its watch cache.
	for _, x := range delta(s0, endS, "apiserver_watch_cache_read_wait_seconds_sum") {
		if s.APICallsByResource[x.Labels["resource"]][verb.List] > 0 {
			res.API.WatchCacheWaitSeconds += x.Value
		}
	}
	for _, x := range delta(s0, endS, "apiserver_watch_cache_read_wait_seconds_count") {
		if s.APICallsByResource[x.Labels["resource"]][verb.List] > 0 {
			res.API.WatchCacheWaits += int(x.Value)
		}
	}
	res.API.WatchCacheWaitSeconds = round(res.API.WatchCacheWaitSeconds)
	res.Real.Excluded, res.Real.Krosim = r.excluded(s0, endS, own0, endOwn)
	res.Real.ReconcileSeconds = round(r.kroSum(endK, "instance_reconcile_duration_seconds_sum") - r.kroSum(k0, "instance_reconcile_duration_seconds_sum"))
	if r.cfg.Workers > 0 && s.DurationSeconds > 0 {
		res.Utilization.Workers = round(res.Real.ReconcileSeconds / (float64(r.cfg.Workers) * s.DurationSeconds))
	}
	res.Real.Notes = r.notes
	return res, nil
}

// each runs f for 0..n-1 with cfg.Parallel in flight and returns the first error.
func (r *runner) each(ctx context.Context, n int, f func(i int) error) error {
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < min(r.cfg.Parallel, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func (r *runner) gvrFor(ctx context.Context, obj *unstructured.Unstructured) (schema.GroupVersionResource, error) {
	gv, err := schema.ParseGroupVersion(obj.GetAPIVersion())
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	list, err := r.dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	for _, crd := range list.Items {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		if group == gv.Group && kind == obj.GetKind() {
			return gv.WithResource(plural), nil
		}
	}
	return schema.GroupVersionResource{}, fmt.Errorf("no CRD serves %s %s", obj.GetAPIVersion(), obj.GetKind())
}

// quiesce waits until kro's reconcile counter has not moved for the quiet
// period and returns the moment it last moved.
func (r *runner) quiesce(ctx context.Context) (time.Time, error) {
	deadline := time.Now().Add(r.cfg.Timeout)
	last, lastChange := -1.0, time.Now()
	for {
		k, err := fetchMetrics(ctx, http.DefaultClient, r.cfg.KroMetrics)
		if err != nil {
			return time.Time{}, err
		}
		v := r.kroSum(k, "instance_reconcile_total")
		now := time.Now()
		if v != last {
			last, lastChange = v, now
		} else if now.Sub(lastChange) >= r.cfg.Quiet {
			return lastChange, nil
		}
		if now.After(deadline) {
			return time.Time{}, fmt.Errorf("kro did not become idle within %s", r.cfg.Timeout)
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return time.Time{}, err
		}
	}
}

// scrape reads both metrics endpoints and keeps their text.
func (r *runner) scrape(ctx context.Context, i int) (server, kro *scrape, err error) {
	if kro, err = fetchMetrics(ctx, http.DefaultClient, r.cfg.KroMetrics); err != nil {
		return nil, nil, fmt.Errorf("kro's metrics (--kro-metrics): %w", err)
	}
	if server, err = fetchMetrics(ctx, r.http, r.server+"/metrics"); err != nil {
		return nil, nil, fmt.Errorf("the API server's metrics: %w", err)
	}
	r.scrapes[fmt.Sprintf("kro-%d.prom", i)] = kro.Raw
	r.scrapes[fmt.Sprintf("apiserver-%d.prom", i)] = server.Raw
	return server, kro, nil
}

// kroSum sums a kro metric over the run's instance GVRs. kro labels
// instance metrics with the GVR's String() and the dynamic controller's with
// group/version/resource.
func (r *runner) kroSum(k *scrape, name string) float64 {
	return k.sum(name, func(l map[string]string) bool { return r.ours(l["gvr"]) })
}

func (r *runner) ours(gvr string) bool {
	for _, g := range r.gvrs {
		if gvr == g.String() || gvr == g.Group+"/"+g.Version+"/"+g.Resource {
			return true
		}
	}
	return false
}

// mark is where a phase ended: the scrapes then, krosim's own requests so
// far, when kro went idle, and how many scrapes were taken.
type mark struct {
	s, k    *scrape
	own     map[request]int
	idle    time.Time
	scrapes int
}

// endPhase waits for kro to be idle, scrapes both metrics endpoints and
// records the phase since from; it returns where the phase ended.
func (r *runner) endPhase(ctx context.Context, res *Result, name string, took time.Duration, from mark) (mark, error) {
	idle, err := r.quiesce(ctx)
	if err != nil {
		return mark{}, err
	}
	s, k, err := r.scrape(ctx, from.scrapes)
	if err != nil {
		return mark{}, err
	}
	to := mark{s: s, k: k, own: r.own.snapshot(), idle: idle, scrapes: from.scrapes + 1}
	res.Real.Phases = append(res.Real.Phases, r.phase(name, took, idle, from.s, to.s, from.k, to.k, from.own, to.own))
	return to, nil
}

// phase computes what kro did between two scrapes.
func (r *runner) phase(name string, dur time.Duration, idle time.Time, s0, s1, k0, k1 *scrape, own0, own1 map[request]int) Phase {
	p := Phase{Name: name, Seconds: round(dur.Seconds()), Requeues: map[string]int{},
		APICalls: map[verb.Verb]int{}, APICallsByResource: map[string]map[verb.Verb]int{}}
	if !r.start.IsZero() && !idle.IsZero() && name != "total" {
		p.IdleSeconds = round(idle.Sub(r.start).Seconds())
	}
	p.Reconciles = int(math.Round(r.kroSum(k1, "instance_reconcile_total") - r.kroSum(k0, "instance_reconcile_total")))
	p.ReconcileErrors = int(math.Round(r.kroSum(k1, "instance_reconcile_errors_total") - r.kroSum(k0, "instance_reconcile_errors_total")))
	for _, x := range delta(k0, k1, "dynamic_controller_requeue_total") {
		if r.ours(x.Labels["gvr"]) {
			p.Requeues[x.Labels["type"]] += int(math.Round(x.Value))
		}
	}
	for _, v := range verb.All {
		p.APICalls[v] = 0
	}
	for q, c := range kroRequests(s0, s1, own0, own1) {
		v, ok := simVerb(q)
		if !ok || excludedRequest(q) || c == 0 {
			continue
		}
		if p.APICallsByResource[q.Resource] == nil {
			p.APICallsByResource[q.Resource] = map[verb.Verb]int{}
		}
		p.APICallsByResource[q.Resource][v] += c
		p.APICalls[v] += c
	}
	return p
}

// kroRequests are the server's requests between two scrapes minus krosim's own.
func kroRequests(s0, s1 *scrape, own0, own1 map[request]int) map[request]int {
	out := map[request]int{}
	for _, x := range delta(s0, s1, "apiserver_request_total") {
		l := x.Labels
		q := request{Verb: l["verb"], Group: l["group"], Resource: l["resource"], Subresource: l["subresource"], Scope: l["scope"]}
		out[q] += int(math.Round(x.Value))
	}
	for q, c := range subtract(own1, own0) {
		out[q] -= c
	}
	return out
}

// change changes an instance's spec as the simulation's workload does
// (workload.Change), reading it first and retrying on a conflict with kro's
// own writes, and records the generation kro must report Ready for.
func (r *runner) change(ctx context.Context, gvr schema.GroupVersionResource, inst *unstructured.Unstructured, g *model.RGD) error {
	client := r.dyn.Resource(gvr).Namespace(inst.GetNamespace())
	for attempt := 0; ; attempt++ {
		cur, err := client.Get(ctx, inst.GetName(), metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("reading %s/%s: %w", inst.GetNamespace(), inst.GetName(), err)
		}
		out, err := client.Update(ctx, workload.Change(g, cur), metav1.UpdateOptions{})
		if apierrors.IsConflict(err) && attempt < 10 {
			continue
		}
		if err != nil {
			return fmt.Errorf("changing %s/%s: %w", inst.GetNamespace(), inst.GetName(), err)
		}
		if out.GetGeneration() == cur.GetGeneration() {
			return fmt.Errorf("changing %s/%s left its generation at %d: the RGD's schema has no field workload.Change can change", inst.GetNamespace(), inst.GetName(), cur.GetGeneration())
		}
		r.tracker.specChanged(key(inst), out.GetGeneration())
		return nil
	}
}

// excludedRequest says which requests are not kro's reconciles: watches
// and the informers' cluster-wide LISTs (kro's own LISTs are namespaced).
func excludedRequest(q request) bool {
	return q.Verb == "WATCH" || (q.Verb == "LIST" && q.Scope == "cluster")
}

func (r *runner) excluded(s0, s1 *scrape, own0, own1 map[request]int) (excl, own map[string]map[string]int) {
	excl, own = map[string]map[string]int{}, map[string]map[string]int{}
	add := func(m map[string]map[string]int, q request, c int) {
		if c == 0 {
			return
		}
		if m[q.Resource] == nil {
			m[q.Resource] = map[string]int{}
		}
		m[q.Resource][q.Verb] += c
	}
	for q, c := range kroRequests(s0, s1, own0, own1) {
		if excludedRequest(q) {
			add(excl, q, c)
		} else if _, ok := simVerb(q); !ok {
			add(excl, q, c)
		}
		if c < 0 {
			r.notes = append(r.notes, fmt.Sprintf("krosim counted more %s %s requests than the server (%d): the server's metrics missed some", q.Verb, q.Resource, -c))
		}
	}
	for q, c := range subtract(own1, own0) {
		add(own, q, c)
	}
	return excl, own
}

func subtract(a, b map[request]int) map[request]int {
	out := map[request]int{}
	for q, c := range a {
		if d := c - b[q]; d != 0 {
			out[q] = d
		}
	}
	return out
}

// readDocs reads every YAML document of a file.
func readDocs(file string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(obj) > 0 {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

func conditionTrue(obj *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}

func establishedAt(crd *unstructured.Unstructured) time.Time {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" {
			s, _ := m["lastTransitionTime"].(string)
			t, _ := time.Parse(time.RFC3339, s)
			return t
		}
	}
	return time.Time{}
}

func objOrEmpty(o *unstructured.Unstructured) *unstructured.Unstructured {
	if o == nil {
		return &unstructured.Unstructured{Object: map[string]any{}}
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func key(o *unstructured.Unstructured) string { return o.GetNamespace() + "/" + o.GetName() }

func round(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// percentiles as sim computes them (empirical quantiles).
func percentiles(xs []float64) sim.Percentiles {
	if len(xs) == 0 {
		return sim.Percentiles{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 { return round(stat.Quantile(p, stat.Empirical, s, nil)) }
	return sim.Percentiles{P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: round(s[len(s)-1])}
}
