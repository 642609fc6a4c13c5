package model

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// TypeKind is the kind of a SimpleSchema type.
type TypeKind int

const (
	String TypeKind = iota
	Integer
	Boolean
	Float
	Object // fields known (nested mapping or a custom type)
	Any    // `object`: free-form, any keys
	List
	Map
	// Only OpenAPI schemas of resources give these.
	Dyn       // int-or-string, schemaless or unknown: anything
	Timestamp // string of format date-time or date
)

var kindNames = map[TypeKind]string{String: "string", Integer: "integer", Boolean: "boolean",
	Float: "float", Object: "object", Any: "object", List: "list", Map: "map",
	Dyn: "dyn", Timestamp: "timestamp"}

func (k TypeKind) String() string { return kindNames[k] }

// Type is a SimpleSchema type.
type Type struct {
	Kind   TypeKind
	Name   string   // custom type name, or the dotted path of a nested object
	Elem   *Type    // List and Map elements
	Fields []*Field // Object fields, in YAML order
	Open   bool     // Object: unknown fields are allowed and typed dyn (x-kubernetes-preserve-unknown-fields)
	// Alias is the definition of a custom type written as a type string
	// (kro's type alias, "Port: integer | minimum=1 default=80"): its
	// markers, which a field of the type takes unless it sets them itself.
	Alias *Field
}

// Field is a named schema field with its markers.
type Field struct {
	Name       string
	Type       *Type
	Required   bool
	HasDefault bool
	Default    any
	Markers    map[string]string
	Pos        Pos
}

// Field returns the named field of an object type, or nil.
func (t *Type) Field(name string) *Field {
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Defaults returns the value an instance gets when it sets nothing: every
// field with a default, and nested objects that end up non-empty.
func (t *Type) Defaults() map[string]any {
	out := map[string]any{}
	for _, f := range t.Fields {
		switch {
		case f.HasDefault:
			out[f.Name] = Clone(f.Default)
		case f.Type.Kind == Object:
			if d := f.Type.Defaults(); len(d) > 0 {
				out[f.Name] = d
			}
		}
	}
	return out
}

var knownMarkers = map[string]bool{
	"required": true, "default": true, "description": true, "minimum": true, "maximum": true,
	"validation": true, "enum": true, "immutable": true, "pattern": true, "minLength": true,
	"maxLength": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"listType": true, "listMapKey": true, "format": true, "exclusiveMinimum": true,
	"exclusiveMaximum": true, "multipleOf": true, "minProperties": true, "maxProperties": true,
}

// parseTypeExpr parses `type | marker=value ...` into a field. types resolves custom type names.
func parseTypeExpr(name, s string, types map[string]*Type) (*Field, error) {
	typ, markers, _ := strings.Cut(s, "|")
	t, err := parseType(strings.TrimSpace(typ), types)
	if err != nil {
		return nil, err
	}
	f := &Field{Name: name, Type: t, Markers: map[string]string{}}
	ms, err := splitMarkers(markers)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if !knownMarkers[m[0]] {
			return nil, fmt.Errorf("unknown marker %q", m[0])
		}
		f.Markers[m[0]] = m[1]
	}
	if t.Alias != nil { // the alias's schema, the field's markers over it
		for k, v := range t.Alias.Markers {
			if _, set := f.Markers[k]; !set {
				f.Markers[k] = v
			}
		}
	}
	if v, ok := f.Markers["required"]; ok {
		f.Required = v == "" || v == "true"
	}
	if v, ok := f.Markers["default"]; ok {
		d, err := parseValue(t, v)
		if err != nil {
			return nil, fmt.Errorf("default %q is not a valid %s: %v", v, typeString(t), err)
		}
		f.Default, f.HasDefault = d, true
	}
	bounds := map[string]float64{}
	for _, k := range []string{"minimum", "maximum"} {
		if v, ok := f.Markers[k]; ok {
			b, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("%s %q is not a number", k, v)
			}
			bounds[k] = b
		}
	}
	if !f.HasDefault {
		return f, nil
	}
	// The API server rejects a schema whose default breaks its own rules.
	if enum, ok := f.Markers["enum"]; ok && (t.Kind == String || t.Kind == Integer) {
		found := false
		for _, e := range strings.Split(enum, ",") {
			if v, err := parseValue(t, strings.TrimSpace(e)); err == nil && v == f.Default {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("default %v is not one of enum %s", f.Default, enum)
		}
	}
	var num float64
	switch d := f.Default.(type) {
	case int64:
		num = float64(d)
	case float64:
		num = d
	default:
		return f, nil
	}
	if b, ok := bounds["minimum"]; ok && num < b {
		return nil, fmt.Errorf("default %v is below minimum %v", f.Default, b)
	}
	if b, ok := bounds["maximum"]; ok && num > b {
		return nil, fmt.Errorf("default %v is above maximum %v", f.Default, b)
	}
	return f, nil
}

