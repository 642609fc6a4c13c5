package kro

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/span"
)

// memoKey is an expression's source and scope ("" for the resource's,
// else a collection item's): the key of kro's memo within a reconcile.
type memoKey struct{ source, scope string }

// evalResult memoizes one expression within a reconcile, as kro does.
type evalResult struct {
	v       ref.Val
	pending bool
	err     error
}

// memo is kro's memo of evaluations within a reconcile, by memoKey: the
// resource scope's by the expression's slot (see exprInfo), a collection
// item's in a map. An entry of the resource scope is valid in the reconcile
// it was made in (gen): reset forgets them all by moving gen.
type memo struct {
	gen   uint64
	root  []memoEntry
	items map[memoKey]evalResult
}

type memoEntry struct {
	gen uint64
	r   evalResult
}

// reset empties the memo for a new reconcile.
func (m *memo) reset() {
	m.gen++
	clear(m.items)
}

// exprInfo is what evaluating an expression needs besides the expression:
// its memo slot, one per distinct source (kro memoizes by source), and its
// shortened text for the time profile.
type exprInfo struct {
	slot  int
	short string
}

// info is e's exprInfo, made when e is first evaluated.
func (c *Controller) info(e *model.Expr) exprInfo {
	if i, ok := c.exprs[e]; ok {
		return i
	}
	slot, ok := c.slots[e.Source]
	if !ok {
		slot = len(c.slots)
		c.slots[e.Source] = slot
	}
	i := exprInfo{slot: slot, short: shorten(e.Text)}
	c.exprs[e] = i
	return i
}

// eval evaluates e for real with cel-go, memoized per expression (and per
// collection item, via scope), charging its cost.
func (w *work) eval(e *model.Expr, vars map[string]any, scope string) (ref.Val, bool, error) {
	m := w.memo
	info := w.c.info(e)
	if m == nil {
		return w.evalInfo(e, info, vars)
	}
	if scope == "" {
		if info.slot < len(m.root) && m.root[info.slot].gen == m.gen {
			r := m.root[info.slot].r
			return r.v, r.pending, r.err
		}
	} else if r, ok := m.items[memoKey{e.Source, scope}]; ok {
		return r.v, r.pending, r.err
	}
	v, pending, err := w.evalInfo(e, info, vars)
	r := evalResult{v, pending, err}
	if scope == "" {
		if info.slot >= len(m.root) {
			m.root = append(m.root, make([]memoEntry, info.slot+1-len(m.root))...)
		}
		m.root[info.slot] = memoEntry{m.gen, r}
	} else {
		if m.items == nil {
			m.items = map[memoKey]evalResult{}
		}
		m.items[memoKey{e.Source, scope}] = r
	}
	return v, pending, err
}

// evalNoMemo evaluates e for real with cel-go, charging its cost.
func (w *work) evalNoMemo(e *model.Expr, vars map[string]any) (ref.Val, bool, error) {
	return w.evalInfo(e, w.c.info(e), vars)
}

func (w *work) evalInfo(e *model.Expr, info exprInfo, vars map[string]any) (ref.Val, bool, error) {
	c := w.c
	var stop func() time.Duration
	if c.opts.Meter != nil {
		stop = c.opts.Meter()
	}
	if known := c.overLimit[e.Source]; known != nil {
		if o, ok := known[inputs(e, vars)]; ok {
			d := time.Duration(c.t.Cost.EvalBaseNS + c.t.Cost.EvalUnitNS*float64(o.cost))
			c.stats.eval(d, c.k.Now())
			w.charge(span.Eval, span.Detail{Expr: info.short}, d)
			return nil, false, o.err
		}
	}
	var (
		v         ref.Val
		cost      uint64
		untracked bool
		err       error
	)
	outer := c.enter("eval")
	if len(e.Parts) > 0 {
		v, cost, untracked = w.join(e, vars)
	}
	if !untracked {
		v, cost, untracked, err = w.costed(e, vars)
	}
	c.leave(outer)
	if untracked && CheckFixedCost {
		mustCostFixed(e, vars, v, cost)
	}
	var d time.Duration
	if stop != nil {
		d = stop()
	} else {
		d = time.Duration(c.t.Cost.EvalBaseNS + c.t.Cost.EvalUnitNS*float64(cost))
	}
	c.stats.eval(d, c.k.Now())
	w.charge(span.Eval, span.Detail{Expr: info.short}, d)
	if err != nil {
		if dataPending(err) {
			if w.pendingExpr == "" {
				w.pendingExpr = e.Text
			}
			return nil, true, nil
		}
		err = evalError(e, cost, err)
		var ce *CostError
		if (errors.As(err, &ce) || errors.Is(err, model.ErrTooLarge)) && stop == nil {
			if c.overLimit == nil {
				c.overLimit = map[string]map[string]overLimit{}
			}
			if c.overLimit[e.Source] == nil {
				c.overLimit[e.Source] = map[string]overLimit{}
			}
			c.overLimit[e.Source][inputs(e, vars)] = overLimit{err, cost}
		}
		return nil, false, err
	}
	return v, false, nil
}

// run evaluates prg, e's, on vars, interruptibly when the run has a context
// and e loops (elsewhere cel-go never checks for an interrupt, and
// ContextEval costs a cancelable context each time).
func (w *work) run(e *model.Expr, prg cel.Program, vars map[string]any) (ref.Val, *cel.EvalDetails, error) {
	if ctx := w.c.opts.Context; ctx != nil && e.Loops {
		return prg.ContextEval(ctx, activation(vars))
	}
	return prg.Eval(activation(vars))
}

