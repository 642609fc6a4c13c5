package model

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"gopkg.in/yaml.v3"
)

// context says where an expression sits, which decides what it may reference.
type context int

const (
	ctxTemplate context = iota
	ctxForEach
	ctxIncludeWhen
	ctxReadyWhen
	ctxStatus
	ctxCondition // an entry of schema.status.conditions
)

var contextNames = [...]string{"template", "forEach", "includeWhen", "readyWhen", "status", "status.conditions"}

// compiler compiles an RGD's expressions in one environment and records dependencies.
type compiler struct {
	l     *loader
	g     *RGD
	env   *cel.Env
	ids   map[string]int  // resource id -> index
	iters map[string]bool // every forEach iterator name
	names map[string]bool // ids and iterators, built on first use
	exprs int
	lim   Limits
	// Compiled sources: identical expressions, common in real RGDs, are
	// parsed, checked and planned once and share one program.
	parsed map[string]*parsedExpr
	types  map[string]*Type // resource id -> its kind's type; absent when untyped
	prov   *schemaProvider
}

type parsedExpr struct {
	ast     *cel.Ast
	iss     *cel.Issues
	free    map[string]int64
	checked *cel.Ast
	prg     cel.Program
	err     error // from checking or planning; nil until checked

	// fast is prg without cost tracking, for an expression whose cost
	// does not depend on the data it reads.
	fast cel.Program

	warned  bool        // costWarning ran
	warning CostWarning // costWarning's answer, without a position
}

func newCompiler(l *loader, g *RGD) (*compiler, error) {
	c := &compiler{l: l, g: g, lim: l.lim, ids: map[string]int{}, iters: map[string]bool{}, parsed: map[string]*parsedExpr{},
		types: map[string]*Type{}}
	var vars []string
	typed := map[string]*Type{}
	untyped := map[string]bool{}
	for _, r := range g.Resources {
		c.ids[r.ID] = r.Index
		vars = append(vars, r.ID)
		t := l.kinds.root(r.APIVersion, r.Kind)
		if t == nil {
			untyped[r.APIVersion+"/"+r.Kind] = true
			continue
		}
		c.types[r.ID] = t
		if r.Collection() || r.Selects {
			typed[r.ID] = &Type{Kind: List, Elem: t} // kro wraps a collection's schema as a list
		} else {
			typed[r.ID] = t
		}
	}
	g.Untyped = slices.Sorted(maps.Keys(untyped))
	for _, r := range g.Resources {
		for _, it := range r.ForEach {
			if !c.iters[it.Name] {
				vars = append(vars, it.Name)
			}
			c.iters[it.Name] = true
		}
	}
	env, p, err := l.lim.newEnv(g.Spec, vars, typed)
	if err != nil {
		return nil, err
	}
	c.env, g.env, c.prov = env, env, p
	return c, nil
}

// precompile compiles every distinct expression source below the given nodes
// in parallel (cel-go environments are safe for concurrent use), so the
// sequential pass that checks references and records dependencies only hits
// the cache. Results do not depend on scheduling: each source's outcome is
// its own, and the cache is filled in source order after all are done.
func (c *compiler) precompile(nodes []*yaml.Node) {
	seen := map[string]bool{}
	var srcs []string
	for _, n := range nodes {
		c.l.walkQuiet(n, func(vn *yaml.Node) {
			if len(vn.Value) > c.l.lim.ExprBytes {
				return
			}
			t, err := parseTemplate(vn.Value)
			if err != nil {
				return
			}
			for _, src := range append(t.sources(vn.Value), t.cel) {
				if !seen[src] && c.parsed[src] == nil {
					seen[src] = true
					srcs = append(srcs, src)
				}
			}
		})
	}
	if len(srcs) < 16 {
		return // not worth the goroutines
	}
	c.declared()
	out := make([]*parsedExpr, len(srcs))
	workers := min(runtime.GOMAXPROCS(0), 8)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = c.compileSource(srcs[i])
			}
		}()
	}
	for i := range srcs {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, src := range srcs {
		c.parsed[src] = out[i]
	}
}

// compileSource parses, checks and plans one source, keeping any issues.
func (c *compiler) compileSource(src string) *parsedExpr {
	pe := &parsedExpr{}
	pe.ast, pe.iss = c.env.Parse(src)
	if pe.iss.Err() != nil {
		return pe
	}
	pe.free = freeIdents(c.env, pe.ast.NativeRep(), c.names)
	c.ready(pe)
	return pe
}

