package kro

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
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

// eval evaluates e for real with cel-go, memoized per expression (and per
// collection item, via scope), charging its cost.
func (w *work) eval(e *model.Expr, vars map[string]any, scope string) (ref.Val, bool, error) {
	key := memoKey{e.Source, scope}
	if r, ok := w.memo[key]; ok && w.memo != nil {
		return r.v, r.pending, r.err
	}
	v, pending, err := w.evalNoMemo(e, vars)
	if w.memo != nil {
		w.memo[key] = evalResult{v, pending, err}
	}
	return v, pending, err
}

func (w *work) evalNoMemo(e *model.Expr, vars map[string]any) (ref.Val, bool, error) {
	c := w.c
	var stop func() time.Duration
	if c.opts.Meter != nil {
		stop = c.opts.Meter()
	}
	var (
		v   ref.Val
		det *cel.EvalDetails
		err error
	)
	if known := c.overLimit[e.Source]; known != nil {
		if o, ok := known[inputs(e, vars)]; ok {
			d := time.Duration(c.t.Cost.EvalBaseNS + c.t.Cost.EvalUnitNS*float64(o.cost))
			c.stats.eval(d, c.k.Now())
			w.charge(span.Eval, span.Detail{Expr: c.short(e)}, d)
			return nil, false, o.err
		}
	}
	outer := c.enter("eval")
	if c.opts.Context != nil {
		v, det, err = e.Program.ContextEval(c.opts.Context, vars)
	} else {
		v, det, err = e.Program.Eval(vars)
	}
	c.leave(outer)
	cost := uint64(0)
	if det != nil && det.ActualCost() != nil {
		cost = *det.ActualCost()
	}
	var d time.Duration
	if stop != nil {
		d = stop()
	} else {
		d = time.Duration(c.t.Cost.EvalBaseNS + c.t.Cost.EvalUnitNS*float64(cost))
	}
	c.stats.eval(d, c.k.Now())
	w.charge(span.Eval, span.Detail{Expr: c.short(e)}, d)
	if err != nil {
		if dataPending(err) {
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

// short is shorten(e.Text), computed once per expression.
func (c *Controller) short(e *model.Expr) string {
	s, ok := c.shortText[e]
	if !ok {
		s = shorten(e.Text)
		c.shortText[e] = s
	}
	return s
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
