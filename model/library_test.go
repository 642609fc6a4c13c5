package model_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/cel-go/common/types/ref"

	"github.com/krosim/krosim/model"
)

// evalExpr compiles and evaluates src in krosim's CEL environment.
func evalExpr(t *testing.T, src string, vars map[string]any) (ref.Val, error) {
	t.Helper()
	env, err := model.NewEnv(&model.Type{Kind: model.Object, Name: "spec"})
	if err != nil {
		t.Fatal(err)
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		t.Fatalf("compile %q: %v", src, iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatal(err)
	}
	if vars == nil {
		vars = map[string]any{}
	}
	out, _, err := prg.Eval(vars)
	return out, err
}

// TestKroLibrary evaluates kro v0.9.4's own functions. Where a case states
// kro's result, the source is named: kro's docs (website/docs/docs/concepts/
// rgd/04-cel-libraries.md, "libraries doc") or its unit tests
// (pkg/cel/library/*_test.go). The seeded values are kro's: the krodiff
// module evaluates every one of these expressions in kro's own environment too
// (model/krodiff, TestLibraryAgrees).
func TestKroLibrary(t *testing.T) {
	tests := []struct {
		expr    string
		want    any    // Native result
		wantErr string // substring of the evaluation error
	}{
		// random: libraries doc, "Random"; alphabet [0-9a-z], fixed length, same seed same value.
		{expr: `random.seededString(10, 'test-seed')`, want: "5czheg3o5c"},
		{expr: `random.seededString(20, 'test-seed')`, want: "5czheg3o5czheg3o5czh"}, // kro's period of 8
		{expr: `random.seededString(12, 'abc')`, want: "r6qfjs5dr6qf"},
		{expr: `random.seededString(0, 'x')`, wantErr: "random.seededString length must be positive"}, // random_test.go
		{expr: `random.seededString(-1, 'x')`, wantErr: "random.seededString length must be positive"},
		{expr: `random.seededInt(0, 100, 'test-seed')`, want: int64(56)},
		{expr: `random.seededInt(30000, 32768, 'my-service')`, want: int64(31247)}, // libraries doc's port range
		{expr: `random.seededInt(5, 6, 'seed')`, want: int64(5)},                   // random_test.go: a range of one
		{expr: `random.seededInt(-100, -50, 'seed')`, want: int64(-58)},
		{expr: `random.seededInt(5, 5, 'seed')`, wantErr: "random.seededInt min must be less than max"}, // random_test.go
		{expr: `random.seededInt(10, 5, 'seed')`, wantErr: "random.seededInt min must be less than max"},

		// Index mutation: libraries doc, "Index Mutation"; bounds from lists_test.go.
		{expr: `lists.setAtIndex(['a', 'b', 'c'], 1, 'new-tag')`, want: []any{"a", "new-tag", "c"}},
		{expr: `lists.insertAtIndex(['x', 'y'], 0, 'DEBUG=true')`, want: []any{"DEBUG=true", "x", "y"}},
		{expr: `lists.insertAtIndex([1, 2], 2, 3)`, want: []any{int64(1), int64(2), int64(3)}}, // index == size appends
		{expr: `lists.removeAtIndex([80, 443, 8080], 0)`, want: []any{int64(443), int64(8080)}},
		{expr: `lists.setAtIndex(lists.setAtIndex([1, 2, 3], 0, [1, 2, 3][1]), 1, [1, 2, 3][0])`, want: []any{int64(2), int64(1), int64(3)}}, // the doc's swap
		{expr: `lists.setAtIndex([1], 1, 2)`, wantErr: "lists.setAtIndex: index 1 out of bounds [0, 1)"},
		{expr: `lists.insertAtIndex([1], 2, 2)`, wantErr: "lists.insertAtIndex: index 2 out of bounds [0, 1]"},
		{expr: `lists.removeAtIndex([], 0)`, wantErr: "lists.removeAtIndex: index 0 out of bounds [0, 0)"},
		{expr: `lists.removeAtIndex([1], -1)`, wantErr: "out of bounds"},

		// Maps: maps_test.go; the argument's value wins (libraries doc, "Maps").
		{expr: `{'a': 1}.merge({'a': 2, 'b': 2}) == {'a': 2, 'b': 2}`, want: true},
		{expr: `{'a': 1}.merge({'b': 2})`, want: map[string]any{"a": int64(1), "b": int64(2)}},
		{expr: `{}.merge({'a': 'foo'}) == {'a': 'foo'}`, want: true},
		{expr: `{'a': {'x': 1, 'y': 2}}.deepMerge({'a': {'y': 3, 'z': 4}})`, want: map[string]any{"a": map[string]any{"x": int64(1), "y": int64(3), "z": int64(4)}}},
		{expr: `{'a': {'x': 1}, 'keep': 7}.deepMerge({'a': {'y': 2}})`, want: map[string]any{"a": map[string]any{"x": int64(1), "y": int64(2)}, "keep": int64(7)}},
		{expr: `{'a': [1, 2]}.deepMerge({'a': [3]})`, want: map[string]any{"a": []any{int64(3)}}}, // lists are replaced
		{expr: `{'a': 1}.deepMerge({})`, want: map[string]any{"a": int64(1)}},

		// json and hash (libraries doc, "JSON" and "Hash").
		{expr: `json.unmarshal('{"exampleJSONKey": "exampleJSONValue"}').exampleJSONKey`, want: "exampleJSONValue"},
		{expr: `json.marshal({'name': 'web', 'replicas': 2})`, want: `{"name":"web","replicas":2}`},
		{expr: `"%x".format([hash.sha256('abc')])`, want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},

		// runtime (status-conditions doc): newCondition builds, condition looks up.
		{expr: `runtime.newCondition({type: 'AppReady', status: 'True', reason: 'ReplicaCount', message: ''})`,
			want: map[string]any{"type": "AppReady", "status": "True", "reason": "ReplicaCount", "message": ""}},
		{expr: `runtime.newCondition({type: 'A', status: 'False'}).status`, want: "False"},
		{expr: `runtime.newCondition({type: 'A', status: 'maybe'})`, wantErr: "status must be one of True, False, Unknown"},
		{expr: `runtime.condition({'status': {'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'R'}]}}, 'Ready').reason`, want: "R"},
		{expr: `runtime.condition({'status': {'conditions': []}}, 'Ready').status`, want: ""}, // not found: empty condition
		{expr: `runtime.condition({}, 'Ready').type`, want: ""},

		// The Kubernetes libraries kro registers (libraries doc, "IP", "CIDR", "Semver").
		{expr: `ip('10.0.0.1').family()`, want: int64(4)},
		{expr: `cidr('10.0.0.0/8').containsIP('10.1.2.3')`, want: true},
		{expr: `semver('1.2.0').minor()`, want: int64(2)},
		{expr: `semver('1.2.3').compareTo(semver('2.0.0')) >= 0`, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			out, err := evalExpr(t, tc.expr, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("= %v, %v; want error %q", out, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := model.Native(out)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("= %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestSeededDeterminism checks the properties kro's docs promise for the
// random functions over many seeds: same seed, same value; the alphabet; the range.
func TestSeededDeterminism(t *testing.T) {
	for i := 0; i < 50; i++ {
		seed := strings.Repeat("u", i)
		vars := map[string]any{}
		a, err := evalExpr(t, `random.seededString(37, '`+seed+`')`, vars)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := evalExpr(t, `random.seededString(37, '`+seed+`')`, vars)
		s := a.Value().(string)
		if s != b.Value().(string) || len(s) != 37 || strings.Trim(s, "0123456789abcdefghijklmnopqrstuvwxyz") != "" {
			t.Errorf("seed %q: %q then %q", seed, s, b.Value())
		}
		n, err := evalExpr(t, `random.seededInt(-3, 4, '`+seed+`')`, vars)
		if err != nil {
			t.Fatal(err)
		}
		if v := n.Value().(int64); v < -3 || v >= 4 {
			t.Errorf("seededInt(-3, 4, %q) = %d, outside [-3, 4)", seed, v)
		}
	}
}