// parseType parses a SimpleSchema type name.
func parseType(s string, types map[string]*Type) (*Type, error) {
	switch {
	case s == "string":
		return &Type{Kind: String}, nil
	case s == "integer":
		return &Type{Kind: Integer}, nil
	case s == "boolean":
		return &Type{Kind: Boolean}, nil
	case s == "float", s == "number":
		return &Type{Kind: Float}, nil
	case s == "object":
		return &Type{Kind: Any}, nil
	case strings.HasPrefix(s, "[]"):
		e, err := parseType(s[2:], types)
		if err != nil {
			return nil, err
		}
		return &Type{Kind: List, Elem: e}, nil
	case strings.HasPrefix(s, "map[string]"):
		e, err := parseType(s[len("map[string]"):], types)
		if err != nil {
			return nil, err
		}
		return &Type{Kind: Map, Elem: e}, nil
	case s == "":
		return nil, fmt.Errorf("missing type")
	}
	if t, ok := types[s]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("unknown type %q (want string, integer, boolean, float, object, []T, map[string]T or a type from spec.schema.types)", s)
}

func typeString(t *Type) string {
	switch t.Kind {
	case List:
		return "[]" + typeString(t.Elem)
	case Map:
		return "map[string]" + typeString(t.Elem)
	case Object:
		if t.Name != "" {
			return t.Name
		}
	}
	return t.Kind.String()
}

// quotedMarker reads the quoted marker value opening at s[open]: the index
// of its closing quote and its text, unescaped as kro does: \" and \\ stand
// for a quote and a backslash, and any other backslash stays as written, so
// that a pattern such as "^\d+\.[a-z]+$" means what it says. ok is false
// when the quote is never closed.
func quotedMarker(s string, open int) (end int, value string, ok bool) {
	var b strings.Builder
	for k := open + 1; k < len(s); k++ {
		switch c := s[k]; {
		case c == '"':
			return k, b.String(), true
		case c == '\\' && k+1 < len(s):
			k++
			if next := s[k]; next != '"' && next != '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[k])
		default:
			b.WriteByte(c)
		}
	}
	return 0, "", false
}

// splitMarkers splits `a=1 b="x y" c=[1,2]` into key/value pairs. Values may be
// double-quoted or bracketed JSON, which may contain spaces.
func splitMarkers(s string) ([][2]string, error) {
	var out [][2]string
	i := 0
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		k := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' {
			i++
		}
		key := s[k:i]
		if i >= len(s) || s[i] == ' ' { // kro rejects a marker without "=value"
			return nil, fmt.Errorf("marker %s without a value (want %s=value)", key, key)
		}
		i++ // '='
		v := i
		switch {
		case i < len(s) && s[i] == '"':
			end, un, ok := quotedMarker(s, i)
			if !ok {
				return nil, fmt.Errorf("marker %s: unterminated quoted value", key)
			}
			out = append(out, [2]string{key, un})
			i = end + 1
			continue
		case i < len(s) && (s[i] == '[' || s[i] == '{'):
			end, err := matchBracket(s, i)
			if err != nil {
				return nil, fmt.Errorf("marker %s: %v", key, err)
			}
			i = end + 1
		default:
			for i < len(s) && s[i] != ' ' {
				i++
			}
		}
		out = append(out, [2]string{key, s[v:i]})
	}
}

func matchBracket(s string, open int) (int, error) {
	depth := 0
	for j := open; j < len(s); j++ {
		switch s[j] {
		case '"':
			end, err := skipQuoted(s, j)
			if err != nil {
				return 0, err
			}
			j = end
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced %c", s[open])
}

// parseValue parses a marker value (default, enum item) as a value of type t.
func parseValue(t *Type, v string) (any, error) {
	switch t.Kind {
	case String:
		if strings.HasPrefix(v, `"`) {
			return strconv.Unquote(v)
		}
		return v, nil
	case Integer:
		return strconv.ParseInt(v, 10, 64)
	case Boolean:
		return strconv.ParseBool(v)
	case Float:
		f, err := strconv.ParseFloat(v, 64)
		if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			// A CRD default is JSON, which has no NaN or infinity.
			return nil, fmt.Errorf("not a finite number")
		}
		return f, err
	}
	var x any
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	return conform(t, normalizeJSON(x))
}

// normalizeJSON turns json.Number into int64 or float64, as Kubernetes unstructured data holds them.
func normalizeJSON(x any) any {
	switch v := x.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = normalizeJSON(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = normalizeJSON(v[k])
		}
	}
	return x
}

