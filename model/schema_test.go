package model

import (
	"reflect"
	"strings"
	"testing"
)

// testTypes holds custom types as spec.schema.types would declare them.
func testTypes() map[string]*Type {
	feature := &Type{Kind: Object, Name: "Feature"}
	feature.Fields = []*Field{
		{Name: "name", Type: &Type{Kind: String}},
		{Name: "enabled", Type: &Type{Kind: Boolean}},
	}
	return map[string]*Type{"Feature": feature}
}

func TestParseType(t *testing.T) {
	tests := []struct {
		in   string
		want string // typeString of the result
		kind TypeKind
	}{
		{in: "string", want: "string", kind: String},
		{in: "integer", want: "integer", kind: Integer},
		{in: "boolean", want: "boolean", kind: Boolean},
		{in: "float", want: "float", kind: Float},
		{in: "number", want: "float", kind: Float},
		{in: "object", want: "object", kind: Any},
		{in: "[]string", want: "[]string", kind: List},
		{in: "[][]integer", want: "[][]integer", kind: List},
		{in: "map[string]integer", want: "map[string]integer", kind: Map},
		{in: "map[string][]boolean", want: "map[string][]boolean", kind: Map},
		{in: "[]map[string]float", want: "[]map[string]float", kind: List},
		{in: "Feature", want: "Feature", kind: Object},
		{in: "[]Feature", want: "[]Feature", kind: List},
		{in: "map[string]Feature", want: "map[string]Feature", kind: Map},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseType(tt.in, testTypes())
			if err != nil {
				t.Fatalf("parseType(%q): %v", tt.in, err)
			}
			if got.Kind != tt.kind || typeString(got) != tt.want {
				t.Errorf("parseType(%q) = %v %s, want %v %s", tt.in, got.Kind, typeString(got), tt.kind, tt.want)
			}
		})
	}
}

func TestParseTypeCustomIsShared(t *testing.T) {
	types := testTypes()
	got, err := parseType("[]Feature", types)
	if err != nil {
		t.Fatal(err)
	}
	if got.Elem != types["Feature"] {
		t.Errorf("[]Feature element is a copy; want the declared type so fields resolve")
	}
}

