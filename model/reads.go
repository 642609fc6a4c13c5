package model

import (
	"sort"
	"strings"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
)

// Read is a field of a resource's status that an expression of its RGD
// reads: something a controller other than kro writes (an ACK Bucket's
// status.ackResourceMetadata.arn, a Job's status.completionTime), which kro
// waits for while it is missing.
type Read struct {
	Path []string // from the object's root: "status", ...
	// Kind is the field's type as the expression was checked against the
	// kind's schema: String, Integer, Float, Boolean, Timestamp, List,
	// Map, or Dyn when the schema does not say.
	Kind TypeKind
	// Want is a constant a readyWhen compares the field with (==), the
	// value kro waits for ("available", true), or nil.
	Want any

	// Condition is the type of a condition a readyWhen finds in this list
	// (status.conditions.exists(c, c.type == "Synced" && ...)): it waits
	// for the list to hold one, true.
	Condition string

	tested bool // read by has(): present or not
}

// StatusReads returns the fields under status of resource id that any
// expression of the RGD reads (its resources', its status's), sorted by
// path: the ones kro waits for. A field that an expression outside readyWhen
// tests with has() is left out: the RGD reads it knowing it may be missing
// (in readyWhen, has() is what it waits for). A field read several ways is
// listed once, with the first constant it is compared with.
func (g *RGD) StatusReads(id string) []Read {
	byPath := map[string]*Read{}
	guarded := map[string]bool{}
	var exprs []*Expr
	waits := map[*Expr]bool{}
	for _, r := range g.Resources {
		exprs = append(exprs, r.Exprs()...)
		for _, e := range r.ReadyWhen {
			waits[e] = true
		}
	}
	for _, v := range g.Status {
		exprs = append(exprs, v.Expr)
	}
	needed := map[string]bool{} // read by a readyWhen: kro waits for it
	for _, e := range exprs {
		for _, r := range e.statusReads(id) {
			k := strings.Join(r.Path, ".") + "#" + r.Condition
			needed[k] = needed[k] || waits[e]
			if r.tested && !waits[e] {
				guarded[k] = true
				continue
			}
			if !waits[e] {
				if r.Condition != "" {
					continue // looked for elsewhere: not what kro waits for
				}
				r.Want = nil // compared elsewhere: not what kro waits for
			}
			if have, ok := byPath[k]; !ok {
				byPath[k] = &r
			} else {
				if have.Want == nil {
					have.Want = r.Want
				}
				if have.Kind == Dyn {
					have.Kind = r.Kind
				}
			}
		}
	}
	keys := make([]string, 0, len(byPath))
	for k := range byPath {
		if needed[k] || !guarded[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]Read, len(keys))
	for i, k := range keys {
		out[i] = *byPath[k]
	}
	return out
}

// statusReads returns the select chains of e rooted at root whose first
// field is status, with their checked types and the constants they are
// compared with.
func (e *Expr) statusReads(root string) []Read {
	checked := e.AST.NativeRep()
	var out []Read
	var walk func(x ast.Expr)
	walk = func(x ast.Expr) {
		if path := readPath(x, root, true); path != nil {
			if path[0] == "status" {
				r := Read{Path: path, Kind: Dyn, tested: x.Kind() == ast.SelectKind && x.AsSelect().IsTestOnly()}
				if !r.tested { // has()'s type is its own, bool
					r.Kind = kindOf(checked.GetType(x.ID()))
				}
				out = append(out, r)
			}
			return
		}
		if r, ok := compared(x, root, checked); ok {
			out = append(out, r)
		}
		if r, ok := condition(x, root); ok {
			out = append(out, r)
		}
		for _, ch := range children(x) {
			walk(ch)
		}
	}
	walk(checked.Expr())
	return out
}