// ready type-checks and plans pe unless that was done, and returns its error.
func (c *compiler) ready(pe *parsedExpr) error {
	if pe.checked == nil && pe.err == nil {
		pe.err = c.check(pe)
	}
	if pe.err == nil && pe.prg == nil {
		pe.err = c.plan(pe)
	}
	return pe.err
}

// check type-checks pe, keeping the issues if it fails.
func (c *compiler) check(pe *parsedExpr) error {
	checked, iss := c.env.Check(pe.ast)
	if iss.Err() != nil {
		pe.iss = iss
		return iss.Err()
	}
	pe.checked = checked
	return nil
}

// plan makes pe's programs: one that tracks and bounds every evaluation's
// cost and, when cel-go's estimator finds the cost independent of the data
// (its minimum equals its maximum with every size unknown) and within the
// limit, one that does not track it, since tracking costs more than most
// evaluations it tracks. The estimate's amount is not the actual cost
// (a select chain is one attribute to the interpreter, several to the
// estimator), so Expr learns that from a tracked evaluation.
func (c *compiler) plan(pe *parsedExpr) error {
	var err error
	if pe.prg, err = c.env.Program(pe.checked, c.programOptions(pe)...); err != nil {
		return err
	}
	est, err := c.env.EstimateCost(pe.checked, unknownSizes{})
	if err != nil || est.Min != est.Max || (c.lim.CELCost > 0 && est.Max > c.lim.CELCost) {
		return nil
	}
	opts := []cel.ProgramOption{cel.InterruptCheckFrequency(interruptEvery)}
	if _, reads := pe.free[RuntimeVar]; reads {
		opts = append(opts, runtimeGlobal())
	}
	if fast, err := c.env.Program(pe.checked, opts...); err == nil {
		pe.fast = fast // else every evaluation is tracked: slower, the same
	}
	return nil
}

// loops reports whether e holds a comprehension, the only place cel-go
// checks for an interrupt.
func loops(e ast.Expr) bool {
	if e.Kind() == ast.ComprehensionKind {
		return true
	}
	for _, ch := range children(e) {
		if loops(ch) {
			return true
		}
	}
	return false
}

// unknownSizes leaves the size of everything unknown (unbounded).
type unknownSizes struct{}

func (unknownSizes) EstimateSize(checker.AstNode) *checker.SizeEstimate { return nil }

func (unknownSizes) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	return nil
}

// resource compiles every expression of r and records its dependencies.
func (c *compiler) resource(r *Resource, n *yaml.Node) {
	l := c.l
	deps := map[int]bool{}
	addDeps := func(e *Expr) {
		if e == nil {
			return
		}
		for _, ref := range e.Refs {
			if i, ok := c.ids[ref]; ok && i != r.Index {
				deps[i] = true
			}
		}
	}
	c.forEach(r)
	for _, it := range r.ForEach {
		addDeps(it.Expr)
	}
	body := l.lookup(n, "template")
	if r.External {
		body = l.lookup(n, "externalRef")
	}
	l.walk(body, nil, 0, func(p Path, vn *yaml.Node) {
		if v := c.value(vn, p, ctxTemplate, r); v != nil {
			if c.fits(r, v) {
				r.Fields = append(r.Fields, v)
			}
			addDeps(v.Expr)
		}
	})
	for _, k := range []struct {
		key string
		ctx context
		out *[]*Expr
	}{{"includeWhen", ctxIncludeWhen, &r.IncludeWhen}, {"readyWhen", ctxReadyWhen, &r.ReadyWhen}} {
		list := l.lookup(n, k.key)
		if list == nil {
			continue
		}
		if list.Kind != yaml.SequenceNode {
			l.probs.addf(pos(list), "resource %q: %s must be a list of expressions", r.ID, k.key)
			continue
		}
		for _, en := range list.Content {
			e := c.condition(l.deref(en), k.ctx, r)
			if e != nil {
				*k.out = append(*k.out, e)
				if k.ctx != ctxReadyWhen {
					addDeps(e)
				}
			}
		}
	}
	for d := range deps {
		r.Deps = append(r.Deps, d)
	}
	sort.Ints(r.Deps)
}

