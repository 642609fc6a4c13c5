package kro

import (
	"fmt"
	"sort"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/queue"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/target"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Labels and finalizer kro puts on what it manages.
const (
	LabelOwned        = "kro.run/owned"
	LabelInstance     = api.IndexLabel // kro.run/instance-name
	LabelInstanceNS   = "kro.run/instance-namespace"
	LabelInstanceID   = "kro.run/instance-id"
	LabelNode         = "kro.run/node-id"
	LabelRGD          = "kro.run/resource-graph-definition-name"
	LabelCollectionIx = "kro.run/collection-index"
	Finalizer         = "kro.run/finalizer"
)

// Graph is an RGD as the controller uses it.
type Graph struct {
	RGD       *model.RGD
	GVR       schema.GroupVersionResource // of its instances
	gvrs      []schema.GroupVersionResource
	childGVRs []schema.GroupVersionResource // distinct, in topological order
	// deleteWave is each resource's deletion wave by ID: kro's apply order,
	// reverse topological layers, so wave 0 holds what nothing depends on
	// and goes first.
	deleteWave map[string]int
}

// Instance is the controller's view of one instance, for results.
type Instance struct {
	Key        api.Key
	Graph      *Graph
	Created    time.Duration
	Ready      time.Duration // when kro first wrote state ACTIVE
	IsReady    bool
	Deleting   time.Duration // when deletion was requested
	Gone       time.Duration // when the instance object disappeared
	IsGone     bool
	Reconciles int
	Failed     bool // dropped after the retry limit
	LastErr    string
	// Churn: when the workload changed the spec, and when kro finished reconciling it.
	UpdatedAt, UpdateReady time.Duration
	UpdateDone             bool
	// How the create phase ended, recorded by the workload when it ends.
	CreateFailed bool
	CreateErr    string

	// The children whose events reach this instance: requested in the
	// reconcile in progress, and committed by the last one (kro's watch coordinator).
	watchCur, watchPrev map[watchReq]bool
}

// watchReq is one watch an instance asked kro's coordinator for: a child by
// name, or a collection's items by node.
type watchReq struct {
	gvr        schema.GroupVersionResource
	ns, name   string
	node       string
	collection bool
}

// Stats are the controller's counters.
type Stats struct {
	Reconciles         int
	ReconcileDurations []time.Duration
	ReconcileErrors    int
	Requeues           map[string]int // requeue, requeue_after, rate_limited, no_requeue
	Evals              int
	EvalDurations      []time.Duration
	CompileTime        time.Duration // RGD controller CPU for graph builds
}

// Controller is kro's dynamic controller for a set of RGDs.
type Controller struct {
	k      *kernel.Kernel
	t      *target.Target
	srv    *api.Server
	client *api.Client
	cpu    *kernel.CPU
	queue  *queue.Queue[api.Key]

	graphs map[schema.GroupVersionResource]*Graph
	byName map[string]*Graph
	// watchers routes child events: the instances watching each request.
	watchers  map[watchReq]map[api.Key]bool
	Instances map[api.Key]*Instance
	Threads   []*span.Thread         // one per worker
	inflight  map[*span.Thread]*work // the reconcile each busy worker is in
	RGDThread span.Thread
	Rec       *span.Recorder
	Stats     Stats
	// Instances whose create (or delete) phase is settled: ready (gone) or
	// failed for good. Kept as states change, so a run can stop cheaply.
	CreateSettled, DeleteSettled int
	// UpdatePending counts changed instances kro has not finished reconciling.
	UpdatePending int
	// Meter, when set, measures real host time for --cpu-cost=measured; it
	// returns a function that reports the elapsed time since the call.
	Meter func() func() time.Duration
	// HostLabel, when set, wraps real host work by phase (eval, api,
	// traversal) so a host CPU profile can attribute it; it must call f.
	HostLabel func(phase string, f func())
}

// host runs f under the host label for phase, if labeling is on.
func (c *Controller) host(phase string, f func()) {
	if c.HostLabel == nil {
		f()
		return
	}
	c.HostLabel(phase, f)
}

// New returns a controller for the given graphs; call Start to run it.
func New(k *kernel.Kernel, t *target.Target, srv *api.Server, cpu *kernel.CPU, rgds []*model.RGD) *Controller {
	c := &Controller{
		k: k, t: t, srv: srv, cpu: cpu,
		client:    srv.NewClient(t.Client.QPS, t.Client.Burst),
		graphs:    map[schema.GroupVersionResource]*Graph{},
		byName:    map[string]*Graph{},
		watchers:  map[watchReq]map[api.Key]bool{},
		Instances: map[api.Key]*Instance{},
		inflight:  map[*span.Thread]*work{},
		Rec:       span.NewRecorder(),
		Stats:     Stats{Requeues: map[string]int{}},
	}
	rl := queue.NewRateLimiter[api.Key](k, t.Controller.RetryMinDelay.D(), t.Controller.RetryMaxDelay.D(),
		t.Controller.QueueQPS, t.Controller.QueueBurst)
	c.queue = queue.New(k, rl)
	for _, g := range rgds {
		gr := &Graph{RGD: g, GVR: InstanceGVR(g)}
		seen := map[schema.GroupVersionResource]bool{}
		gr.gvrs = make([]schema.GroupVersionResource, len(g.Resources))
		for _, r := range g.Resources {
			gr.gvrs[r.Index] = srv.Store.GVR(r.APIVersion, r.Kind)
		}
		for _, i := range g.Order {
			r := g.Resources[i]
			if gv := gr.gvrs[i]; !seen[gv] && !r.External {
				seen[gv] = true
				gr.childGVRs = append(gr.childGVRs, gv)
			}
		}
		gr.deleteWave = deleteWaves(g)
		c.byName[g.Name] = gr
	}
	srv.Store.OnWrite(c.watch)
	return c
}

// InstanceGVR is the resource of an RGD's instances.
func InstanceGVR(g *model.RGD) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: g.Group, Version: g.APIVersion, Resource: api.Plural(g.Kind)}
}