// activation is expression variables as cel-go reads them. Handed a map,
// cel-go wraps it in an activation from a sync.Pool on every evaluation,
// to resolve lazy bindings (func() values) once; the variables kro binds
// are data, never lazy, and a map in an interface costs no allocation.
type activation map[string]any

func (a activation) ResolveName(name string) (any, bool) {
	v, ok := a[name]
	return v, ok
}

func (a activation) Parent() interpreter.Activation { return nil }

// costed evaluates e untracked when its cost is known (Expr.FixedCost),
// else tracked, learning the cost of a success; an untracked evaluation that
// fails runs again tracked, since an error can end it early at a cost of its
// own. It reports whether the cost charged is the learned one.
func (w *work) costed(e *model.Expr, vars map[string]any) (v ref.Val, cost uint64, untracked bool, err error) {
	if fixed, known := e.FixedCost(); known {
		if v, _, err := w.run(e, e.Fast, vars); err == nil {
			return v, fixed, true, nil
		}
	}
	v, det, err := w.run(e, e.Program, vars)
	if det != nil && det.ActualCost() != nil {
		cost = *det.ActualCost()
	}
	if err == nil {
		e.LearnCost(cost)
	}
	return v, cost, false, err
}

// CheckFixedCost, for tests, evaluates every expression charged its learned
// fixed cost with cost tracking too, and panics if cel-go's actual cost
// differs.
var CheckFixedCost bool

func mustCostFixed(e *model.Expr, vars map[string]any, v ref.Val, cost uint64) {
	want, det, err := e.Program.Eval(vars)
	if err != nil || det == nil || det.ActualCost() == nil || *det.ActualCost() != cost || want.Equal(v) != types.True {
		actual := "none"
		if det != nil && det.ActualCost() != nil {
			actual = fmt.Sprint(*det.ActualCost())
		}
		panic(fmt.Sprintf("expression at %s (%s): got %v at cost %d untracked, cel-go tracked %v at cost %s (%v)", e.Pos, e.Source, v, cost, want, actual, err))
	}
}

// join evaluates the parts of e, a string template, and joins them, with
// the cost cel-go's tracker charges for the whole concatenation: each
// part's own and each join's, a tenth of the joined length in runes rounded
// up. It reports false if a part failed or the cost passed e's limit, for
// the caller to evaluate the whole as cel-go does.
func (w *work) join(e *model.Expr, vars map[string]any) (ref.Val, uint64, bool) {
	var b []byte
	if w.sc != nil {
		b = w.sc.join[:0]
	}
	var cost, runes uint64
	for i, p := range e.Parts {
		s := p.Lit
		if p.Expr != nil {
			v, c, _, err := w.costed(p.Expr, vars)
			str, ok := v.(types.String)
			if err != nil || !ok {
				return nil, 0, false
			}
			cost += c
			s = string(str)
		}
		n := uint64(utf8.RuneCountInString(s))
		if i > 0 {
			cost += uint64(math.Ceil(float64(runes+n) * common.StringTraversalCostFactor))
		}
		runes += n
		b = append(b, s...)
	}
	if w.sc != nil {
		w.sc.join = b
	}
	if e.CostLimit > 0 && cost > e.CostLimit {
		return nil, 0, false
	}
	// The joined string is most often one the store holds already (an
	// object's name, rendered in every reconcile): its copy spares an
	// allocation.
	return types.String(w.c.srv.Store.SharedBytes(b)), cost, true
}

// overLimit is an evaluation's outcome over a limit, and its cost.
type overLimit struct {
	err  error
	cost uint64
}

// inputs is the data e reads from vars, encoded (encoding/json sorts map keys).
func inputs(e *model.Expr, vars map[string]any) string {
	in := make(map[string]any, len(e.Refs))
	for _, r := range e.Refs {
		in[r] = vars[r]
	}
	b, err := json.Marshal(in)
	if err != nil {
		return "\x00" + err.Error() // never equal to an encoding
	}
	return string(b)
}

// CostError is an evaluation stopped by the CEL cost limit. It is
// deterministic: every retry of the reconcile fails the same way, until
// the controller gives up on the instance.
type CostError struct {
	Expr  *model.Expr
	Limit uint64
	Cost  uint64 // when stopped, just over Limit
}

func (e *CostError) Error() string {
	return fmt.Sprintf("cel: cost limit %d exceeded by expression at %s (cost %d): %s",
		e.Limit, e.Expr.Pos, e.Cost, shorten(e.Expr.Text))
}

// evalError says which expression failed and, for the limits that stop
// hostile expressions, where it is and which limit.
func evalError(e *model.Expr, cost uint64, err error) error {
	var cancel interpreter.EvalCancelledError
	switch {
	case errors.As(err, &cancel) && cancel.Cause == interpreter.CostLimitExceeded:
		return &CostError{Expr: e, Limit: e.CostLimit, Cost: cost}
	case errors.Is(err, model.ErrTooLarge):
		return fmt.Errorf("cel: %w, in expression at %s: %s", err, e.Pos, shorten(e.Text))
	case errors.Is(err, interpreter.InterruptError{}):
		return fmt.Errorf("cel: expression at %s: %w", e.Pos, err)
	}
	return fmt.Errorf("%s: %w", e.Text, err)
}

// dataPending reports the CEL errors kro treats as "not there yet".
func dataPending(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no such key") || strings.Contains(s, "index out of bounds") ||
		strings.Contains(s, "no such attribute")
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
