package model

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/parser"
)

// kroLib holds kro v0.9.4's own CEL functions (pkg/cel/library): hash, json,
// random, maps, list index mutation, omit and runtime. Signatures, overload
// shapes and results follow kro's; kro's tests and docs are cited where each
// is tested (library_test.go).
type kroLib struct {
	maxBytes int // Limits.CELBytes: the largest string json.marshal and random.seededString build
	costs    costs
}

func (kroLib) LibraryName() string { return "krosim.kro" }

// ProgramOptions are the costs of kro's functions. The `runtime` variable
// is bound by runtimeGlobal into the programs that read it.
func (lib kroLib) ProgramOptions() []cel.ProgramOption {
	return lib.costs.programOptions()
}

// runtimeGlobal binds the `runtime` variable, which kro injects when it
// evaluates status.conditions (the compiler rejects it everywhere else),
// into a program whose expression reads it. Only those: a program with a
// global wraps every evaluation's variables in one more activation.
func runtimeGlobal() cel.ProgramOption {
	return cel.Globals(map[string]any{RuntimeVar: runtimeValue{}})
}

func (lib kroLib) CompileOptions() []cel.EnvOption {
	hash := func(name string, sum func([]byte) []byte) cel.EnvOption {
		return cel.Function("hash."+name, cel.Overload("hash."+name+"_string",
			[]*cel.Type{cel.StringType}, cel.BytesType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				s, ok := v.(types.String)
				if !ok {
					return types.NewErr("hash.%s argument must be a string", name)
				}
				return types.Bytes(sum([]byte(s)))
			})))
	}
	mapKV := cel.MapType(cel.TypeParamType("K"), cel.TypeParamType("V"))
	listT := cel.ListType(cel.TypeParamType("T"))
	t := cel.TypeParamType("T")
	strMap := cel.MapType(cel.StringType, cel.StringType)
	return append(lib.costs.envOptions(),
		hash("fnv64a", func(b []byte) []byte { h := fnv.New64a(); h.Write(b); return h.Sum(nil) }),
		hash("sha256", func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }),
		hash("md5", func(b []byte) []byte { s := md5.Sum(b); return s[:] }),
		cel.Function("json.marshal", cel.Overload("json.marshal_dyn",
			[]*cel.Type{cel.DynType}, cel.StringType, cel.UnaryBinding(lib.jsonMarshal))),
		cel.Function("json.unmarshal", cel.Overload("json.unmarshal_string",
			[]*cel.Type{cel.StringType}, cel.DynType, cel.UnaryBinding(jsonUnmarshal))),

		cel.Function("random.seededString", cel.Overload("random.seededString_int_string",
			[]*cel.Type{cel.IntType, cel.StringType}, cel.StringType, cel.BinaryBinding(lib.seededString))),
		cel.Function("random.seededInt", cel.Overload("random.seededInt_int_int_string",
			[]*cel.Type{cel.IntType, cel.IntType, cel.StringType}, cel.IntType, cel.FunctionBinding(seededInt))),

		cel.Function("merge", cel.MemberOverload("map_merge",
			[]*cel.Type{mapKV, mapKV}, mapKV, cel.BinaryBinding(mergeMaps))),
		cel.Function("deepMerge", cel.MemberOverload("dyn_deepmerge_dyn",
			[]*cel.Type{cel.DynType, cel.DynType}, cel.DynType, cel.BinaryBinding(deepMergeVals))),

		cel.Function("lists.setAtIndex", cel.Overload("lists.setAtIndex_list_int_T",
			[]*cel.Type{listT, cel.IntType, t}, listT, cel.FunctionBinding(listSetAt))),
		cel.Function("lists.insertAtIndex", cel.Overload("lists.insertAtIndex_list_int_T",
			[]*cel.Type{listT, cel.IntType, t}, listT, cel.FunctionBinding(listInsertAt))),
		cel.Function("lists.removeAtIndex", cel.Overload("lists.removeAtIndex_list_int",
			[]*cel.Type{listT, cel.IntType}, listT, cel.BinaryBinding(listRemoveAt))),

		cel.Function("omit", cel.Overload("omit_void", []*cel.Type{}, cel.DynType,
			cel.FunctionBinding(func(...ref.Val) ref.Val { return Omitted{} }))),

		cel.Types(runtimeType),
		cel.Variable(RuntimeVar, runtimeType),
		cel.Function("newCondition", cel.MemberOverload("runtime_newCondition_map",
			[]*cel.Type{runtimeType, strMap}, conditionType, cel.BinaryBinding(newCondition))),
		cel.Function("condition", cel.MemberOverload("runtime_condition_dyn_string",
			[]*cel.Type{runtimeType, cel.DynType, cel.StringType}, conditionType, cel.FunctionBinding(lookupCondition))),
		cel.Macros(parser.NewReceiverMacro("newCondition", 1, newConditionMacro)),
	)
}

