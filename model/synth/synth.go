package synth

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
)

// Shape is the form of a generated dependency graph.
type Shape string

// The shapes Generate knows. Resources are emitted in an order in which every
// resource comes after the resources it references.
const (
	// Chain is a line: each resource references the one before it.
	Chain Shape = "chain"
	// Fanout is one root referenced by every other resource.
	Fanout Shape = "fanout"
	// Fanin is one sink that references every other resource.
	Fanin Shape = "fanin"
	// Diamond is a root, a middle layer that references the root, and a sink
	// that references the whole middle layer.
	Diamond Shape = "diamond"
	// Layered is a random DAG whose resources sit in layers: one root in layer
	// 0, every other resource references at least one resource of the layer
	// just before its own, and further edges join random earlier layers.
	Layered Shape = "layered"
)

// Shapes lists every shape in a stable order.
func Shapes() []Shape { return []Shape{Chain, Fanout, Fanin, Diamond, Layered} }

// Complexity is the class of CEL expressions in the generated templates, after
// the classes of the kro performance report.
type Complexity string

// The complexity classes.
const (
	// Simple expressions read schema fields: ${schema.spec.replicas}.
	Simple Complexity = "simple"
	// Medium expressions are ternaries over schema fields.
	Medium Complexity = "medium"
	// Complex expressions read deep paths into dependencies, e.g.
	// ${dep.spec.template.spec.containers[0].image}.
	Complex Complexity = "complex"
	// VeryComplex expressions nest quantifiers over a 100-item list in the
	// schema, on top of the complex ones.
	VeryComplex Complexity = "very-complex"
)

// Complexities lists every complexity class in a stable order.
func Complexities() []Complexity { return []Complexity{Simple, Medium, Complex, VeryComplex} }

// Limits on generated graphs; they bound the size of the output, not kro.
const (
	MaxNodes = 10000
	MaxEdges = 100000
)

// Options describes the RGD to generate. It is plain data, so a scale test can
// record the exact options it used.
type Options struct {
	Shape Shape `json:"shape" yaml:"shape"`
	// Nodes is the number of resources.
	Nodes int `json:"nodes" yaml:"nodes"`
	// Edges is the number of dependency edges; 0 means the shape's natural
	// count (see EdgeRange and NaturalEdges).
	Edges int `json:"edges" yaml:"edges"`
	// Complexity defaults to Simple.
	Complexity Complexity `json:"complexity" yaml:"complexity"`
	// Seed drives every random choice (only layered graphs make any); the
	// same Options give the same bytes.
	Seed int64 `json:"seed" yaml:"seed"`
	// Name is the RGD's metadata.name, a lower-case DNS subdomain. It defaults
	// to "<shape>-<nodes>-<edges>". The schema kind is derived from it.
	Name string `json:"name" yaml:"name"`
}

// Error is a problem with one option.
type Error struct {
	Option string // the Options field at fault, lower case
	Reason string
}

func (e *Error) Error() string { return "synth: " + e.Option + ": " + e.Reason }

// EdgeRange returns the least and greatest edge counts a shape admits on
// nodes resources, or an error when the shape cannot have that many nodes.
func EdgeRange(shape Shape, nodes int) (lo, hi int, err error) {
	fewest := map[Shape]int{Chain: 1, Fanout: 2, Fanin: 2, Diamond: 4, Layered: 1}
	minNodes, ok := fewest[shape]
	if !ok {
		return 0, 0, &Error{"shape", fmt.Sprintf("unknown shape %q (want one of %s)", shape, list(Shapes()))}
	}
	if nodes < minNodes || nodes > MaxNodes {
		return 0, 0, &Error{"nodes", fmt.Sprintf("a %s graph needs %d to %d nodes, got %d", shape, minNodes, MaxNodes, nodes)}
	}
	switch shape {
	case Diamond:
		return 2 * (nodes - 2), 2 * (nodes - 2), nil
	case Layered:
		return nodes - 1, nodes * (nodes - 1) / 2, nil
	default:
		return nodes - 1, nodes - 1, nil
	}
}

// NaturalEdges returns the edge count used when Options.Edges is 0: the only
// count for chain, fanout, fanin and diamond, and about twice the node count
// for layered, within its range and MaxEdges.
func NaturalEdges(shape Shape, nodes int) (int, error) {
	lo, hi, err := EdgeRange(shape, nodes)
	if err != nil {
		return 0, err
	}
	if shape != Layered {
		return lo, nil
	}
	return max(lo, min(2*nodes, hi, MaxEdges)), nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// resolve checks o and fills in its defaults, reporting every problem found.
func (o Options) resolve() (Options, error) {
	var errs []error
	if o.Complexity == "" {
		o.Complexity = Simple
	}
	if !slices.Contains(Complexities(), o.Complexity) {
		errs = append(errs, &Error{"complexity", fmt.Sprintf("unknown complexity %q (want one of %s)", o.Complexity, list(Complexities()))})
	}
	if o.Name != "" && (len(o.Name) > 253 || !nameRE.MatchString(o.Name)) {
		errs = append(errs, &Error{"name", fmt.Sprintf("%q is not a lower-case DNS subdomain", o.Name)})
	}
	lo, hi, err := EdgeRange(o.Shape, o.Nodes)
	switch {
	case err != nil:
		errs = append(errs, err)
	case o.Edges == 0:
		o.Edges, _ = NaturalEdges(o.Shape, o.Nodes)
	case o.Edges < 0:
		errs = append(errs, &Error{"edges", fmt.Sprintf("must not be negative, got %d", o.Edges)})
	case o.Edges > MaxEdges:
		errs = append(errs, &Error{"edges", fmt.Sprintf("at most %d edges are generated, got %d", MaxEdges, o.Edges)})
	case lo == hi && o.Edges != lo:
		errs = append(errs, &Error{"edges", fmt.Sprintf("a %s graph of %d nodes has exactly %d edges, got %d", o.Shape, o.Nodes, lo, o.Edges)})
	case o.Edges < lo:
		errs = append(errs, &Error{"edges", fmt.Sprintf("a connected %s graph of %d nodes needs at least %d edges, got %d", o.Shape, o.Nodes, lo, o.Edges)})
	case o.Edges > hi:
		errs = append(errs, &Error{"edges", fmt.Sprintf("a DAG of %d nodes has at most %d edges, got %d", o.Nodes, hi, o.Edges)})
	}
	if len(errs) > 0 {
		return o, errors.Join(errs...)
	}
	if o.Name == "" {
		o.Name = fmt.Sprintf("%s-%d-%d", o.Shape, o.Nodes, o.Edges)
	}
	return o, nil
}

// Generate returns one ResourceGraphDefinition YAML document with exactly
// o.Nodes resources and o.Edges dependency edges, where an edge A -> B means
// that some expression in B's template references A. The same options always
// give the same bytes.
func Generate(o Options) ([]byte, error) {
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	// PCG seeded from the seed alone: no global source, no clock.
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x6b726f73696d)) // "krosim"
	g := build(o.Shape, o.Nodes, o.Edges, rng)
	return render(o, g)
}

// kindName turns an RGD name into an UpperCamelCase kind: "layered-30-45" ->
// "Layered3045". A name that starts with a digit gets the prefix "Synth".
func kindName(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	k := b.String()
	if k[0] < 'A' || k[0] > 'Z' {
		k = "Synth" + k
	}
	return k
}

func list[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
