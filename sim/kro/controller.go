package kro

import (
	"context"
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

// Controller is kro's dynamic controller for a set of RGDs: the RGD
// controller that builds each graph, and the instance workers over one
// shared workqueue.
type Controller struct {
	k      *kernel.Kernel
	t      *target.Target
	srv    *api.Server
	client *api.Client
	cpu    *kernel.CPU
	queue  *queue.Queue[instKey]
	opts   Options

	graphs map[schema.GroupVersionResource]*Graph // registered (built)
	byName map[string]*Graph
	// watchers routes child events: the instances watching each request.
	watchers routes
	// The resources and namespaces of watch requests and instance keys, numbered.
	gvrNums   api.Numbers[schema.GroupVersionResource]
	nsNums    api.Numbers[string]
	instances map[instKey]*Instance
	tracked   []*Instance            // the workload's instances, in the order tracked
	threads   []*span.Thread         // one per worker
	inflight  map[*span.Thread]*work // the reconcile each busy worker is in
	rgdThread span.Thread
	rec       *span.Recorder
	stats     Stats
	progress  Progress
	// overLimit holds evaluations that passed the cost limit, by expression
	// source and then by their inputs: the outcome is deterministic, so a
	// retry reuses it (and charges the same cost) instead of spending the
	// host another million units.
	overLimit map[string]map[string]overLimit
	exprs     map[*model.Expr]exprInfo // see info
	slots     map[string]int           // memo slots by source
}

// Options are the controller's host-side hooks; they never change its
// results unless Meter is set.
type Options struct {
	// Meter, when set, measures real host time for --cpu-cost=measured; it
	// returns a function that reports the elapsed time since the call.
	Meter func() func() time.Duration
	// HostLabels, when set, labels real host work by phase (eval, api,
	// traversal) so a host CPU profile can attribute it.
	HostLabels HostLabels
	// Context, when set, is every evaluation's: cancelling it (a host wall
	// limit) interrupts a long comprehension, which fails its reconcile. A
	// cancelled run is incomplete, so this never changes a complete result.
	Context context.Context
	// Reconciled, when set, is told of every reconcile as it ends: the
	// instance, when it started and ended. It must not change the
	// simulation; a reconcile-by-reconcile comparison with kro's log uses it.
	Reconciled func(key api.Key, start, end time.Duration)
}

// New returns a controller for the given graphs; call Start to run it.
func New(k *kernel.Kernel, t *target.Target, srv *api.Server, cpu *kernel.CPU, rgds []*model.RGD, opts Options) *Controller {
	c := &Controller{
		k: k, t: t, srv: srv, cpu: cpu, opts: opts,
		client:    srv.NewClient(t.Client.QPS, t.Client.Burst),
		graphs:    map[schema.GroupVersionResource]*Graph{},
		byName:    map[string]*Graph{},
		watchers:  newRoutes(),
		instances: map[instKey]*Instance{},
		inflight:  map[*span.Thread]*work{},
		rec:       span.NewRecorder(),
		stats:     Stats{Requeues: map[string]int{}},
		exprs:     map[*model.Expr]exprInfo{},
		slots:     map[string]int{},
	}
	rl := queue.NewRateLimiter[instKey](k, t.Controller.RetryMinDelay.D(), t.Controller.RetryMaxDelay.D(),
		t.Controller.QueueQPS, t.Controller.QueueBurst)
	c.queue = queue.New(k, rl)
	for _, g := range rgds {
		c.byName[g.Name] = newGraph(srv.Store, g)
	}
	srv.Store.OnWrite(c.watch)
	return c
}

// HostLabels labels regions of real host work, which may nest. Regions
// are entered and left around the work rather than wrapping it in a
// closure: a closure would cost the hot paths an allocation for every
// variable it writes, labeled or not.
type HostLabels interface {
	// Enter begins a region of phase and returns the region it was in.
	Enter(phase string) (outer string)
	// Leave ends the region entered last, back in outer.
	Leave(outer string)
}

// enter begins a host region of phase, if labeling is on; leave ends it.
func (c *Controller) enter(phase string) string {
	if c.opts.HostLabels == nil {
		return ""
	}
	return c.opts.HostLabels.Enter(phase)
}

func (c *Controller) leave(outer string) {
	if c.opts.HostLabels != nil {
		c.opts.HostLabels.Leave(outer)
	}
}

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
// registers it) and the instance workers. onRegistered is called once every
// graph is registered.
func (c *Controller) Start(onRegistered func()) {
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	c.k.Go("rgd-controller", func(p *kernel.Proc) {
		c.rgdThread.Start(c.k.Now(), span.Idle)
		for _, n := range names {
			c.buildGraph(p, c.byName[n])
		}
		c.rgdThread.Switch(c.k.Now(), span.Idle)
		onRegistered()
	})
	for i := 0; i < c.t.Controller.Workers; i++ {
		th := &span.Thread{}
		c.threads = append(c.threads, th)
		c.k.Go(fmt.Sprintf("worker-%d", i), func(p *kernel.Proc) { c.worker(p, th) })
	}
}

// Track registers an instance the workload is creating now, of rgd (one of
// the controller's), for results.
func (c *Controller) Track(key api.Key, rgd *model.RGD) *Instance {
	in := &Instance{rec: InstanceRecord{Key: key, RGD: rgd.Name, Created: c.k.Now()}, graph: c.byName[rgd.Name]}
	c.instances[c.instKey(key)] = in
	c.tracked = append(c.tracked, in)
	return in
}

// Finish closes the accounting of every thread at the end of a run.
func (c *Controller) Finish() {
	now := c.k.Now()
	for _, th := range c.threads {
		// A reconcile cut short by the end of the run: its open phase goes
		// into the profile too, so the stacks add up to the threads.
		if w := c.inflight[th]; w != nil {
			if ph, d := th.Open(now); ph != span.Idle && d > 0 {
				s := w.stack
				s.Phase, s.Detail = ph, span.Detail{Step: "in flight when the run ended"}
				c.rec.Add(&s, d)
			}
		}
		th.Finish(now)
	}
	c.rgdThread.Finish(now)
	c.queue.Finish()
}