// jsonMarshal is kro's json.marshal, bounded: a list that shares itself n
// times is small in CEL and 2^n elements as JSON.
func (lib kroLib) jsonMarshal(v ref.Val) ref.Val {
	native, err := NativeLimit(v, lib.maxBytes)
	if errors.Is(err, ErrTooLarge) {
		return tooLarge("json.marshal", lib.maxBytes)
	}
	if err != nil {
		return types.NewErr("json.marshal failed to convert value: %v", err)
	}
	b, err := json.Marshal(native)
	if err != nil {
		return types.NewErr("json.marshal failed to encode value: %v", err)
	}
	if lib.maxBytes > 0 && len(b) > lib.maxBytes {
		return tooLarge("json.marshal", lib.maxBytes)
	}
	return types.String(b)
}

func jsonUnmarshal(v ref.Val) ref.Val {
	s, ok := v.(types.String)
	if !ok {
		return types.NewErr("json.unmarshal argument must be a string")
	}
	var x any
	if err := json.Unmarshal([]byte(s), &x); err != nil {
		return types.NewErr("json.unmarshal failed to parse JSON: %v", err)
	}
	return types.DefaultTypeAdapter.NativeToValue(x)
}

// seedAlphabet is the alphabet of random.seededString.
const seedAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// seededString is kro's random.seededString(length, seed): character i is
// drawn from bytes 4i..4i+3 (mod 32) of the seed's SHA-256, big-endian,
// modulo 36. kro's code means to rehash once the digest is used up, but its
// bounds check can never fire, so its strings repeat every 8 characters;
// krosim reproduces that, as the test against kro's own code shows.
func (lib kroLib) seededString(length, seed ref.Val) ref.Val {
	n, ok := length.(types.Int)
	if !ok {
		return types.NewErr("random.seededString length must be an integer")
	}
	if n <= 0 {
		return types.NewErr("random.seededString length must be positive")
	}
	if lib.maxBytes > 0 && n > types.Int(lib.maxBytes) {
		return tooLarge("random.seededString", lib.maxBytes)
	}
	s, ok := seed.(types.String)
	if !ok {
		return types.NewErr("random.seededString seed must be a string")
	}
	sum := sha256.Sum256([]byte(s))
	out := make([]byte, n)
	for i := range out {
		start := (i * 4) % len(sum)
		x := uint32(sum[start])<<24 | uint32(sum[start+1])<<16 | uint32(sum[start+2])<<8 | uint32(sum[start+3])
		out[i] = seedAlphabet[x%uint32(len(seedAlphabet))]
	}
	return types.String(out)
}

// seededInt is kro's random.seededInt(min, max, seed): min plus the first 8
// bytes of the seed's SHA-256 (big-endian) modulo max-min, so in [min, max).
func seededInt(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return types.NewErr("random.seededInt requires exactly 3 arguments")
	}
	lo, ok1 := args[0].(types.Int)
	hi, ok2 := args[1].(types.Int)
	s, ok3 := args[2].(types.String)
	switch {
	case !ok1:
		return types.NewErr("random.seededInt min must be an integer")
	case !ok2:
		return types.NewErr("random.seededInt max must be an integer")
	case !ok3:
		return types.NewErr("random.seededInt seed must be a string")
	case lo >= hi:
		return types.NewErr("random.seededInt min must be less than max")
	}
	sum := sha256.Sum256([]byte(s))
	var v uint64
	for _, b := range sum[:8] {
		v = v<<8 | uint64(b)
	}
	return lo + types.Int(v%uint64(hi-lo))
}