func TestParseTypeExpr(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		typ        string
		required   bool
		hasDefault bool
		def        any
		markers    map[string]string // checked when not nil
	}{
		{name: "bare type", in: "string", typ: "string", markers: map[string]string{}},
		{name: "spaces around", in: "  integer   |   default=3  ", typ: "integer", hasDefault: true, def: int64(3)},
		{name: "plain string default", in: "string | default=web", typ: "string", hasDefault: true, def: "web"},
		{name: "quoted default with spaces", in: `string | default="hello big world"`, typ: "string", hasDefault: true, def: "hello big world"},
		{name: "quoted default with escaped quotes", in: `string | default="say \"hi\""`, typ: "string", hasDefault: true, def: `say "hi"`},
		{name: "empty quoted default", in: `string | default=""`, typ: "string", hasDefault: true, def: ""},
		{name: "quoted default holding a pipe", in: `string | default="a|b" description="x | y"`, typ: "string", hasDefault: true, def: "a|b",
			markers: map[string]string{"default": "a|b", "description": "x | y"}},
		{name: "integer default", in: "integer | default=8080", typ: "integer", hasDefault: true, def: int64(8080)},
		{name: "negative integer default", in: "integer | default=-1", typ: "integer", hasDefault: true, def: int64(-1)},
		{name: "float default", in: "float | default=1.5", typ: "float", hasDefault: true, def: 1.5},
		{name: "float default written as integer", in: "float | default=2", typ: "float", hasDefault: true, def: 2.0},
		{name: "boolean default", in: "boolean | default=true", typ: "boolean", hasDefault: true, def: true},
		{name: "JSON list default", in: `[]string | default=["a", "b c"]`, typ: "[]string", hasDefault: true, def: []any{"a", "b c"}},
		{name: "JSON list of integers", in: `[]integer | default=[1,2,3]`, typ: "[]integer", hasDefault: true, def: []any{int64(1), int64(2), int64(3)}},
		{name: "JSON list of floats from integers", in: `[]float | default=[1, 2.5]`, typ: "[]float", hasDefault: true, def: []any{1.0, 2.5}},
		{name: "JSON object default", in: `map[string]integer | default={"a": 1, "b": 2}`, typ: "map[string]integer", hasDefault: true,
			def: map[string]any{"a": int64(1), "b": int64(2)}},
		{name: "nested JSON default", in: `map[string][]string | default={"x": ["y", "z w"]}`, typ: "map[string][]string", hasDefault: true,
			def: map[string]any{"x": []any{"y", "z w"}}},
		{name: "custom type default", in: `Feature | default={"name": "beta", "enabled": true}`, typ: "Feature", hasDefault: true,
			def: map[string]any{"name": "beta", "enabled": true}},
		{name: "free-form object default", in: `object | default={"k": {"n": 1.5}}`, typ: "object", hasDefault: true,
			def: map[string]any{"k": map[string]any{"n": 1.5}}},
		{name: "enum", in: `string | enum="debug,info,warn" default=info`, typ: "string", hasDefault: true, def: "info",
			markers: map[string]string{"enum": "debug,info,warn", "default": "info"}},
		{name: "minimum and maximum", in: "integer | minimum=1 maximum=65535", typ: "integer",
			markers: map[string]string{"minimum": "1", "maximum": "65535"}},
		{name: "decimal minimum", in: "float | minimum=0.1", typ: "float", markers: map[string]string{"minimum": "0.1"}},
		{name: "required=true", in: "string | required=true", typ: "string", required: true},
		{name: "required=false", in: "string | required=false", typ: "string", required: false},
		{name: "pattern with brackets", in: `string | pattern="^[a-z]+$"`, typ: "string", markers: map[string]string{"pattern": "^[a-z]+$"}},
		{name: "validation with spaces", in: `string | validation="self.size() > 0"`, typ: "string",
			markers: map[string]string{"validation": "self.size() > 0"}},
		{name: "description with spaces", in: `integer | description="How many copies to run" default=2`, typ: "integer", hasDefault: true, def: int64(2),
			markers: map[string]string{"description": "How many copies to run", "default": "2"}},
		{name: "list markers", in: `[]string | minItems=1 maxItems=3 uniqueItems=true`, typ: "[]string",
			markers: map[string]string{"minItems": "1", "maxItems": "3", "uniqueItems": "true"}},
		// kro (pkg/simpleschema/markers.go) accepts listType and listMapKey on lists.
		{name: "listType", in: `[]string | listType=set`, typ: "[]string", markers: map[string]string{"listType": "set"}},
		{name: "listMapKey", in: `[]Feature | listType=map listMapKey=name`, typ: "[]Feature",
			markers: map[string]string{"listType": "map", "listMapKey": "name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseTypeExpr("field", tt.in, testTypes())
			if err != nil {
				t.Fatalf("parseTypeExpr(%q): %v", tt.in, err)
			}
			if got := typeString(f.Type); got != tt.typ {
				t.Errorf("type %s, want %s", got, tt.typ)
			}
			if f.Name != "field" || f.Required != tt.required || f.HasDefault != tt.hasDefault {
				t.Errorf("name %q required %v hasDefault %v, want field %v %v", f.Name, f.Required, f.HasDefault, tt.required, tt.hasDefault)
			}
			if !reflect.DeepEqual(f.Default, tt.def) {
				t.Errorf("default = %#v, want %#v", f.Default, tt.def)
			}
			if tt.markers != nil && !reflect.DeepEqual(f.Markers, tt.markers) {
				t.Errorf("markers = %q, want %q", f.Markers, tt.markers)
			}
		})
	}
}

func TestParseTypeExprErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // a substring of the error
	}{
		{name: "unknown type", in: "integr | default=1", want: `unknown type "integr"`},
		{name: "unknown element type", in: "[]strin", want: `unknown type "strin"`},
		{name: "map with non-string keys", in: "map[int]string", want: `unknown type "map[int]string"`},
		{name: "missing type", in: "| default=1", want: "missing type"},
		{name: "empty", in: "", want: "missing type"},
		{name: "unknown marker", in: "string | defualt=x", want: `unknown marker "defualt"`},
		{name: "bare marker", in: "string | required", want: "marker required without a value (want required=value)"},
		{name: "bare marker first", in: "string | required description=x", want: "marker required without a value"},
		{name: "integer default not a number", in: "integer | default=abc", want: `default "abc" is not a valid integer`},
		{name: "integer default with a fraction", in: "integer | default=3.14", want: `default "3.14" is not a valid integer`},
		{name: "boolean default yes", in: "boolean | default=yes", want: `default "yes" is not a valid boolean`},
		{name: "float default", in: "float | default=fast", want: `default "fast" is not a valid float`},
		{name: "list default not JSON", in: "[]string | default=[a,b]", want: "is not a valid []string"},
		{name: "list default of wrong elements", in: `[]integer | default=["a"]`, want: "is not a valid []integer"},
		{name: "list default that is an object", in: `[]string | default={"a": "b"}`, want: "is not a valid []string"},
		{name: "map default of wrong values", in: `map[string]boolean | default={"a": 1}`, want: "is not a valid map[string]boolean"},
		{name: "custom default with unknown field", in: `Feature | default={"nope": 1}`, want: `has no field "nope"`},
		{name: "unterminated quoted default", in: `string | default="abc`, want: "unterminated quoted value"},
		{name: "unbalanced JSON default", in: `[]string | default=["a", "b"`, want: "unbalanced ["},
		{name: "minimum not a number", in: "integer | minimum=one", want: `minimum "one" is not a number`},
		{name: "maximum not a number", in: "integer | maximum=", want: `maximum "" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseTypeExpr("field", tt.in, testTypes())
			if err == nil {
				t.Fatalf("parseTypeExpr(%q) = %+v, want an error containing %q", tt.in, f, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseTypeExpr(%q) error %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestSplitMarkers(t *testing.T) {
	tests := []struct {
		in   string
		want [][2]string
	}{
		{in: "", want: nil},
		{in: "   ", want: nil},
		{in: "default=1", want: [][2]string{{"default", "1"}}},
		{in: "  default=1   minimum=0 ", want: [][2]string{{"default", "1"}, {"minimum", "0"}}},
		{in: `description="a b  c" default=x`, want: [][2]string{{"description", "a b  c"}, {"default", "x"}}},
		{in: `default=[1, [2, 3]] required=true`, want: [][2]string{{"default", "[1, [2, 3]]"}, {"required", "true"}}},
		{in: `default={"a": "]} ["}`, want: [][2]string{{"default", `{"a": "]} ["}`}}},
		{in: `default=`, want: [][2]string{{"default", ""}}},
		// Quoted values unescape as kro's do: \" and \\ only; any other
		// backslash stays, as a regular expression needs it.
		{in: `pattern="^[a-z]+\.[a-z]{2,}$" default="x"`, want: [][2]string{{"pattern", `^[a-z]+\.[a-z]{2,}$`}, {"default", "x"}}},
		{in: `pattern="^\d+$" description="a\tb"`, want: [][2]string{{"pattern", `^\d+$`}, {"description", `a\tb`}}},
		{in: `description="say \"hi\" \\ bye"`, want: [][2]string{{"description", `say "hi" \ bye`}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := splitMarkers(tt.in)
			if err != nil {
				t.Fatalf("splitMarkers(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitMarkers(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

const defaultsRGD = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: defaults
spec:
  schema:
    apiVersion: v1alpha1
    kind: Defaults
    types:
      Port:
        number: integer | default=80
        name: string
    spec:
      name: string | default="my app"
      replicas: integer | default=2
      noDefault: string
      tags: '[]string | default=["a", "b"]'
      labels: 'map[string]string | default={"team": "core"}'
      db:
        user: string | default=admin
        pool:
          size: integer | default=10
      empty:
        note: string
      port: Port
`

func TestDefaults(t *testing.T) {
	gs, err := Load("defaults.yaml", []byte(defaultsRGD))
	if err != nil {
		t.Fatal(err)
	}
	spec := gs[0].Spec
	want := map[string]any{
		"name":     "my app",
		"replicas": int64(2),
		"tags":     []any{"a", "b"},
		"labels":   map[string]any{"team": "core"},
		"db":       map[string]any{"user": "admin", "pool": map[string]any{"size": int64(10)}},
		"port":     map[string]any{"number": int64(80)},
	}
	got := spec.Defaults()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Defaults() = %#v\nwant %#v", got, want)
	}
	// The result is the caller's to change: it must not alias the schema.
	got["tags"].([]any)[0] = "changed"
	got["labels"].(map[string]any)["team"] = "changed"
	if again := spec.Defaults(); !reflect.DeepEqual(again, want) {
		t.Errorf("changing one Defaults() result changed the next: %#v", again)
	}
	if f := spec.Field("db").Type.Field("pool").Type.Field("size"); f == nil || f.Default != int64(10) {
		t.Errorf("spec.db.pool.size = %+v, want default 10", f)
	}
	if spec.Field("nope") != nil {
		t.Error(`Field("nope") found a field`)
	}
}

func TestDefaultMustSatisfyItsMarkers(t *testing.T) {
	for _, tc := range []struct{ name, expr, want string }{
		{"enum", "string | enum=a,b default=c", "default c is not one of enum a,b"},
		{"minimum", "integer | minimum=1 default=0", "default 0 is below minimum 1"},
		{"maximum", "float | maximum=2.5 default=3", "default 3 is above maximum 2.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTypeExpr("f", tc.expr, nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("parseTypeExpr(%q) = %v, want %q", tc.expr, err, tc.want)
			}
		})
	}
	if _, err := parseTypeExpr("f", "integer | enum=1,2 minimum=1 default=2", nil); err != nil {
		t.Errorf("a valid default was rejected: %v", err)
	}
}

