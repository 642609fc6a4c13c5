package model

import (
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	k8s "k8s.io/apiserver/pkg/cel/library"
)

// NewEnv returns a CEL environment like kro v0.9.4's (pkg/cel/environment.go):
// the cel-go extension libraries kro enables, the Kubernetes CEL libraries,
// kro's own library (hash, json, random, maps, list index mutation, omit and
// the runtime variable), `schema` typed from spec, and every name in vars
// declared dyn.
func NewEnv(spec *Type, vars ...string) (*cel.Env, error) {
	env, _, err := DefaultLimits.newEnv(spec, vars, nil)
	if err != nil {
		return nil, err
	}
	// Its every program binds `runtime`; an RGD's bind it where read.
	return env.Extend(cel.Lib(runtimeBinding{}))
}

// runtimeBinding is a library binding `runtime` into every program.
type runtimeBinding struct{}

func (runtimeBinding) LibraryName() string             { return "krosim.kro.runtime" }
func (runtimeBinding) CompileOptions() []cel.EnvOption { return nil }
func (runtimeBinding) ProgramOptions() []cel.ProgramOption {
	return []cel.ProgramOption{runtimeGlobal()}
}

// newEnv is NewEnv whose kro functions refuse results over lim.CELBytes,
// with some vars typed: typed maps a name to its type.
func (lim Limits) newEnv(spec *Type, vars []string, typed map[string]*Type) (*cel.Env, *schemaProvider, error) {
	p := &schemaProvider{Registry: mustRegistry(), objects: map[string]*Type{}}
	root := &Type{Kind: Object, Name: "", Fields: []*Field{
		{Name: "apiVersion", Type: &Type{Kind: String}},
		{Name: "kind", Type: &Type{Kind: String}},
		{Name: "metadata", Type: &Type{Kind: Any}},
		{Name: "spec", Type: spec},
		{Name: "status", Type: &Type{Kind: Any}},
	}}
	opts := []cel.EnvOption{
		cel.CustomTypeProvider(p),
		cel.CustomTypeAdapter(newAdapter()),
		cel.Variable("schema", p.celType(root)),
		ext.Strings(), ext.Lists(), ext.Bindings(), ext.Encoders(),
		ext.TwoVarComprehensions(), cel.OptionalTypes(),
		k8s.Lists(), k8s.URLs(), k8s.Regex(), k8s.Quantity(), k8s.IP(), k8s.CIDR(), k8s.SemverLib(),
		cel.Lib(kroLib{maxBytes: lim.CELBytes, costs: kroCosts(lim.CELBytes)}),
	}
	for _, v := range vars {
		t := types.DynType
		if tt, ok := typed[v]; ok {
			t = p.celType(tt)
		}
		opts = append(opts, cel.Variable(v, t))
	}
	env, err := cel.NewEnv(opts...)
	return env, p, err
}

// schemaProvider types `schema` from the SimpleSchema: fields of objects are
// checked at compile time and read from unstructured maps at run time.
type schemaProvider struct {
	*types.Registry
	objects map[string]*Type // by CEL type name
}

func mustRegistry() *types.Registry {
	r, err := types.NewRegistry()
	if err != nil {
		panic(err) // a registry with no types cannot fail
	}
	return r
}

// celType returns the CEL type of a schema type, registering object types.
// Object names hold a ':' so no identifier path in an expression can name them.
func (p *schemaProvider) celType(t *Type) *types.Type {
	switch t.Kind {
	case String:
		return types.StringType
	case Integer:
		return types.IntType
	case Boolean:
		return types.BoolType
	case Float:
		return types.DoubleType
	case Any:
		return types.NewMapType(types.StringType, types.DynType)
	case Dyn:
		return types.DynType
	case Timestamp:
		return types.TimestampType
	case List:
		return types.NewListType(p.celType(t.Elem))
	case Map:
		return types.NewMapType(types.StringType, p.celType(t.Elem))
	}
	name := "schema:" + t.Name
	if _, ok := p.objects[name]; !ok {
		p.objects[name] = t
		for _, f := range t.Fields {
			p.celType(f.Type)
		}
	}
	return types.NewObjectType(name)
}

