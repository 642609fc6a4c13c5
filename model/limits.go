package model

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"
)

// ErrTooLarge is wrapped by every error of a value over Limits.CELBytes.
var ErrTooLarge = errors.New("over the size limit")

// tooLarge is a CEL error for a result of fn over max bytes.
func tooLarge(fn string, max int) ref.Val {
	return types.WrapErr(fmt.Errorf("%s: result %w of %d bytes", fn, ErrTooLarge, max))
}

// NativeLimit is Native bounded: it fails with ErrTooLarge once the data,
// measured roughly as its JSON encoding, would pass max bytes (0: no bound).
// A list or map that shares itself many times over is small in CEL and
// exponential as data, so the bound is checked while converting.
func NativeLimit(v ref.Val, max int) (any, error) {
	if max <= 0 {
		return Native(v)
	}
	budget := max
	out, err := nativeBudget(v, &budget)
	if err != nil && errors.Is(err, ErrTooLarge) {
		return nil, fmt.Errorf("value is %w of %d bytes as data", ErrTooLarge, max)
	}
	return out, err
}

// Native converts v with this expression's size bound.
func (e *Expr) Native(v ref.Val) (any, error) { return NativeLimit(v, e.maxBytes) }

func nativeBudget(v ref.Val, budget *int) (any, error) {
	spend := func(n int) error {
		if *budget -= n; *budget < 0 {
			return ErrTooLarge
		}
		return nil
	}
	switch x := v.(type) {
	case types.String:
		if err := spend(len(x) + 2); err != nil {
			return nil, err
		}
	case types.Bytes:
		if err := spend(len(x)*4/3 + 4); err != nil {
			return nil, err
		}
	case traits.Mapper:
		if err := spend(2); err != nil {
			return nil, err
		}
		out := map[string]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key %v is not a string", k)
			}
			if err := spend(len(ks) + 4); err != nil {
				return nil, err
			}
			e, err := nativeBudget(x.Get(k), budget)
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	case traits.Lister:
		if err := spend(2); err != nil {
			return nil, err
		}
		var out []any
		for it := x.Iterator(); it.HasNext() == types.True; {
			if err := spend(1); err != nil {
				return nil, err
			}
			e, err := nativeBudget(it.Next(), budget)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	default:
		if err := spend(8); err != nil {
			return nil, err
		}
	}
	return Native(v)
}

// costFactor is cel-go's cost of traversing one byte of a string.
const costFactor = common.StringTraversalCostFactor

// size is the CEL size of v (runes of a string, elements of a list or map), 1 otherwise.
func size(v ref.Val) uint64 {
	switch x := v.(type) {
	case types.String:
		return uint64(utf8.RuneCountInString(string(x)))
	case traits.Sizer:
		if n, ok := x.Size().(types.Int); ok {
			return uint64(n)
		}
	}
	return 1
}

func scaled(n uint64, f float64) *uint64 {
	c := uint64(math.Ceil(float64(n) * f))
	return &c
}

// estimateSize is the checker's estimate of a node's size, unbounded when unknown.
func estimateSize(est checker.CostEstimator, n checker.AstNode) checker.SizeEstimate {
	if s := n.ComputedSize(); s != nil {
		return *s
	}
	if s := est.EstimateSize(n); s != nil {
		return *s
	}
	return checker.SizeEstimate{Min: 0, Max: math.MaxUint64}
}

// capped bounds an estimate by what the functions enforce.
func capped(s checker.SizeEstimate, max uint64) checker.SizeEstimate {
	if max > 0 && s.Max > max {
		s.Max = max
	}
	if s.Min > s.Max {
		s.Min = s.Max
	}
	return s
}

// costs gives kro's functions costs like cel-go's own: linear in the bytes
// or elements they read or build, so the cost limit sees their work. kro
// leaves them at cel-go's default of 1 per call.
type costs struct {
	// each overload's cost at run time, and its estimate at check time
	track    map[string]interpreter.FunctionTracker
	estimate map[string]checker.FunctionEstimator
}

