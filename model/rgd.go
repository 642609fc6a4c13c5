package model

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/cel-go/cel"
	"gonum.org/v1/gonum/graph/simple"
	"gopkg.in/yaml.v3"
)

// RGD is a loaded ResourceGraphDefinition: its schema, its resources with every
// expression compiled, and its dependency graph.
type RGD struct {
	File string
	Name string
	Pos  Pos

	// The instance kind the RGD defines.
	Group, APIVersion, Kind string

	Spec   *Type            // schema.spec
	Types  map[string]*Type // schema.types
	Status []*Value         // schema.status expressions, by path
	// Conditions are schema.status.conditions: each returns a
	// runtime.newCondition(...) or a list of them (kro v0.9.4).
	Conditions []*Expr

	Resources []*Resource // in YAML order
	Order     []int       // topological order (Kahn, ties broken by YAML index)
	Waves     [][]int     // deletion waves, first first: kro's reverse topological layers
	Graph     *simple.DirectedGraph

	// Untyped lists the kinds ("apiVersion/Kind", sorted) of resources no
	// schema types: their fields and references stay dyn.
	Untyped []string

	Exprs       int           // compiled expressions
	CompileTime time.Duration // host time spent compiling CEL when Limits.Clock is set; not deterministic

	// CostWarnings are about expressions kro accepts but that may hit
	// Limits.CELCost: their estimated cost is unbounded or over it.
	CostWarnings []CostWarning

	node *yaml.Node // the RGD's document, for Object

	env *cel.Env
}

// SourceBytes is the length of every CEL expression of the RGD, status
// included: what compiling it costs grows with.
func (g *RGD) SourceBytes() int {
	n := 0
	for _, r := range g.Resources {
		for _, e := range r.Exprs() {
			n += len(e.Source)
		}
	}
	for _, v := range g.Status {
		n += len(v.Expr.Source)
	}
	for _, e := range g.Conditions {
		n += len(e.Source)
	}
	return n
}

// Resource is one entry of spec.resources.
type Resource struct {
	ID    string
	Index int // position in spec.resources
	Pos   Pos

	APIVersion, Kind string
	External         bool           // externalRef: read, never written
	Selects          bool           // externalRef by selector: reads the list of matching objects
	Template         map[string]any // the object with expression strings left in place
	Fields           []*Value       // templated values inside Template

	ReadyWhen   []*Expr
	IncludeWhen []*Expr
	ForEach     []*Iterator

	Deps       []int // resources this one references, ascending index
	Dependents []int // resources that reference this one, ascending index
	Level      int   // length of the longest dependency chain above this resource
}

// Collection reports whether the resource expands into one object per forEach item.
func (r *Resource) Collection() bool { return len(r.ForEach) > 0 }

// Exprs returns every expression of the resource: fields, forEach, includeWhen, readyWhen.
func (r *Resource) Exprs() []*Expr {
	var out []*Expr
	for _, f := range r.Fields {
		out = append(out, f.Expr)
	}
	for _, it := range r.ForEach {
		out = append(out, it.Expr)
	}
	out = append(out, r.IncludeWhen...)
	return append(out, r.ReadyWhen...)
}

// Value is a templated value at a path inside an object.
type Value struct {
	Path       Path
	Standalone bool // "${x}" keeps x's type; anything else is a string
	Expr       *Expr
}

// Iterator is one forEach dimension: a name bound to each item of a list.
type Iterator struct {
	Name string
	Expr *Expr

	node *yaml.Node // while loading
}

// Expr is one compiled CEL expression.
type Expr struct {
	Text    string // as written in the YAML
	Source  string // the CEL source compiled
	Pos     Pos
	Refs    []string // identifiers referenced, sorted: schema, resource ids, iterators
	AST     *cel.Ast // checked
	Program cel.Program
	// Fast, when set, is Program without cost tracking, for an expression
	// whose cost cel-go's estimator finds independent of the data it reads
	// and within the cost limit. Evaluators learn the cost from Program
	// (LearnCost) and use Fast once it is known (FixedCost).
	Fast  cel.Program
	fixed atomic.Uint64 // the learned cost + 1; 0: not learned
	// Parts, when set, is a string template's concatenation as literals
	// and expressions with Fast programs, each a string: evaluators may
	// evaluate those and join them, charging cel-go's cost of the joins.
	Parts []Part
	// Loops says the expression holds a comprehension: only there can
	// cel-go interrupt an evaluation (cel.Program.ContextEval).
	Loops bool
	// CostLimit is the Limits.CELCost Program enforces, for messages; 0: none.
	CostLimit uint64

	maxBytes int // Limits.CELBytes, for Native
}

// Part is a literal or an expression of a concatenation.
type Part struct {
	Lit  string
	Expr *Expr
}

// FixedCost is the cost of every successful evaluation of e, once learned.
func (e *Expr) FixedCost() (uint64, bool) {
	c := e.fixed.Load()
	return c - 1, c > 0 && e.Fast != nil
}

// LearnCost records the cost cel-go tracked for a successful evaluation of
// e, an expression with a Fast program.
func (e *Expr) LearnCost(cost uint64) {
	if e.Fast != nil {
		e.fixed.Store(cost + 1)
	}
}

// Path addresses a value inside an object: string keys and int list indexes.
type Path []any

// Set sets v at p inside obj, creating maps as needed. List indexes must
// already exist (templates hold the list); a path that does not fit obj
// sets nothing.
func (p Path) Set(obj map[string]any, v any) {
	var cur any = obj
	for i, e := range p {
		last := i == len(p)-1
		switch k := e.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return
			}
			if last {
				m[k] = v
				return
			}
			next, ok := m[k]
			if !ok || next == nil {
				next = map[string]any{}
				m[k] = next
			}
			cur = next
		case int:
			l, ok := cur.([]any)
			if !ok || k < 0 || k >= len(l) {
				return
			}
			if last {
				l[k] = v
				return
			}
			cur = l[k]
		}
	}
}

func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch v := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// Resource returns the resource with the given id, or nil.
func (g *RGD) Resource(id string) *Resource {
	for _, r := range g.Resources {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Edges returns every dependency edge as [from, to] resource ids, ordered by (to, from) index.
func (g *RGD) Edges() [][2]string {
	var out [][2]string
	for _, r := range g.Resources {
		for _, d := range r.Deps {
			out = append(out, [2]string{g.Resources[d].ID, r.ID})
		}
	}
	return out
}

// Env is the CEL environment the RGD's expressions were compiled in.
func (g *RGD) Env() *cel.Env { return g.env }

// Object is the RGD's document as unstructured data, as written (aliases
// and merge keys resolved): what a real cluster is given.
func (g *RGD) Object() (map[string]any, error) {
	if g.node == nil {
		return nil, fmt.Errorf("%s: %s was not loaded from YAML", g.File, g.Name)
	}
	var obj map[string]any
	if err := g.node.Decode(&obj); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", g.File, g.Name, err)
	}
	return obj, nil
}
