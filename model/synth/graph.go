package synth

import (
	"math"
	"math/rand/v2"
	"slices"
)

// graph is a DAG over resources 0..n-1 in emission order: deps[v] lists, in
// ascending order, the resources that v references. Every edge goes from a
// lower index to a higher one, so emission order is a topological order.
type graph struct {
	deps [][]int
}

func (g graph) edges() int {
	n := 0
	for _, d := range g.deps {
		n += len(d)
	}
	return n
}

// build makes a graph of the given shape; nodes and edges have been checked
// against EdgeRange.
func build(shape Shape, nodes, edges int, rng *rand.Rand) graph {
	deps := make([][]int, nodes)
	switch shape {
	case Chain:
		for v := 1; v < nodes; v++ {
			deps[v] = []int{v - 1}
		}
	case Fanout:
		for v := 1; v < nodes; v++ {
			deps[v] = []int{0}
		}
	case Fanin:
		deps[nodes-1] = seq(0, nodes-1)
	case Diamond:
		for v := 1; v < nodes-1; v++ {
			deps[v] = []int{0}
		}
		deps[nodes-1] = seq(1, nodes-1)
	case Layered:
		deps = layered(nodes, edges, rng)
	}
	return graph{deps: deps}
}

// seq returns [lo, hi).
func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// layered builds a random layered DAG. A random spanning tree (each resource
// of layer k >= 1 references one random resource of layer k-1) makes the graph
// connected and every layer one dependency level deeper than the one before;
// the remaining edges join random pairs of resources in different layers.
func layered(n, edges int, rng *rand.Rand) [][]int {
	deps := make([][]int, n)
	if n == 1 {
		return deps
	}
	sizes := layerSizes(n, edges)
	first := make([]int, len(sizes)) // index of each layer's first resource
	layer := make([]int, n)
	for k, v := 0, 0; k < len(sizes); k++ {
		first[k] = v
		for range sizes[k] {
			layer[v] = k
			v++
		}
	}
	has := make(map[int]bool, edges)
	add := func(u, v int) {
		has[u*n+v] = true
		deps[v] = append(deps[v], u)
	}
	for v := 1; v < n; v++ {
		k := layer[v]
		add(first[k-1]+rng.IntN(sizes[k-1]), v)
	}

	extra := edges - (n - 1)
	free := capacity(n, sizes) - (n - 1)
	if extra*2 <= free {
		// Sparse: draw random pairs and drop those already taken or in one layer.
		for extra > 0 {
			u, v := rng.IntN(n), rng.IntN(n)
			if layer[u] == layer[v] {
				continue
			}
			if u > v {
				u, v = v, u
			}
			if has[u*n+v] {
				continue
			}
			add(u, v)
			extra--
		}
	} else {
		// Dense: list every free pair and take a random subset of them.
		pairs := make([][2]int, 0, free)
		for v := first[1]; v < n; v++ {
			for u := range first[layer[v]] {
				if !has[u*n+v] {
					pairs = append(pairs, [2]int{u, v})
				}
			}
		}
		for i := range extra {
			j := i + rng.IntN(len(pairs)-i)
			pairs[i], pairs[j] = pairs[j], pairs[i]
			add(pairs[i][0], pairs[i][1])
		}
	}
	for _, d := range deps {
		slices.Sort(d)
	}
	return deps
}

// layerSizes splits n resources into layers: a single root, then the rest as
// evenly as possible over about sqrt(n) layers, or more layers when edges
// needs more pairs of resources in different layers than that offers.
func layerSizes(n, edges int) []int {
	for l := max(2, int(math.Ceil(math.Sqrt(float64(n))))); ; l++ {
		l = min(l, n)
		sizes := make([]int, l)
		sizes[0] = 1
		for k := 1; k < l; k++ {
			sizes[k] = (n - 1) / (l - 1)
			if k <= (n-1)%(l-1) {
				sizes[k]++
			}
		}
		if capacity(n, sizes) >= edges || l == n {
			return sizes
		}
	}
}

// capacity is the number of pairs of resources in different layers.
func capacity(n int, sizes []int) int {
	sq := 0
	for _, s := range sizes {
		sq += s * s
	}
	return (n*n - sq) / 2
}