func (p *schemaProvider) FindStructType(name string) (*types.Type, bool) {
	if name == conditionTypeName {
		return types.NewTypeTypeWithParam(conditionType), true
	}
	if _, ok := p.objects[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Registry.FindStructType(name)
}

func (p *schemaProvider) FindStructFieldNames(name string) ([]string, bool) {
	if name == conditionTypeName {
		return append([]string(nil), conditionKeys...), true
	}
	t, ok := p.objects[name]
	if !ok {
		return p.Registry.FindStructFieldNames(name)
	}
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = f.Name
	}
	return names, true
}

// A condition's fields are read through its Get (no GetFrom), as in kro.
func (p *schemaProvider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if name == conditionTypeName {
		if slices.Contains(conditionKeys, field) {
			return &types.FieldType{Type: types.StringType}, true
		}
		return nil, false
	}
	t, ok := p.objects[name]
	if !ok {
		return p.Registry.FindStructFieldType(name, field)
	}
	ft := types.DynType
	f := t.Field(field)
	if f != nil {
		ft = p.celType(f.Type)
	} else if !t.Open {
		return nil, false
	}
	isTime := f != nil && f.Type.Kind == Timestamp
	return &types.FieldType{
		Type: ft,
		IsSet: func(obj any) bool {
			_, ok := mapField(obj, field)
			return ok
		},
		GetFrom: func(obj any) (any, error) {
			v, ok := mapField(obj, field)
			if !ok {
				return nil, fmt.Errorf("no such key: %s", field)
			}
			if isTime {
				return timestamp(v), nil
			}
			return v, nil
		},
	}, true
}

// timestamp is the value of a field of format date-time (or date): a
// string in the object, a time to CEL, as Kubernetes' CEL reads it; a value
// that does not parse stays what it is.
func timestamp(v any) any {
	if s, isString := v.(string); isString {
		for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
			if t, err := time.Parse(layout, s); err == nil {
				return t
			}
		}
	}
	return v
}

// mapField reads a field from unstructured data, native or CEL.
func mapField(obj any, field string) (any, bool) {
	switch m := obj.(type) {
	case map[string]any:
		v, ok := m[field]
		return v, ok
	case traits.Mapper:
		return m.Find(types.String(field))
	}
	return nil, false
}

// typeIdents are identifiers that name CEL types rather than variables.
var typeIdents = map[string]bool{
	"bool": true, "bytes": true, "double": true, "duration": true, "dyn": true, "int": true,
	"list": true, "map": true, "null_type": true, "string": true, "timestamp": true,
	"type": true, "uint": true, "optional_type": true,
}

// freeIdents returns the free variables an expression reads, with the AST
// node id where each is first read. Comprehension variables are bound within
// their loop; namespaced function calls such as hash.fnv64a(x) are not reads.
// declared names (resource ids, iterators) win over type names: a resource may be called "list".
func freeIdents(env *cel.Env, a *ast.AST, declared map[string]bool) map[string]int64 {
	out := map[string]int64{}
	var walk func(e ast.Expr, bound map[string]bool)
	walk = func(e ast.Expr, bound map[string]bool) {
		switch e.Kind() {
		case ast.IdentKind:
			name := e.AsIdent()
			if !bound[name] && (!typeIdents[name] || declared[name]) {
				if _, seen := out[name]; !seen {
					out[name] = e.ID()
				}
			}
		case ast.SelectKind:
			walk(e.AsSelect().Operand(), bound)
		case ast.CallKind:
			c := e.AsCall()
			if c.IsMemberFunction() {
				t := c.Target()
				namespaced := t.Kind() == ast.IdentKind && !bound[t.AsIdent()] &&
					env.HasFunction(t.AsIdent()+"."+c.FunctionName())
				if !namespaced {
					walk(t, bound)
				}
			}
			for _, arg := range c.Args() {
				walk(arg, bound)
			}
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			walk(c.IterRange(), bound)
			walk(c.AccuInit(), bound)
			inner := make(map[string]bool, len(bound)+3)
			for k := range bound {
				inner[k] = true
			}
			inner[c.IterVar()] = true
			if c.HasIterVar2() {
				inner[c.IterVar2()] = true
			}
			inner[c.AccuVar()] = true
			walk(c.LoopCondition(), inner)
			walk(c.LoopStep(), inner)
			walk(c.Result(), inner)
		case ast.ListKind:
			for _, el := range e.AsList().Elements() {
				walk(el, bound)
			}
		case ast.MapKind:
			for _, en := range e.AsMap().Entries() {
				me := en.AsMapEntry()
				walk(me.Key(), bound)
				walk(me.Value(), bound)
			}
		case ast.StructKind:
			for _, f := range e.AsStruct().Fields() {
				walk(f.AsStructField().Value(), bound)
			}
		}
	}
	walk(a.Expr(), map[string]bool{})
	return out
}