// conform checks that a decoded value fits type t.
func conform(t *Type, x any) (any, error) {
	bad := func() (any, error) { return nil, fmt.Errorf("%v is not a %s", x, typeString(t)) }
	switch t.Kind {
	case String:
		if _, ok := x.(string); !ok {
			return bad()
		}
	case Integer:
		if _, ok := x.(int64); !ok {
			return bad()
		}
	case Boolean:
		if _, ok := x.(bool); !ok {
			return bad()
		}
	case Float:
		switch v := x.(type) {
		case int64:
			return float64(v), nil
		case float64:
		default:
			return bad()
		}
	case List:
		l, ok := x.([]any)
		if !ok {
			return bad()
		}
		for i := range l {
			v, err := conform(t.Elem, l[i])
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
	case Map, Object:
		m, ok := x.(map[string]any)
		if !ok {
			return bad()
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			et := t.Elem
			if t.Kind == Object {
				f := t.Field(k)
				if f == nil {
					return nil, fmt.Errorf("%s has no field %q", typeString(t), k)
				}
				et = f.Type
			}
			v, err := conform(et, m[k])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
	}
	return x, nil
}

// Clone deep-copies unstructured data: maps, lists and scalars.
func Clone(x any) any {
	switch v := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = Clone(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = Clone(e)
		}
		return l
	}
	return x
}

// TypeCycleError reports custom types that contain themselves, directly or
// through other types, lists and maps. kro rejects them (its custom types
// are built in dependency order), and a value of one would be endless.
type TypeCycleError struct {
	Cycle []string // type names along the cycle; the first is repeated at the end
}

func (e *TypeCycleError) Error() string {
	return fmt.Sprintf("cyclic dependency in type %s: graph contains a cycle: %s", e.Cycle[0], strings.Join(e.Cycle, " -> "))
}

// typeRef is a use of a custom type in another type's fields.
type typeRef struct {
	name string
	pos  Pos // of the field that uses it
}

// typeRefs returns the custom types that t's fields use, in field order:
// directly, as list or map elements, or inside nested objects.
func typeRefs(t *Type, types map[string]*Type) []typeRef {
	var out []typeRef
	var visit func(ft *Type, at Pos)
	visit = func(ft *Type, at Pos) {
		for {
			if ft == nil {
				return
			}
			if types[ft.Name] == ft { // a custom type, a struct or an alias
				out = append(out, typeRef{ft.Name, at})
				return
			}
			if ft.Kind != List && ft.Kind != Map {
				break
			}
			ft = ft.Elem
		}
		if ft.Kind != Object {
			return
		}
		for _, f := range ft.Fields {
			visit(f.Type, f.Pos)
		}
	}
	if t.Alias != nil { // an alias uses what its type string names ("[]B": B)
		visit(t.Alias.Type, t.Alias.Pos)
		return out
	}
	for _, f := range t.Fields {
		visit(f.Type, f.Pos)
	}
	return out
}

// typeCycle is one cycle among custom types, positioned at the field where
// its first type uses the next.
type typeCycle struct {
	err *TypeCycleError
	pos Pos
}

// typeCycles returns the cycles a depth-first search over the custom types
// meets, starting from each in the given (YAML) order: one per edge that
// closes a cycle, so every cyclic type is named at least once.
func typeCycles(names []string, types map[string]*Type) []typeCycle {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	type frame struct {
		name string
		refs []typeRef
		next int // index of the ref being followed
	}
	var cycles []typeCycle
	for _, root := range names {
		if state[root] != unseen {
			continue
		}
		state[root] = open
		stack := []*frame{{name: root, refs: typeRefs(types[root], types)}}
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.next == len(top.refs) {
				state[top.name] = done
				stack = stack[:len(stack)-1]
				continue
			}
			ref := top.refs[top.next]
			top.next++
			switch state[ref.name] {
			case unseen:
				state[ref.name] = open
				stack = append(stack, &frame{name: ref.name, refs: typeRefs(types[ref.name], types)})
			case open:
				from := len(stack) - 1
				for stack[from].name != ref.name {
					from--
				}
				c := &TypeCycleError{}
				for _, f := range stack[from:] {
					c.Cycle = append(c.Cycle, f.name)
				}
				c.Cycle = append(c.Cycle, ref.name)
				// stack[from].next-1 is the ref it followed along the cycle.
				start := stack[from]
				cycles = append(cycles, typeCycle{err: c, pos: start.refs[start.next-1].pos})
			}
		}
	}
	return cycles
}

// expandedFields counts the fields of t with every custom type expanded where
// it is used, stopping once the count passes limit. A type met again while
// it is being counted (a cycle) counts as over the limit.
func expandedFields(t *Type, limit int) int {
	memo := map[*Type]int{}
	var count func(t *Type, depth int) int
	count = func(t *Type, depth int) int {
		for t.Kind == List || t.Kind == Map {
			t = t.Elem
		}
		if t.Kind != Object {
			return 0
		}
		if n, ok := memo[t]; ok {
			return n
		}
		memo[t] = limit + 1
		if depth > limit { // each level holds a field at least
			return limit + 1
		}
		n := 0
		for _, f := range t.Fields {
			n += 1 + count(f.Type, depth+1)
			if n > limit {
				return n
			}
		}
		memo[t] = n
		return n
	}
	return count(t, 0)
}