// fits checks that v's expression type is assignable to its field's type in
// r's schema, reporting it where it does not (kro's validateExpressionType).
func (c *compiler) fits(r *Resource, v *Value) bool {
	root, ok := c.types[r.ID]
	if !ok {
		return true
	}
	want := typeAt(root, v.Path)
	out := v.Expr.AST.OutputType()
	if c.prov.assignable(out, want) {
		return true
	}
	c.l.probs.addf(v.Expr.Pos, "resource %s: %s: expression type %s is not assignable to %s", r.ID, v.Path, describeCEL(out), describe(want))
	return false
}

// forEach compiles each iterator's list expression.
func (c *compiler) forEach(r *Resource) {
	its := r.ForEach[:0]
	for _, it := range r.ForEach {
		if it.Expr = c.condition(it.node, ctxForEach, r); it.Expr != nil {
			its = append(its, it)
		}
		it.node = nil
	}
	r.ForEach = its
}

// condition compiles a standalone expression: a readyWhen, includeWhen or forEach entry.
func (c *compiler) condition(n *yaml.Node, ctx context, r *Resource) *Expr {
	s, ok := c.l.str(n, contextNames[ctx]+" entry")
	if !ok {
		return nil
	}
	if t, err := parseTemplate(s); err == nil && !t.standalone {
		c.l.probs.addf(pos(n), "resource %q: %s entry %q must be a single ${expression}", r.ID, contextNames[ctx], s)
		return nil
	}
	v := c.value(n, nil, ctx, r)
	if v == nil {
		return nil
	}
	if !v.Standalone {
		c.l.probs.addf(pos(n), "resource %q: %s entry %q must be a single ${expression}", r.ID, contextNames[ctx], s)
		return nil
	}
	return v.Expr
}

// value compiles the template string at n.
func (c *compiler) value(n *yaml.Node, p Path, ctx context, r *Resource) *Value {
	l := c.l
	text := n.Value
	if len(text) > l.lim.ExprBytes {
		l.probs.addf(pos(n), "expression is %d bytes, over the limit of %d", len(text), l.lim.ExprBytes)
		return nil
	}
	t, err := parseTemplate(text)
	if err != nil {
		se := err.(*scanError)
		l.probs.addf(l.valuePos(n, se.off), "%s", se.msg)
		return nil
	}
	at := func(celOff int) Pos { return l.valuePos(n, t.valueOffset(celOff)) }
	if !t.standalone && (!t.balanced(text) || c.parsedSource(t.cel).iss.Err() != nil) && c.syntaxErrors(text, t, n) {
		return nil // blamed on the embedded expression the user wrote
	}
	e := c.compile(t.cel, ctx, r, at)
	if e == nil {
		return nil
	}
	e.Text, e.Pos = text, l.valuePos(n, 0)
	e.Pos.File = l.probs.src.name
	if !t.standalone && e.AST.OutputType().IsExactType(types.StringType) {
		e.Parts = c.parts(text, t)
	}
	return &Value{Path: p, Standalone: t.standalone, Expr: e}
}

// parts is the concatenation t as literals and expressions of fixed cost
// each evaluating to a string, or nil if an expression is not one of those.
func (c *compiler) parts(text string, t *template) []Part {
	var parts []Part
	last := 0
	for _, sp := range t.spans {
		if lit := text[last : sp.valOff-2]; !utf8.ValidString(lit) {
			return nil // the CEL literal would not be these bytes
		} else if lit != "" {
			parts = append(parts, Part{Lit: lit})
		}
		last = sp.valOff + sp.n + 1
		src := text[sp.valOff : sp.valOff+sp.n]
		pe := c.parsedSource(src)
		if pe.iss.Err() != nil || c.ready(pe) != nil || pe.fast == nil || !pe.checked.OutputType().IsExactType(types.StringType) {
			return nil
		}
		parts = append(parts, Part{Expr: c.newExpr(src, pe)})
	}
	if lit := text[last:]; !utf8.ValidString(lit) {
		return nil
	} else if lit != "" {
		parts = append(parts, Part{Lit: lit})
	}
	return parts
}