// Client is kro's API client, for its counters.
func (c *Controller) Client() *api.Client { return c.client }

// Queue is the controller's workqueue, for its counters.
func (c *Controller) Queue() *queue.Queue[api.Key] { return c.queue }

// IsInstance reports whether key is an instance of one of the controller's RGDs.
func (c *Controller) IsInstance(key api.Key) bool {
	for _, g := range c.byName {
		if g.GVR == key.GVR {
			return true
		}
	}
	return false
}

// Start runs the RGD controller (which compiles each graph and then
// registers it) and the instance workers. ready is called once every graph is registered.
func (c *Controller) Start(ready func()) {
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	c.k.Go("rgd-controller", func(p *kernel.Proc) {
		c.RGDThread.Start(c.k.Now(), span.Idle)
		for _, n := range names {
			c.buildGraph(p, c.byName[n])
		}
		c.RGDThread.Switch(c.k.Now(), span.Idle)
		ready()
	})
	for i := 0; i < c.t.Controller.Workers; i++ {
		th := &span.Thread{}
		c.Threads = append(c.Threads, th)
		c.k.Go(fmt.Sprintf("worker-%d", i), func(p *kernel.Proc) { c.worker(p, th) })
	}
}

// buildGraph charges the CPU of compiling an RGD's expressions (done for real
// when the model loaded it) and registers the graph.
func (c *Controller) buildGraph(p *kernel.Proc, g *Graph) {
	var d time.Duration
	cost := c.t.Cost
	bytes := 0
	for _, r := range g.RGD.Resources {
		for _, e := range r.Exprs() {
			bytes += len(e.Source)
		}
	}
	for _, v := range g.RGD.Status {
		bytes += len(v.Expr.Source)
	}
	if cost.Measured {
		d = g.RGD.CompileTime
	} else {
		d = time.Duration(float64(g.RGD.Exprs)*cost.CompileBaseNS + float64(bytes)*cost.CompileByteNS)
	}
	c.RGDThread.Switch(c.k.Now(), span.CPUWait)
	wait := c.cpu.Acquire(p)
	c.RGDThread.Switch(c.k.Now(), span.Compile)
	p.Sleep(d)
	c.cpu.Release(d)
	c.RGDThread.Switch(c.k.Now(), span.Idle)
	c.Stats.CompileTime += d
	c.Rec.Add(span.Stack{Thread: "rgd-controller", RGD: g.RGD.Name, Phase: span.CPUWait, Detail: span.Detail{Step: "graph build"}}, wait)
	c.Rec.Add(span.Stack{Thread: "rgd-controller", RGD: g.RGD.Name, Phase: span.Compile, Detail: span.Detail{Step: "graph build"}}, d)
	c.graphs[g.GVR] = g
}

// Track registers an instance the workload created, for results.
func (c *Controller) Track(key api.Key, g *model.RGD) *Instance {
	in := &Instance{Key: key, Graph: c.byName[g.Name], Created: c.k.Now()}
	c.Instances[key] = in
	return in
}

// deleteWaves maps each resource to its deletion wave: kro's apply order,
// reverse topological layers, as the model computes them (RGD.Waves).
func deleteWaves(g *model.RGD) map[string]int {
	waves := map[string]int{}
	for w, ids := range g.Waves {
		for _, i := range ids {
			waves[g.Resources[i].ID] = w
		}
	}
	return waves
}