// mergeMaps is kro's <map>.merge(map): the union of both, the argument's
// value winning where both have a key.
func mergeMaps(a, b ref.Val) ref.Val {
	am, ok1 := a.(traits.Mapper)
	bm, ok2 := b.(traits.Mapper)
	if !ok1 || !ok2 {
		return types.NewErr("no such overload: %v.merge(%v)", a.Type(), b.Type())
	}
	out := types.NewMutableMap(types.DefaultTypeAdapter, nil)
	for _, m := range []traits.Mapper{bm, am} {
		for it := m.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			if out.Contains(k) != types.True {
				out.Insert(k, m.Get(k))
			}
		}
	}
	return out.ToImmutableMap()
}

// deepMergeVals is kro's <dyn>.deepMerge(dyn): like merge, but where both
// sides hold maps under a key they are merged recursively; lists and scalars
// are replaced by the argument's.
func deepMergeVals(a, b ref.Val) ref.Val {
	am, ok := a.(traits.Mapper)
	if !ok {
		return types.MaybeNoSuchOverloadErr(a)
	}
	bm, ok := b.(traits.Mapper)
	if !ok {
		return types.MaybeNoSuchOverloadErr(b)
	}
	return deepMerge(am, bm)
}

func deepMerge(a, b traits.Mapper) ref.Val {
	if b.Size() == types.IntZero {
		return a
	}
	if a.Size() == types.IntZero {
		return b
	}
	out := map[ref.Val]ref.Val{}
	for it := a.Iterator(); it.HasNext() == types.True; {
		k := it.Next()
		out[k] = a.Get(k)
	}
	for it := b.Iterator(); it.HasNext() == types.True; {
		k := it.Next()
		bv := b.Get(k)
		am, ok1 := out[k].(traits.Mapper)
		bm, ok2 := bv.(traits.Mapper)
		if ok1 && ok2 {
			bv = deepMerge(am, bm)
		}
		out[k] = bv
	}
	return types.NewRefValMap(types.DefaultTypeAdapter, out)
}

// listIndex checks lists.*AtIndex's list and index; hi is the largest index allowed.
func listIndex(fn string, list, index ref.Val, extra int64) (traits.Lister, int64, int64, ref.Val) {
	l, ok := list.(traits.Lister)
	if !ok {
		return nil, 0, 0, types.NewErr("lists.%s: first argument must be a list", fn)
	}
	i, ok := index.(types.Int)
	if !ok {
		return nil, 0, 0, types.NewErr("lists.%s: index must be an integer", fn)
	}
	n := int64(l.Size().(types.Int))
	if int64(i) < 0 || int64(i) >= n+extra {
		if extra > 0 {
			return nil, 0, 0, types.NewErr("lists.%s: index %d out of bounds [0, %d]", fn, i, n)
		}
		return nil, 0, 0, types.NewErr("lists.%s: index %d out of bounds [0, %d)", fn, i, n)
	}
	return l, int64(i), n, nil
}

func elems(l traits.Lister, from, to int64) []ref.Val {
	out := make([]ref.Val, 0, to-from+1)
	for i := from; i < to; i++ {
		out = append(out, l.Get(types.Int(i)))
	}
	return out
}

// listSetAt is lists.setAtIndex(list, i, v): a new list with element i replaced; i in [0, size).
func listSetAt(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return types.NewErr("lists.setAtIndex: expected 3 arguments (arr, index, value)")
	}
	l, i, n, err := listIndex("setAtIndex", args[0], args[1], 0)
	if err != nil {
		return err
	}
	out := elems(l, 0, n)
	out[i] = args[2]
	return types.NewRefValList(types.DefaultTypeAdapter, out)
}

// listInsertAt is lists.insertAtIndex(list, i, v): v inserted before element i; i in [0, size].
func listInsertAt(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return types.NewErr("lists.insertAtIndex: expected 3 arguments (arr, index, value)")
	}
	l, i, n, err := listIndex("insertAtIndex", args[0], args[1], 1)
	if err != nil {
		return err
	}
	out := append(append(elems(l, 0, i), args[2]), elems(l, i, n)...)
	return types.NewRefValList(types.DefaultTypeAdapter, out)
}

// listRemoveAt is lists.removeAtIndex(list, i): a new list without element i; i in [0, size).
func listRemoveAt(list, index ref.Val) ref.Val {
	l, i, n, err := listIndex("removeAtIndex", list, index, 0)
	if err != nil {
		return err
	}
	out := append(elems(l, 0, i), elems(l, i+1, n)...)
	return types.NewRefValList(types.DefaultTypeAdapter, out)
}