func kroCosts(maxBytes int) costs {
	mb := uint64(max(maxBytes, 0))
	c := costs{track: map[string]interpreter.FunctionTracker{}, estimate: map[string]checker.FunctionEstimator{}}
	argBytes := func(i int) interpreter.FunctionTracker {
		return func(args []ref.Val, _ ref.Val) *uint64 { return scaled(1+size(args[i]), costFactor) }
	}
	resultBytes := func(_ []ref.Val, res ref.Val) *uint64 { return scaled(1+size(res), costFactor) }
	// The map and list functions copy their first argument into the result.
	listSizes := func(args []ref.Val, res ref.Val) *uint64 {
		n := size(res)
		if len(args) > 0 {
			n += size(args[0])
		}
		return &n
	}
	argEstimate := func(i int, result checker.SizeEstimate) checker.FunctionEstimator {
		return func(est checker.CostEstimator, _ *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
			if i >= len(args) {
				return nil
			}
			s := estimateSize(est, args[i]).Add(checker.FixedSizeEstimate(1))
			return &checker.CallEstimate{CostEstimate: s.MultiplyByCostFactor(costFactor), ResultSize: &result}
		}
	}
	for _, h := range []struct {
		name string
		n    uint64
	}{{"fnv64a", 8}, {"sha256", 32}, {"md5", 16}} {
		id := "hash." + h.name + "_string"
		c.track[id] = argBytes(0)
		c.estimate[id] = argEstimate(0, checker.FixedSizeEstimate(h.n))
	}
	c.track["json.marshal_dyn"] = resultBytes
	c.estimate["json.marshal_dyn"] = func(est checker.CostEstimator, _ *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
		// The output is bounded by maxBytes whatever the input.
		res := checker.SizeEstimate{Min: 2, Max: math.MaxUint64}
		if mb > 0 {
			res.Max = mb
		}
		return &checker.CallEstimate{CostEstimate: res.MultiplyByCostFactor(costFactor), ResultSize: &res}
	}
	c.track["json.unmarshal_string"] = argBytes(0)
	c.estimate["json.unmarshal_string"] = argEstimate(0, checker.SizeEstimate{Min: 0, Max: math.MaxUint64})
	c.track["random.seededString_int_string"] = resultBytes
	c.estimate["random.seededString_int_string"] = func(est checker.CostEstimator, _ *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
		res := capped(checker.SizeEstimate{Min: 1, Max: math.MaxUint64}, mb)
		if len(args) == 2 && args[0].Expr().Kind() == ast.LiteralKind {
			if n, ok := args[0].Expr().AsLiteral().(types.Int); ok && n > 0 {
				res = capped(checker.FixedSizeEstimate(uint64(n)), mb)
			}
		}
		seed := estimateSize(est, args[len(args)-1])
		return &checker.CallEstimate{CostEstimate: res.Add(seed).MultiplyByCostFactor(costFactor), ResultSize: &res}
	}
	c.track["random.seededInt_int_int_string"] = argBytes(2)
	c.estimate["random.seededInt_int_int_string"] = argEstimate(2, checker.FixedSizeEstimate(1))
	twoSizes := func(est checker.CostEstimator, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
		nodes := args
		if target != nil {
			nodes = append([]checker.AstNode{*target}, args...)
		}
		if len(nodes) == 0 {
			return nil
		}
		s := estimateSize(est, nodes[0])
		if len(nodes) > 1 && nodes[1].Type() != nil && nodes[1].Type().Kind() != types.IntKind {
			s = s.Add(estimateSize(est, nodes[1]))
		}
		res := s.Add(checker.FixedSizeEstimate(1))
		return &checker.CallEstimate{CostEstimate: res.MultiplyByCostFactor(1).Add(s.MultiplyByCostFactor(1)), ResultSize: &res}
	}
	for _, id := range []string{"map_merge", "dyn_deepmerge_dyn", "lists.setAtIndex_list_int_T", "lists.insertAtIndex_list_int_T", "lists.removeAtIndex_list_int"} {
		c.track[id] = listSizes
		c.estimate[id] = twoSizes
	}
	return c
}

func (c costs) programOptions() []cel.ProgramOption {
	var opts []interpreter.CostTrackerOption
	for _, id := range slices.Sorted(maps.Keys(c.track)) {
		opts = append(opts, interpreter.OverloadCostTracker(id, c.track[id]))
	}
	return []cel.ProgramOption{cel.CostTrackerOptions(opts...)}
}

func (c costs) envOptions() []cel.EnvOption {
	var opts []checker.CostOption
	for _, id := range slices.Sorted(maps.Keys(c.estimate)) {
		opts = append(opts, checker.OverloadCostEstimate(id, c.estimate[id]))
	}
	return []cel.EnvOption{cel.CostEstimatorOptions(opts...)}
}

// CostWarning is an expression whose estimated cost may pass Limits.CELCost.
type CostWarning struct {
	*Problem // Msg starts with "warning: "
	// Certain: even the estimated minimum is over the limit, so every
	// evaluation fails. Otherwise it fails on large enough data.
	Certain bool
	Msg     string
}

// costWarning says why pe's estimated cost may pass the cost limit, if it may.
// Sizes of data the expression reads are unknown to cel-go's estimator, so
// an expression whose cost grows with them is unbounded; one whose cost
// does not is exact, or nearly.
func (c *compiler) costWarning(pe *parsedExpr) CostWarning {
	if pe.warned || c.lim.CELCost == 0 {
		return pe.warning
	}
	pe.warned = true
	est, err := c.env.EstimateCost(pe.checked, dataSizes{maxBytes: uint64(max(c.lim.CELBytes, 0))})
	switch {
	case err != nil:
		pe.warning.Msg = fmt.Sprintf("warning: estimating CEL cost: %v", err)
	case est.Min > c.lim.CELCost && est.Min != math.MaxUint64: // cel-go's minimum of a call it cannot estimate (lists.range) says nothing
		pe.warning = CostWarning{Certain: true, Msg: fmt.Sprintf("warning: estimated CEL cost %d is over the limit of %d: every evaluation fails", est.Min, c.lim.CELCost)}
	case est.Max == math.MaxUint64:
		pe.warning.Msg = fmt.Sprintf("warning: estimated CEL cost is unbounded (limit %d)", c.lim.CELCost)
	case est.Max > c.lim.CELCost:
		pe.warning.Msg = fmt.Sprintf("warning: estimated CEL cost up to %d is over the limit of %d on lists and strings of %d items", est.Max, c.lim.CELCost, estimatedItems)
	}
	return pe.warning
}

// dataSizes bounds the size of data an expression reads, where
// Kubernetes' estimates use maxLength and maxItems: by estimatedItems.
// Call costs are cel-go's and the kro library's.
type dataSizes struct{ maxBytes uint64 }

func (d dataSizes) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	if d.maxBytes == 0 {
		return nil
	}
	s := checker.SizeEstimate{Min: 0, Max: min(d.maxBytes, estimatedItems)}
	return &s
}

func (dataSizes) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// estimatedItems bounds the strings, lists and maps an expression reads,
// for cost estimates only: kro's default --rgd-max-collection-size, the
// largest list kro expands. Data may be larger (up to CELBytes); estimates
// are meant to find the expressions that fail on ordinary data, not every
// expression that could on some object, which would be nearly all.
const estimatedItems = 1000