// compile parses, checks references, type-checks and plans one CEL source.
// at maps a byte offset in src to a file position.
func (c *compiler) compile(src string, ctx context, r *Resource, at func(int) Pos) *Expr {
	pe := c.parsedSource(src)
	if pe.iss.Err() != nil {
		c.celIssues(src, pe.iss, at)
		return nil
	}
	refs, ok := c.references(src, pe, ctx, r, at)
	if !ok || !c.noOmit(src, pe.ast, ctx, at) {
		return nil
	}
	if pe.checked == nil && pe.err == nil {
		pe.err = c.check(pe)
	}
	if pe.checked == nil {
		c.celIssues(src, pe.iss, at)
		return nil
	}
	if !c.outputFits(pe.checked.OutputType(), ctx, at) {
		return nil
	}
	if pe.prg == nil {
		if err := c.plan(pe); err != nil {
			c.l.probs.addf(at(0), "planning expression: %v", err)
			return nil
		}
	}
	c.exprs++
	if w := c.costWarning(pe); w.Msg != "" {
		pos := at(0)
		pos.File = c.l.probs.src.name
		w.Problem = &Problem{Pos: pos, Msg: w.Msg, Line: c.l.probs.src.line(pos.Line)}
		c.g.CostWarnings = append(c.g.CostWarnings, w)
	}
	e := c.newExpr(src, pe)
	e.Refs = refs
	return e
}

// newExpr is the compiled expression of src, pe planned.
func (c *compiler) newExpr(src string, pe *parsedExpr) *Expr {
	return &Expr{Source: src, AST: pe.checked, Program: pe.prg, Fast: pe.fast, Loops: loops(pe.checked.NativeRep().Expr()),
		CostLimit: c.lim.CELCost, maxBytes: c.lim.CELBytes}
}

// references checks the identifiers src uses in ctx, as kro does: no self
// references, readyWhen only of the resource itself, runtime only in
// conditions, nothing unknown. It returns the references the graph counts.
func (c *compiler) references(src string, pe *parsedExpr, ctx context, r *Resource, at func(int) Pos) ([]string, bool) {
	l := c.l
	parsed, free := pe.ast, pe.free
	refs := slices.Sorted(maps.Keys(free))
	offsetOf := func(name string) int {
		loc := parsed.NativeRep().SourceInfo().GetStartLocation(free[name])
		return celOffset(src, loc.Line(), loc.Column())
	}
	var unknown, bad []string
	for _, name := range refs {
		_, isRes := c.ids[name]
		switch {
		case r != nil && name == r.ID && ctx != ctxReadyWhen:
			l.probs.addf(at(offsetOf(name)), "resource %q: self references are not allowed", r.ID)
			return nil, false
		case r != nil && ctx == ctxReadyWhen && name != r.ID && !isOwnIter(r, name):
			bad = append(bad, name)
		case name == RuntimeVar && !isRes:
			if ctx != ctxCondition {
				l.probs.addf(at(offsetOf(name)), "runtime is only available in status.conditions expressions")
				return nil, false
			}
		case name == "schema" || isRes:
		case c.iters[name] && r != nil && isOwnIter(r, name) && ctx != ctxForEach:
		default:
			unknown = append(unknown, name)
		}
	}
	if len(bad) > 0 {
		l.probs.addf(at(offsetOf(bad[0])), "resource %q: readyWhen may only reference the resource itself, not [%s]", r.ID, strings.Join(bad, " "))
		return nil, false
	}
	if len(unknown) > 0 {
		l.probs.addf(at(offsetOf(unknown[0])), "references unknown identifiers: [%s]", strings.Join(unknown, " "))
		return nil, false
	}
	refs = slices.DeleteFunc(refs, func(name string) bool { _, isRes := c.ids[name]; return name == RuntimeVar && !isRes })
	return refs, true
}

// noOmit rejects a call of omit(): kro v0.9.4 registers it, but its
// CELOmitFunction feature gate is off by default, and then every RGD
// calling it is rejected.
func (c *compiler) noOmit(src string, parsed *cel.Ast, ctx context, at func(int) Pos) bool {
	id, ok := callsOmit(parsed.NativeRep().Expr())
	if !ok {
		return true
	}
	loc := parsed.NativeRep().SourceInfo().GetStartLocation(id)
	msg := "omit() can only be used in resource template expressions"
	if ctx == ctxTemplate {
		msg = "omit() requires the CELOmitFunction feature gate to be enabled"
	}
	c.l.probs.addf(at(celOffset(src, loc.Line(), loc.Column())), "%s", msg)
	return false
}