// compared reads a comparison of a status field of root with a constant:
// the field typed as the constant where the schema does not type it, and
// the value that makes the comparison true where one is plain (==, and > or
// >= an integer: the constant, or one more).
func compared(x ast.Expr, root string, checked *ast.AST) (Read, bool) {
	if x.Kind() != ast.CallKind || len(x.AsCall().Args()) != 2 {
		return Read{}, false
	}
	op := x.AsCall().FunctionName()
	a, b := x.AsCall().Args()[0], x.AsCall().Args()[1]
	if _, ok := mirrored[op]; !ok {
		return Read{}, false
	}
	path := readPath(a, root, true)
	if path == nil { // the constant first: read it as field op' constant
		a, b, op = b, a, mirrored[op]
		path = readPath(a, root, true)
	}
	if len(path) == 0 || path[0] != "status" || b.Kind() != ast.LiteralKind {
		return Read{}, false
	}
	c := native(b.AsLiteral())
	r := Read{Path: path, Kind: kindOf(checked.GetType(a.ID()))}
	if r.Kind == Dyn {
		r.Kind = kindOf(checked.GetType(b.ID()))
	}
	switch n, isInt := c.(int64); {
	case op == "_==_":
		r.Want = c
	case op == "_>_" && isInt:
		r.Want = n + 1
	case op == "_>=_" && isInt:
		r.Want = n
	}
	return r, true
}

// mirrored is each comparison with its operands swapped (c < x is x > c).
var mirrored = map[string]string{"_==_": "_==_", "_!=_": "_!=_", "_>_": "_<_", "_<_": "_>_", "_>=_": "_<=_", "_<=_": "_>=_"}

// condition reads a macro over a list of root's status (exists, all,
// filter) that looks for an item of a type: item.type == "T".
func condition(x ast.Expr, root string) (Read, bool) {
	if x.Kind() != ast.ComprehensionKind {
		return Read{}, false
	}
	c := x.AsComprehension()
	path := readPath(c.IterRange(), root, true)
	if len(path) == 0 || path[0] != "status" {
		return Read{}, false
	}
	var typ string
	var find func(e ast.Expr)
	find = func(e ast.Expr) {
		if e.Kind() == ast.CallKind && e.AsCall().FunctionName() == "_==_" && len(e.AsCall().Args()) == 2 {
			a, b := e.AsCall().Args()[0], e.AsCall().Args()[1]
			if a.Kind() == ast.LiteralKind {
				a, b = b, a
			}
			if p := readPath(a, c.IterVar(), true); len(p) == 1 && p[0] == "type" && b.Kind() == ast.LiteralKind {
				if t, ok := native(b.AsLiteral()).(string); ok && typ == "" {
					typ = t
				}
			}
		}
		for _, ch := range children(e) {
			find(ch)
		}
	}
	find(c.LoopStep())
	if typ == "" {
		return Read{}, false
	}
	return Read{Path: path, Kind: List, Condition: typ}, true
}

// Item in a Read's path stands for a list's first item (x.items[0]).
const Item = "[0]"

// readPath is the path x reads from the variable root: the fields it
// selects (a.b.c is [b c] of a) and, with items, through a list's first
// item (a.items[0], as Item) or a map's key (a.m["k"]); nil when x reads no
// such path.
func readPath(x ast.Expr, root string, items bool) []string {
	var path []string
	for {
		if x.Kind() == ast.SelectKind {
			path = append([]string{x.AsSelect().FieldName()}, path...)
			x = x.AsSelect().Operand()
			continue
		}
		if !items || x.Kind() != ast.CallKind || x.AsCall().FunctionName() != "_[_]" || len(x.AsCall().Args()) != 2 ||
			x.AsCall().Args()[1].Kind() != ast.LiteralKind {
			break
		}
		switch k := native(x.AsCall().Args()[1].AsLiteral()).(type) {
		case int64:
			if k != 0 {
				return nil
			}
			path = append([]string{Item}, path...)
		case string:
			path = append([]string{k}, path...)
		default:
			return nil
		}
		x = x.AsCall().Args()[0]
	}
	if len(path) == 0 || x.Kind() != ast.IdentKind || x.AsIdent() != root {
		return nil
	}
	return path
}

// kindOf is the schema kind of a checked CEL type.
func kindOf(t *types.Type) TypeKind {
	if t == nil {
		return Dyn
	}
	switch t.Kind() {
	case types.StringKind:
		return String
	case types.IntKind, types.UintKind:
		return Integer
	case types.DoubleKind:
		return Float
	case types.BoolKind:
		return Boolean
	case types.TimestampKind:
		return Timestamp
	case types.ListKind:
		return List
	case types.MapKind, types.StructKind:
		return Map
	}
	return Dyn
}

// native is a CEL constant as unstructured data holds it, or nil for a
// constant it cannot hold.
func native(v any) any {
	switch c := v.(type) {
	case types.String:
		return string(c)
	case types.Int:
		return int64(c)
	case types.Uint:
		return int64(c)
	case types.Double:
		return float64(c)
	case types.Bool:
		return bool(c)
	}
	return nil
}