// Omitted is the value of omit(): the field holding it is left out of the
// rendered object. kro accepts omit() only behind its CELOmitFunction feature
// gate, off by default, so the loader rejects every RGD that calls it.
type Omitted struct{}

var omitType = types.NewObjectType("kro.omit")

func (Omitted) ConvertToNative(t reflect.Type) (any, error) {
	if t.Kind() == reflect.Interface {
		return Omitted{}, nil
	}
	return nil, fmt.Errorf("unsupported native conversion from omit to %v", t)
}

func (Omitted) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return omitType
	}
	return types.NewErr("unsupported conversion from omit to %v", t)
}

func (Omitted) Equal(ref.Val) ref.Val {
	return types.NewErr("omit() is a field-removal sentinel and cannot be compared")
}

func (Omitted) Type() ref.Type { return omitType }
func (Omitted) Value() any     { return Omitted{} }

// RuntimeVar is the variable kro declares for status.conditions expressions.
const RuntimeVar = "runtime"

const conditionTypeName = "kro.run.Condition"

var (
	runtimeType   = cel.ObjectType("kro.run.Runtime")
	conditionType = cel.ObjectType(conditionTypeName, traits.IndexerType)

	conditionKeys     = []string{"type", "status", "reason", "message"}
	conditionStatuses = map[string]bool{"True": true, "False": true, "Unknown": true}
	builtinConditions = map[string]bool{"InstanceManaged": true, "GraphResolved": true, "ResourcesReady": true, "Ready": true}
)

type runtimeValue struct{}

func (runtimeValue) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("type conversion not supported for kro.run.Runtime")
}

func (r runtimeValue) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case runtimeType:
		return r
	case types.TypeType:
		return runtimeType
	}
	return types.NewErr("type conversion error from kro.run.Runtime to %s", t.TypeName())
}

func (runtimeValue) Equal(o ref.Val) ref.Val { _, ok := o.(runtimeValue); return types.Bool(ok) }
func (runtimeValue) Type() ref.Type          { return runtimeType }
func (r runtimeValue) Value() any            { return r }

// Condition is the value of runtime.newCondition and runtime.condition.
type Condition struct {
	ConditionType, Status, Reason, Message string
}

func (c *Condition) fields() map[string]string {
	return map[string]string{"type": c.ConditionType, "status": c.Status, "reason": c.Reason, "message": c.Message}
}

func (c *Condition) ConvertToNative(t reflect.Type) (any, error) {
	switch {
	case t.Kind() == reflect.Map:
		m := map[string]any{}
		for k, v := range c.fields() {
			m[k] = v
		}
		return m, nil
	case t == reflect.TypeOf(c):
		return c, nil
	}
	return nil, fmt.Errorf("type conversion error from %s to %v", conditionTypeName, t)
}

func (c *Condition) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case conditionType:
		return c
	case types.TypeType:
		return conditionType
	}
	return types.NewErr("type conversion error from %s to %s", conditionTypeName, t.TypeName())
}

func (c *Condition) Equal(o ref.Val) ref.Val {
	oc, ok := o.(*Condition)
	if !ok {
		return types.MaybeNoSuchOverloadErr(o)
	}
	return types.Bool(*c == *oc)
}

func (c *Condition) Type() ref.Type { return conditionType }
func (c *Condition) Value() any     { return c }

func (c *Condition) Get(key ref.Val) ref.Val {
	k, ok := key.(types.String)
	if !ok {
		return types.NewErr("Condition: field key must be a string, got %v", key.Type().TypeName())
	}
	v, ok := c.fields()[string(k)]
	if !ok {
		return types.NewErr("Condition: no such field %q", string(k))
	}
	return types.String(v)
}