// outputFits checks the type an expression of ctx must have.
func (c *compiler) outputFits(out *cel.Type, ctx context, at func(int) Pos) bool {
	l := c.l
	switch ctx {
	case ctxReadyWhen, ctxIncludeWhen:
		if !out.IsAssignableType(types.BoolType) {
			l.probs.addf(at(0), "%s must be a bool expression, got %s", contextNames[ctx], out)
			return false
		}
	case ctxCondition:
		elem := out
		if out.Kind() == types.ListKind {
			elem = out.Parameters()[0]
		}
		if elem.TypeName() != conditionTypeName && elem.Kind() != types.DynKind {
			l.probs.addf(at(0), "condition expressions must return runtime.newCondition(...) or a list of them, got %q", out)
			return false
		}
	case ctxForEach:
		if out.Kind() != types.ListKind && out.Kind() != types.DynKind {
			l.probs.addf(at(0), "forEach must be a list expression, got %s", out)
			return false
		}
	}
	return true
}

// programOptions track every evaluation's cost, bound it by the cost
// limit, let ContextEval interrupt long comprehensions (a host wall limit),
// and bind `runtime` when pe reads it.
func (c *compiler) programOptions(pe *parsedExpr) []cel.ProgramOption {
	opts := []cel.ProgramOption{cel.CostTracking(nil), cel.InterruptCheckFrequency(interruptEvery)}
	if c.lim.CELCost > 0 {
		opts = append(opts, cel.CostLimit(c.lim.CELCost))
	}
	if _, reads := pe.free[RuntimeVar]; reads {
		opts = append(opts, runtimeGlobal())
	}
	return opts
}

// interruptEvery is how many comprehension iterations pass between checks
// of an evaluation's context.
const interruptEvery = 1000

// callsOmit reports whether e calls omit(), with the call's node id.
func callsOmit(e ast.Expr) (int64, bool) {
	if e.Kind() == ast.CallKind && !e.AsCall().IsMemberFunction() && e.AsCall().FunctionName() == "omit" {
		return e.ID(), true
	}
	for _, ch := range children(e) {
		if id, ok := callsOmit(ch); ok {
			return id, true
		}
	}
	return 0, false
}

// declared is every name the environment declares besides schema.
func (c *compiler) declared() map[string]bool {
	if c.names == nil {
		c.names = map[string]bool{}
		for id := range c.ids {
			c.names[id] = true
		}
		for it := range c.iters {
			c.names[it] = true
		}
	}
	return c.names
}

func isOwnIter(r *Resource, name string) bool {
	for _, it := range r.ForEach {
		if it.Name == name {
			return true
		}
	}
	return false
}

// parsedSource parses src once, caching the result.
func (c *compiler) parsedSource(src string) *parsedExpr {
	pe := c.parsed[src]
	if pe == nil {
		pe = &parsedExpr{}
		pe.ast, pe.iss = c.env.Parse(src)
		if pe.iss.Err() == nil {
			pe.free = freeIdents(c.env, pe.ast.NativeRep(), c.declared())
		}
		c.parsed[src] = pe
	}
	return pe
}

// syntaxErrors parses each embedded expression on its own and reports its
// syntax errors, so a stray ')' is blamed where the user wrote it, not where
// the concatenation's added parentheses make the parser notice.
func (c *compiler) syntaxErrors(text string, t *template, n *yaml.Node) bool {
	found := false
	for _, sp := range t.spans {
		src := text[sp.valOff : sp.valOff+sp.n]
		if _, iss := c.env.Parse(src); iss.Err() != nil {
			found = true
			c.celIssues(src, iss, func(off int) Pos { return c.l.valuePos(n, sp.valOff+off) })
		}
	}
	return found
}

// celIssues reports cel-go's problems at their positions in the YAML file.
func (c *compiler) celIssues(src string, iss *cel.Issues, at func(int) Pos) {
	for _, e := range iss.Errors() {
		off := 0
		if loc := e.Location; loc != nil && loc.Line() > 0 {
			off = celOffset(src, loc.Line(), loc.Column())
		}
		c.l.probs.addf(at(off), "%s", firstLine(e.Message))
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

var _ = fmt.Sprint
