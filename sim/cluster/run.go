package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config is what a real run needs besides the RGDs.
type Config struct {
	Kubeconfig Kubeconfig
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
	// PIDDir holds a PID file per process of the cluster running on this
	// host (the harness's state dir's pids/), whose CPU time counts as the
	// run's own and not as other load (results.json real.host).
	PIDDir string
	// Standins is the target whose readiness a stand-in kind controller
	// (StartStandins) uses beside kro for the run, seeded with Seed, when
	// it covers a stand-in kind the RGDs use; nil runs none, and stand-ins
	// are then ready when they exist.
	Standins *target.Target
}

var (
	rgdGVR = schema.GroupVersionResource{Group: "kro.run", Version: "v1alpha1", Resource: "resourcegraphdefinitions"}
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// runner is one real run in progress; it is the workload's cluster.
type runner struct {
	ctx    context.Context
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

	phases    []result.Phase
	first     mark // before the create phase
	last      mark // where the last phase ended
	idleAt    time.Time
	n         int // instances in the plan
	updating  int // instances whose spec the update phase changed
	timedOut  *timeout
	host      hostSample // when the create phase started
	probe     *probe     // the host's speed since then (nil where it cannot be read)
	hostAt    time.Time
	standins  *Standins // nil: none runs
	externals externals
}

// timeout is the phase that ran out of time, and how far it got.
type timeout struct {
	phase workload.Phase
	took  time.Duration
}

var _ workload.Cluster = (*runner)(nil)

// Run applies the RGDs to the server, waits for kro to accept them, then
// runs the workload's plan (the same instances, arrivals and spec changes
// as a simulation with the same seed) through the workload's driver: it
// waits until kro reports every instance ready (for its new generation
// after a change, and gone after a delete), then until kro is idle, phase
// by phase, so that every reconcile and request a phase caused is counted.
// kro is observed through its own /metrics and the API server's, whose raw
// scrapes are returned by file name (kro-0.prom, apiserver-0.prom, ...).
func Run(ctx context.Context, cfg Config, rgds []*model.RGD) (*result.Result, map[string][]byte, error) {
	plan, err := workload.NewPlan(cfg.Workload, rgds, cfg.Seed)
	if err != nil {
		return nil, nil, err
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
	r := &runner{ctx: ctx, cfg: cfg, rgds: rgds, own: newCounter(), log: cfg.Log, scrapes: map[string][]byte{}}
	if r.log == nil {
		r.log = io.Discard
	}
	if err := r.connect(); err != nil {
		return nil, nil, err
	}
	for _, g := range rgds {
		r.gvrs = append(r.gvrs, schema.GroupVersionResource{Group: g.Group, Version: g.APIVersion})
	}
	if err := r.applyRGDs(ctx); err != nil {
		return nil, nil, err
	}
	if err := r.startStandins(ctx); err != nil {
		return nil, nil, err
	}
	if r.standins != nil {
		defer r.standins.Stop()
	}
	if r.tracker, err = r.watch(ctx); err != nil {
		return nil, nil, err
	}
	defer r.tracker.stop()
	if r.first.s, r.first.k, err = r.scrape(ctx, 0); err != nil {
		return nil, nil, err
	}
	r.first.own, r.first.scrapes, r.first.cpu = r.own.snapshot(), 1, ProcessCPU(r.cfg.PIDDir)
	r.host, r.hostAt = sampleHost(r.cfg.PIDDir), time.Now()
	r.probe = startProbe()
	defer r.probe.halt()
	r.last = r.first

	drv := workload.NewDriver(plan, r)
	// Every call of a real cluster blocks until it has its answer, so the
	// driver never has to wait between steps.
	err = drv.Run(ctx.Err)
	if err != nil && !errors.Is(err, workload.ErrTimedOut) {
		return nil, nil, err
	}
	if to := r.timedOut; to != nil {
		// Count what the phase that ran out of time did, as far as it got.
		if _, err := r.Idle(); err != nil {
			return nil, nil, err
		}
		if err := r.EndPhase(to.phase, to.took); err != nil {
			return nil, nil, err
		}
	}
	return r.result(plan, drv.Timeline()), r.scrapes, nil
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "krosim real: %s\n", fmt.Sprintf(format, args...))
}

func (r *runner) connect() error {
	rc, err := restConfig(r.cfg.Kubeconfig)
	if err != nil {
		return err
	}
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

// Kubeconfig says where a real cluster's client config comes from, as
// kubectl's --kubeconfig and --context do.
type Kubeconfig struct {
	// Path is a kubeconfig file. Empty: client-go's loading rules, the
	// files $KUBECONFIG lists, else ~/.kube/config.
	Path string
	// Context is the kubeconfig context to use. Empty: its current context.
	Context string
}

// RESTConfig is the client config k names, resolved by client-go's
// clientcmd as kubectl resolves it.
func (k Kubeconfig) RESTConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.Path
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: k.Context})
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", k, err)
	}
	return rc, nil
}

// String names the kubeconfig and context for messages.
func (k Kubeconfig) String() string {
	s := k.Path
	if s == "" {
		s = "from $KUBECONFIG or ~/.kube/config"
		if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
			s = env + " ($KUBECONFIG)"
		}
	}
	if k.Context != "" {
		s += ", context " + k.Context
	}
	return s
}

// restConfig is the kubeconfig's client config, for krosim's own requests.
func restConfig(k Kubeconfig) (*rest.Config, error) {
	rc, err := k.RESTConfig()
	if err != nil {
		return nil, err
	}
	// krosim's own client must never be what limits the run.
	rc.QPS, rc.Burst = 1000, 1000
	rc.UserAgent = "krosim"
	return rc, nil
}