// watch routes store writes to the queue after the watch delay, as kro's
// informers do: instance updates only when the generation moved; child
// events to the instances whose last or current reconcile asked to watch
// that child, as the coordinator finds them when the event arrives.
func (c *Controller) watch(e api.Event) {
	if c.isInstanceGVR(e.Key.GVR) {
		if e.Type == "MODIFIED" && e.Generation == e.OldGeneration {
			return
		}
		if e.Type == "DELETED" {
			if in := c.Instances[e.Key]; in != nil && !in.IsGone {
				c.change(in, func() { in.IsGone, in.Gone = true, c.k.Now() })
			}
		}
		key := e.Key
		c.k.After(c.t.Server.WatchDelay.D(), func() { c.queue.Add(key) })
		return
	}
	if c.t.Controller.IgnoreChildEvents {
		return
	}
	byName := watchReq{gvr: e.Key.GVR, ns: e.Key.Namespace, name: e.Key.Name}
	var byNode watchReq
	if node := e.Labels[LabelNode]; node != "" {
		byNode = watchReq{gvr: e.Key.GVR, ns: e.Key.Namespace, node: node, collection: true}
	}
	inst := api.Key{Namespace: e.Labels[LabelInstanceNS], Name: e.Labels[LabelInstance]}
	c.k.After(c.t.Server.WatchDelay.D(), func() {
		var keys []api.Key
		for k := range c.watchers[byName] {
			keys = append(keys, k)
		}
		for k := range c.watchers[byNode] {
			if k.Namespace == inst.Namespace && k.Name == inst.Name {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			c.queue.Add(k)
		}
	})
}

// watchChild registers a watch request of the reconcile in progress; it
// routes events at once.
func (c *Controller) watchChild(in *Instance, req watchReq) {
	if req.collection {
		req.name = ""
	} else {
		req.node = ""
	}
	if in.watchCur == nil {
		in.watchCur = map[watchReq]bool{}
	}
	in.watchCur[req] = true
	if c.watchers[req] == nil {
		c.watchers[req] = map[api.Key]bool{}
	}
	c.watchers[req][in.Key] = true
}

// doneWatches ends a reconcile's watch cycle, as the coordinator's Done:
// committed, the requests of the last reconcile not made again are dropped;
// not committed (a failed reconcile), the new requests are.
func (c *Controller) doneWatches(in *Instance, commit bool) {
	if in == nil {
		return
	}
	drop := in.watchPrev
	keep := in.watchCur
	if !commit {
		drop, keep = in.watchCur, in.watchPrev
	}
	for req := range drop {
		if !keep[req] {
			c.unwatch(req, in.Key)
		}
	}
	in.watchPrev, in.watchCur = keep, nil
}

// removeWatches drops every watch of an instance (before kro removes its finalizer).
func (c *Controller) removeWatches(in *Instance) {
	for _, set := range []map[watchReq]bool{in.watchCur, in.watchPrev} {
		for req := range set {
			c.unwatch(req, in.Key)
		}
	}
	in.watchCur, in.watchPrev = nil, nil
}

func (c *Controller) unwatch(req watchReq, key api.Key) {
	delete(c.watchers[req], key)
	if len(c.watchers[req]) == 0 {
		delete(c.watchers, req)
	}
}

func (c *Controller) isInstanceGVR(gvr schema.GroupVersionResource) bool {
	for _, g := range c.byName {
		if g.GVR == gvr {
			return true
		}
	}
	return false
}

// change applies f to an instance's state, keeping the settled counts.
func (c *Controller) change(in *Instance, f func()) {
	b := func(x bool) int {
		if x {
			return 1
		}
		return 0
	}
	pending := func() bool { return in.UpdatedAt > 0 && !in.UpdateDone && !in.Failed }
	c.CreateSettled -= b(in.IsReady || in.Failed)
	c.DeleteSettled -= b(in.IsGone || in.Failed)
	c.UpdatePending -= b(pending())
	f()
	c.CreateSettled += b(in.IsReady || in.Failed)
	c.DeleteSettled += b(in.IsGone || in.Failed)
	c.UpdatePending += b(pending())
}

// Updated records that the workload changed an instance's spec now.
func (c *Controller) Updated(in *Instance) {
	c.change(in, func() { in.UpdatedAt, in.UpdateDone = c.k.Now(), false })
}

// setFailed records whether an instance is dropped after the retry limit.
func (c *Controller) setFailed(in *Instance, failed bool) {
	if in != nil && in.Failed != failed {
		c.change(in, func() { in.Failed = failed })
	}
}

// Finish closes the accounting of every thread at the end of a run.
func (c *Controller) Finish() {
	now := c.k.Now()
	for _, th := range c.Threads {
		// A reconcile cut short by the end of the run: its open phase goes
		// into the profile too, so the stacks add up to the threads.
		if w := c.inflight[th]; w != nil {
			if ph, d := th.Open(now); ph != span.Idle && d > 0 {
				s := w.stack
				s.Phase, s.Detail = ph, span.Detail{Step: "in flight when the run ended"}
				c.Rec.Add(s, d)
			}
		}
		th.Finish(now)
	}
	c.RGDThread.Finish(now)
	c.queue.Finish()
}