// newConditionMacro rewrites runtime.newCondition({type: ..., status: ...}):
// its bare identifier keys become string literals. type and status are
// required; reason and message optional; nothing else is allowed.
func newConditionMacro(eh parser.ExprHelper, target ast.Expr, args []ast.Expr) (ast.Expr, *common.Error) {
	if target == nil || target.Kind() != ast.IdentKind || target.AsIdent() != RuntimeVar {
		return nil, nil
	}
	m := args[0]
	if m.Kind() != ast.MapKind {
		return nil, eh.NewError(m.ID(), "runtime.newCondition: argument must be a map literal")
	}
	seen := map[string]bool{}
	var entries []ast.EntryExpr
	for _, en := range m.AsMap().Entries() {
		me := en.AsMapEntry()
		k := me.Key()
		if k.Kind() != ast.IdentKind {
			return nil, eh.NewError(k.ID(), "runtime.newCondition: keys must be bare identifiers (type, status, reason, message); quoted or computed keys are not allowed")
		}
		name := k.AsIdent()
		switch {
		case !slices.Contains(conditionKeys, name):
			return nil, eh.NewError(k.ID(), fmt.Sprintf("runtime.newCondition: unknown key %q (allowed: type, status, reason, message)", name))
		case seen[name]:
			return nil, eh.NewError(k.ID(), fmt.Sprintf("runtime.newCondition: duplicate key %q", name))
		}
		seen[name] = true
		entries = append(entries, eh.NewMapEntry(eh.NewLiteral(types.String(name)), me.Value(), false))
	}
	for _, req := range []string{"type", "status"} {
		if !seen[req] {
			return nil, eh.NewError(m.ID(), fmt.Sprintf("runtime.newCondition: '%s' is required", req))
		}
	}
	return eh.NewMemberCall("newCondition", target, eh.NewMap(entries...)), nil
}

func newCondition(_, arg ref.Val) ref.Val {
	m, ok := arg.(traits.Mapper)
	if !ok {
		return types.NewErr("runtime.newCondition: argument must be a map, got %v", arg.Type().TypeName())
	}
	c := &Condition{}
	for it := m.Iterator(); it.HasNext() == types.True; {
		k := it.Next()
		key, _ := k.(types.String)
		v := m.Get(k)
		if types.IsError(v) {
			return v
		}
		s, ok := v.(types.String)
		if !ok {
			return types.NewErr("runtime.newCondition: %s must be a string, got %v", key, v.Type().TypeName())
		}
		switch key {
		case "type":
			if s == "" {
				return types.NewErr("runtime.newCondition: type must not be empty")
			}
			c.ConditionType = string(s)
		case "status":
			if !conditionStatuses[string(s)] {
				return types.NewErr("runtime.newCondition: status must be one of True, False, Unknown (got %q)", string(s))
			}
			c.Status = string(s)
		case "reason":
			c.Reason = string(s)
		case "message":
			c.Message = string(s)
		}
	}
	return c
}

// lookupCondition is runtime.condition(obj, type): the condition of that
// type in obj.status.conditions, or an empty condition.
func lookupCondition(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return types.NewErr("runtime.condition: expected 3 arguments (receiver, obj, type), got %d", len(args))
	}
	want, ok := args[2].(types.String)
	if !ok {
		return types.NewErr("runtime.condition: type must be a string, got %v", args[2].Type().TypeName())
	}
	obj, ok := args[1].(traits.Mapper)
	if !ok {
		return types.NewErr("runtime.condition: obj must be an object, got %v", args[1].Type().TypeName())
	}
	st, found := obj.Find(types.String("status"))
	if !found {
		return &Condition{}
	}
	stm, ok := st.(traits.Mapper)
	if !ok {
		return types.NewErr("runtime.condition: obj.status must be an object")
	}
	cs, found := stm.Find(types.String("conditions"))
	if !found {
		return &Condition{}
	}
	list, ok := cs.(traits.Lister)
	if !ok {
		return types.NewErr("runtime.condition: obj.status.conditions must be a list")
	}
	for it := list.Iterator(); it.HasNext() == types.True; {
		var c *Condition
		switch e := it.Next().(type) {
		case *Condition:
			c = e
		case traits.Mapper:
			c = conditionFromMap(e)
		default:
			return types.NewErr("runtime.condition: unexpected condition element type %v", e.Type().TypeName())
		}
		if c.ConditionType == string(want) {
			return c
		}
	}
	return &Condition{}
}

func conditionFromMap(m traits.Mapper) *Condition {
	read := func(key string) string {
		v, ok := m.Find(types.String(key))
		if !ok {
			return ""
		}
		s, _ := v.(types.String)
		return string(s)
	}
	return &Condition{ConditionType: read("type"), Status: read("status"), Reason: read("reason"), Message: read("message")}
}