// Dynamic is a dynamic client of the kubeconfig's cluster, for krosim's own
// requests.
func Dynamic(kubeconfig Kubeconfig) (dynamic.Interface, error) {
	rc, err := restConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	return dynamic.NewForConfig(rc)
}

// applyRGDs server-side-applies every RGD as it was loaded (from a file, a
// List in one, or standard input) and waits until kro reports each Ready
// and its instance CRD can take creates.
func (r *runner) applyRGDs(ctx context.Context) error {
	for _, g := range r.rgds {
		obj, err := g.Object()
		if err != nil {
			return err
		}
		data, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", g.File, g.Name, err)
		}
		force := true
		if _, err := r.dyn.Resource(rgdGVR).Patch(ctx, g.Name, types.ApplyPatchType, data,
			metav1.PatchOptions{FieldManager: "krosim", Force: &force}); err != nil {
			return fmt.Errorf("applying RGD %s from %s: %w", g.Name, g.File, err)
		}
		r.logf("applied RGD %s", g.Name)
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
func (r *runner) scrape(ctx context.Context, i int) (server, kro *Scrape, err error) {
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
func (r *runner) kroSum(k *Scrape, name string) float64 {
	return k.Sum(name, func(l map[string]string) bool { return r.ours(l["gvr"]) })
}

func (r *runner) ours(gvr string) bool {
	for _, g := range r.gvrs {
		if gvr == g.String() || gvr == g.Group+"/"+g.Version+"/"+g.Resource {
			return true
		}
	}
	return false
}

// instanceResource says whether resource is one of the RGDs' instances.
func (r *runner) instanceResource(resource string) bool {
	for _, g := range r.gvrs {
		if g.Resource == resource {
			return true
		}
	}
	return false
}

// mark is where a phase ended: the scrapes then, krosim's own requests so
// far, when kro went idle, and how many scrapes were taken.
type mark struct {
	s, k    *Scrape
	own     map[Request]int
	idle    time.Time
	scrapes int
	cpu     map[string]time.Duration // the measured processes' CPU time so far (ProcessCPU)
}

// phase computes what kro did between two scrapes.
func (r *runner) phase(name string, dur time.Duration, from, to mark) result.Phase {
	s0, s1, k0, k1, own0, own1, idle := from.s, to.s, from.k, to.k, from.own, to.own, to.idle
	p := result.Phase{Name: name, Seconds: result.Round(dur.Seconds()), Requeues: map[string]int{},
		APICalls: map[verb.Verb]int{}, APICallsByResource: map[string]map[verb.Verb]int{}}
	if !r.start.IsZero() && !idle.IsZero() && name != "total" {
		p.IdleSeconds = result.Round(idle.Sub(r.start).Seconds())
	}
	p.Reconciles = int(math.Round(r.kroSum(k1, "instance_reconcile_total") - r.kroSum(k0, "instance_reconcile_total")))
	for name, d := range to.cpu {
		if was, ok := from.cpu[name]; ok && d >= was {
			if p.CPUSeconds == nil {
				p.CPUSeconds = map[string]float64{}
			}
			p.CPUSeconds[name] = result.Round((d - was).Seconds())
		}
	}
	p.ReconcileErrors = int(math.Round(r.kroSum(k1, "instance_reconcile_errors_total") - r.kroSum(k0, "instance_reconcile_errors_total")))
	for _, x := range Delta(k0, k1, "dynamic_controller_requeue_total") {
		if r.ours(x.Labels["gvr"]) {
			p.Requeues[x.Labels["type"]] += int(math.Round(x.Value))
		}
	}
	for _, v := range verb.All {
		p.APICalls[v] = 0
	}
	for q, c := range kroRequests(s0, s1, own0, own1) {
		v, ok := q.KroVerb()
		if !ok || q.Excluded(r.instanceResource) || c == 0 {
			continue
		}
		if p.APICallsByResource[q.Resource] == nil {
			p.APICallsByResource[q.Resource] = map[verb.Verb]int{}
		}
		p.APICallsByResource[q.Resource][v] += c
		p.APICalls[v] += c
	}
	p.WatchCacheWaits, p.WatchCacheWaitSeconds = cacheWaits(s0, s1, p.APICallsByResource)
	return p
}

// kroRequests are the server's requests between two scrapes minus krosim's own.
func kroRequests(s0, s1 *Scrape, own0, own1 map[Request]int) map[Request]int {
	out := map[Request]int{}
	for _, x := range Delta(s0, s1, "apiserver_request_total") {
		q := RequestOf(x.Labels)
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
		at := time.Now()
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
		r.tracker.specChanged(key(inst), out.GetGeneration(), at)
		return nil
	}
}

func (r *runner) excluded(s0, s1 *Scrape, own0, own1 map[Request]int) (excl, own map[string]map[string]int) {
	excl, own = map[string]map[string]int{}, map[string]map[string]int{}
	add := func(m map[string]map[string]int, q Request, c int) {
		if c == 0 {
			return
		}
		if m[q.Resource] == nil {
			m[q.Resource] = map[string]int{}
		}
		m[q.Resource][q.Verb] += c
	}
	for q, c := range kroRequests(s0, s1, own0, own1) {
		if q.Excluded(r.instanceResource) {
			add(excl, q, c)
		} else if _, ok := q.KroVerb(); !ok {
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

func subtract(a, b map[Request]int) map[Request]int {
	out := map[Request]int{}
	for q, c := range a {
		if d := c - b[q]; d != 0 {
			out[q] = d
		}
	}
	return out
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
