package kro

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types/ref"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/span"
)

// evalResult memoizes one expression within a reconcile, as kro does.
type evalResult struct {
	v       ref.Val
	pending bool
	err     error
}

// eval evaluates e for real with cel-go, memoized per expression (and per
// collection item, via scope), charging its cost.
func (w *work) eval(e *model.Expr, vars map[string]any, scope string) (ref.Val, bool, error) {
	key := e.Source + "\x00" + scope
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
	c.host("eval", func() { v, det, err = e.Program.Eval(vars) })
	var d time.Duration
	if stop != nil {
		d = stop()
	} else {
		cost := uint64(0)
		if det != nil && det.ActualCost() != nil {
			cost = *det.ActualCost()
		}
		d = time.Duration(c.t.Cost.EvalBaseNS + c.t.Cost.EvalUnitNS*float64(cost))
	}
	c.stats.Evals++
	c.stats.EvalDurations = append(c.stats.EvalDurations, d)
	c.stats.EvalTimes = append(c.stats.EvalTimes, c.k.Now())
	w.charge(span.Eval, span.Detail{Expr: shorten(e.Text)}, d)
	if err != nil {
		if dataPending(err) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("%s: %w", e.Text, err)
	}
	return v, false, nil
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
