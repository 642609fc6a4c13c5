package kro

import (
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/target"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	// positions is each resource's place in the topological order by ID:
	// prune deletes node by node, the last first.
	positions map[string]int
	layouts   []*layout // by resource index
	// groupResources names each resource of gvrs as the ApplySet
	// annotation does ("deployments.apps").
	groupResources map[schema.GroupVersionResource]string
	// childrenNamed are the childGVRs by the name groupResource gives
	// them: what an ApplySet annotation's names stand for (see
	// annotatedKinds), looked up rather than compared with each.
	childrenNamed map[string][]schema.GroupVersionResource
	// The values of kro's labels that name the RGD and each resource (by
	// index), boxed once: a child's labels hold them (boxing a string
	// allocates).
	rgdLabel   any
	nodeLabels []any
}

// position is the topological place of the resource id, as kro's prune
// orders it: one no longer in the graph comes after every other.
func (g *Graph) position(id string) int {
	if pos, ok := g.positions[id]; ok {
		return pos
	}
	return len(g.RGD.Order)
}

// groupResource is gvr's group and resource as the ApplySet annotation
// names it.
func (g *Graph) groupResource(gvr schema.GroupVersionResource) string {
	if s, ok := g.groupResources[gvr]; ok {
		return s
	}
	return gvr.GroupResource().String()
}

// InstanceGVR is the resource of an RGD's instances.
func InstanceGVR(g *model.RGD) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: g.Group, Version: g.APIVersion, Resource: api.Plural(g.Kind)}
}

// newGraph prepares an RGD for the controller: the resources of its
// children and the deletion wave of each.
func newGraph(store *api.Store, g *model.RGD) *Graph {
	gr := &Graph{RGD: g, GVR: InstanceGVR(g)}
	seen := map[schema.GroupVersionResource]bool{}
	gr.gvrs = make([]schema.GroupVersionResource, len(g.Resources))
	gr.layouts = make([]*layout, len(g.Resources))
	gr.groupResources = map[schema.GroupVersionResource]string{}
	gr.rgdLabel, gr.nodeLabels = g.Name, make([]any, len(g.Resources))
	for _, r := range g.Resources {
		gr.nodeLabels[r.Index] = r.ID
		gr.gvrs[r.Index] = store.GVR(r.APIVersion, r.Kind)
		gr.groupResources[gr.gvrs[r.Index]] = gr.gvrs[r.Index].GroupResource().String()
		gr.layouts[r.Index] = newLayout(r)
	}
	for _, i := range g.Order {
		r := g.Resources[i]
		if gv := gr.gvrs[i]; !seen[gv] && !r.External {
			seen[gv] = true
			gr.childGVRs = append(gr.childGVRs, gv)
		}
	}
	gr.childrenNamed = map[string][]schema.GroupVersionResource{}
	for _, gv := range gr.childGVRs {
		name := gr.groupResource(gv)
		gr.childrenNamed[name] = append(gr.childrenNamed[name], gv)
	}
	gr.deleteWave = deleteWaves(g)
	gr.positions = make(map[string]int, len(g.Order))
	for pos, i := range g.Order {
		gr.positions[g.Resources[i].ID] = pos
	}
	return gr
}

// CompileCost is the RGD controller's CPU for building an RGD's graph on
// the target: compiling its expressions (done for real when the model
// loaded it) by the cost model, or as measured on this host.
func CompileCost(t *target.Target, g *model.RGD) time.Duration {
	if t.Cost.Measured {
		return g.CompileTime
	}
	return t.Cost.Compile(g.Exprs, g.SourceBytes())
}

// buildGraph charges the CPU of building a graph (kro's RGD controller) and
// registers it: its instances are reconciled from then on.
func (c *Controller) buildGraph(p *kernel.Proc, g *Graph) {
	d := CompileCost(c.t, g.RGD)
	c.rgdThread.Switch(c.k.Now(), span.CPUWait)
	wait := c.cpu.Acquire(p)
	c.rgdThread.Switch(c.k.Now(), span.Compile)
	p.Sleep(d)
	c.cpu.Release(d)
	c.rgdThread.Switch(c.k.Now(), span.Idle)
	c.stats.CompileTime += d
	build := span.Detail{Step: "graph build"}
	c.rec.Add(&span.Stack{Thread: "rgd-controller", RGD: g.RGD.Name, Phase: span.CPUWait, Detail: build}, wait)
	c.rec.Add(&span.Stack{Thread: "rgd-controller", RGD: g.RGD.Name, Phase: span.Compile, Detail: build}, d)
	c.graphs[g.GVR] = g
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
