package model

import (
	"container/heap"
	"fmt"
	"sort"
	"strings"

	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"
)

// CycleError reports that resources depend on each other in a circle.
type CycleError struct {
	Cycle []int    // resource indexes along the cycle; the first is repeated at the end
	IDs   []string // their ids
}

func (e *CycleError) Error() string {
	return "graph contains a cycle: " + strings.Join(e.IDs, " -> ")
}

// buildGraph builds g's dependency DAG from each resource's Deps, orders it
// as kro does and derives levels and deletion waves.
func buildGraph(g *RGD) error {
	dg := simple.NewDirectedGraph()
	for _, r := range g.Resources {
		dg.AddNode(simple.Node(r.Index))
	}
	for _, r := range g.Resources {
		for _, d := range r.Deps {
			dg.SetEdge(dg.NewEdge(simple.Node(d), simple.Node(r.Index)))
		}
	}
	g.Graph = dg
	order, err := Order(dg)
	if err != nil {
		return err
	}
	g.Order = order
	for _, r := range g.Resources {
		r.Dependents = r.Dependents[:0]
	}
	for _, i := range order {
		r := g.Resources[i]
		for _, d := range r.Deps {
			dep := g.Resources[d]
			if dep.Level+1 > r.Level {
				r.Level = dep.Level + 1
			}
			dep.Dependents = append(dep.Dependents, i)
		}
	}
	for _, r := range g.Resources {
		sort.Ints(r.Dependents)
	}
	g.Waves = Waves(g.Resources, g.Order)
	return nil
}

// Order sorts a DAG whose node IDs are YAML indexes the way kro does:
// Kahn's algorithm, taking the ready node with the lowest index first. When
// the graph has a cycle it returns a *CycleError naming one.
func Order(g graph.Directed) ([]int, error) {
	nodes := graph.NodesOf(g.Nodes())
	indeg := make(map[int64]int, len(nodes))
	ready := &minHeap{}
	for _, n := range nodes {
		d := g.To(n.ID()).Len()
		indeg[n.ID()] = d
		if d == 0 {
			heap.Push(ready, n.ID())
		}
	}
	order := make([]int, 0, len(nodes))
	for ready.Len() > 0 {
		id := heap.Pop(ready).(int64)
		order = append(order, int(id))
		to := g.From(id)
		for to.Next() {
			nid := to.Node().ID()
			indeg[nid]--
			if indeg[nid] == 0 {
				heap.Push(ready, nid)
			}
		}
	}
	if len(order) < len(nodes) {
		return nil, findCycle(g)
	}
	return order, nil
}

// findCycle returns a cycle through the lowest-index node of the first
// strongly connected component that has one, in dependency order: each
// resource is followed by one it depends on.
func findCycle(g graph.Directed) *CycleError {
	var best []graph.Node
	for _, scc := range topo.TarjanSCC(g) {
		if len(scc) < 2 {
			continue
		}
		if best == nil || minID(scc) < minID(best) {
			best = scc
		}
	}
	if best == nil {
		return &CycleError{}
	}
	in := map[int64]bool{}
	for _, n := range best {
		in[n.ID()] = true
	}
	start := minID(best)
	// Depth-first from start, trying the lowest successor first, until we come back.
	var path []int
	visited := map[int64]bool{}
	var dfs func(id int64) bool
	dfs = func(id int64) bool {
		path = append(path, int(id))
		visited[id] = true
		succ := graph.NodesOf(g.To(id)) // the resources id depends on
		sort.Slice(succ, func(i, j int) bool { return succ[i].ID() < succ[j].ID() })
		for _, s := range succ {
			if s.ID() == start {
				path = append(path, int(start))
				return true
			}
			if in[s.ID()] && !visited[s.ID()] && dfs(s.ID()) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	dfs(start)
	return &CycleError{Cycle: path}
}

func minID(ns []graph.Node) int64 {
	m := ns[0].ID()
	for _, n := range ns[1:] {
		m = min(m, n.ID())
	}
	return m
}

// Waves groups resources for deletion as kro does (reverse topological
// layers): a resource's wave is the length of the longest dependency path
// from it down to a resource nothing depends on, and wave 0 goes first, so
// nothing is deleted before the resources that depend on it. Dependents must
// be set.
func Waves(rs []*Resource, order []int) [][]int {
	height := make([]int, len(rs))
	top := -1
	for k := len(order) - 1; k >= 0; k-- {
		r := rs[order[k]]
		for _, d := range r.Dependents {
			height[r.Index] = max(height[r.Index], height[d]+1)
		}
		top = max(top, height[r.Index])
	}
	waves := make([][]int, top+1)
	for _, r := range rs {
		waves[height[r.Index]] = append(waves[height[r.Index]], r.Index)
	}
	return waves
}

type minHeap []int64

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

var _ = fmt.Sprint