// TestTypeAlias loads custom types written as type strings (kro's type
// aliases): a field of such a type takes the alias's markers, default and
// required included, unless it sets them itself.
func TestTypeAlias(t *testing.T) {
	const rgd = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: alias
spec:
  schema:
    apiVersion: v1alpha1
    kind: Alias
    types:
      Server:
        port: Port
        admin: Port | default=9090
      Port: integer | default=8080 minimum=1 maximum=65535
      Name: string | required=true
    spec:
      name: Name
      server: Server
      ports: '[]Port'
  resources:
    - id: cm
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.spec.name}
        data:
          port: ${string(schema.spec.server.port + schema.spec.server.admin)}
`
	gs, err := Load("alias.yaml", []byte(rgd))
	if err != nil {
		t.Fatal(err)
	}
	spec := gs[0].Spec
	server := spec.Field("server").Type
	for _, c := range []struct {
		f    *Field
		want any
	}{{server.Field("port"), int64(8080)}, {server.Field("admin"), int64(9090)}} {
		if c.f.Type.Kind != Integer || !c.f.HasDefault || c.f.Default != c.want || c.f.Markers["maximum"] != "65535" {
			t.Errorf("%s: kind %v, default %v (%v), markers %v; want an integer defaulting to %v, at most 65535",
				c.f.Name, c.f.Type.Kind, c.f.Default, c.f.HasDefault, c.f.Markers, c.want)
		}
	}
	if f := spec.Field("name"); f.Type.Kind != String || !f.Required {
		t.Errorf("name: kind %v, required %v; want a required string", f.Type.Kind, f.Required)
	}
	if l := spec.Field("ports").Type; l.Kind != List || l.Elem.Kind != Integer {
		t.Errorf("ports: %s, want a list of integers", typeString(l))
	}
	if _, err := Load("bad.yaml", []byte(strings.Replace(rgd, "default=8080", "default=0", 1))); err == nil ||
		!strings.Contains(err.Error(), "types.Port") {
		t.Errorf("an alias whose default breaks its minimum: %v, want an error naming types.Port", err)
	}
}