// Native converts a CEL value into unstructured Go data as Kubernetes holds
// it: map[string]any, []any, string, int64, float64, bool or nil.
func Native(v ref.Val) (any, error) {
	switch x := v.(type) {
	case types.String:
		return stringOf(v), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		return int64(x), nil
	case types.Double:
		return float64(x), nil
	case types.Bool:
		return bool(x), nil
	case types.Null:
		return nil, nil
	case types.Bytes:
		return base64.StdEncoding.EncodeToString(x), nil
	case traits.Mapper:
		out := map[string]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key %v is not a string", k)
			}
			e, err := Native(x.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	case traits.Lister:
		n, _ := x.Size().(types.Int)
		out := make([]any, 0, int(n))
		for it := x.Iterator(); it.HasNext() == types.True; {
			e, err := Native(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case *Condition:
		return map[string]any{"type": x.ConditionType, "status": x.Status, "reason": x.Reason, "message": x.Message}, nil
	case Omitted:
		return nil, fmt.Errorf("omit() requires the CELOmitFunction feature gate to be enabled")
	case *types.Err:
		return nil, x
	}
	if x, ok := v.Value().(interface{ String() string }); ok && (v.Type() == types.TimestampType || v.Type() == types.DurationType) {
		return x.String(), nil
	}
	return nil, fmt.Errorf("cannot convert %s to data", v.Type().TypeName())
}

// celOffset converts a CEL source location (1-based line, 0-based column in runes) to a byte offset.
func celOffset(src string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
	}
	for n := 0; n < col && off < len(src); n++ {
		_, size := utf8.DecodeRuneInString(src[off:])
		off += size
	}
	return off
}

// SelectPaths returns the field paths an expression reads below the
// identifier root, such as [data key] for `cfg.data.key`, sorted.
func (e *Expr) SelectPaths(root string) [][]string {
	seen := map[string][]string{}
	var walk func(x ast.Expr)
	walk = func(x ast.Expr) {
		if path := readPath(x, root, false); path != nil {
			seen[strings.Join(path, ".")] = path
			return
		}
		for _, ch := range children(x) {
			walk(ch)
		}
	}
	walk(e.AST.NativeRep().Expr())
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]string, len(keys))
	for i, k := range keys {
		out[i] = seen[k]
	}
	return out
}

func children(x ast.Expr) []ast.Expr {
	switch x.Kind() {
	case ast.SelectKind:
		return []ast.Expr{x.AsSelect().Operand()}
	case ast.CallKind:
		c := x.AsCall()
		out := append([]ast.Expr{}, c.Args()...)
		if c.IsMemberFunction() {
			out = append(out, c.Target())
		}
		return out
	case ast.ComprehensionKind:
		c := x.AsComprehension()
		return []ast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()}
	case ast.ListKind:
		return x.AsList().Elements()
	case ast.MapKind:
		var out []ast.Expr
		for _, en := range x.AsMap().Entries() {
			me := en.AsMapEntry()
			out = append(out, me.Key(), me.Value())
		}
		return out
	case ast.StructKind:
		var out []ast.Expr
		for _, f := range x.AsStruct().Fields() {
			out = append(out, f.AsStructField().Value())
		}
		return out
	}
	return nil
}

// stringOf is the string a types.String v holds, as an interface sharing
// v's box: an interface holds a string (or types.String, the same header)
// through a pointer to it, so the string needs no box of its own. Every
// expression's string result is converted, and boxing each anew was one
// allocation in twelve of a run. What the box holds is immutable.
func stringOf(v ref.Val) any {
	type iface struct{ tab, data unsafe.Pointer }
	e := eface{typ: stringType, data: (*iface)(unsafe.Pointer(&v)).data}
	return *(*any)(unsafe.Pointer(&e))
}

// eface is the layout of an interface without methods (any).
type eface struct{ typ, data unsafe.Pointer }

// stringType is the type word of an interface holding a string.
var stringType = func() unsafe.Pointer {
	var s any = ""
	return (*eface)(unsafe.Pointer(&s)).typ
}()
