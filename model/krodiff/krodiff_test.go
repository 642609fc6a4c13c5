package krodiff

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types/ref"
	"github.com/kubernetes-sigs/kro/api/v1alpha1"
	krocel "github.com/kubernetes-sigs/kro/pkg/cel"
	"github.com/kubernetes-sigs/kro/pkg/cel/library"
	"github.com/kubernetes-sigs/kro/pkg/graph"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/yaml"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/model/openapi"
)

const kroModule = "github.com/kubernetes-sigs/kro"

// kroDir is the directory of kro's module in the module cache.
func kroDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", kroModule).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", kroModule, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatalf("%s is not in the module cache: run go mod download", kroModule)
	}
	return dir
}

// anySchema types every resource as an object of unknown fields, so both
// sides see resources as dyn: krosim has no cluster schemas to type them with.
type anySchema struct{}

func (anySchema) ResolveSchema(schema.GroupVersionKind) (*spec.Schema, error) {
	s := &spec.Schema{}
	s.Type = []string{"object"}
	s.AddExtension("x-kubernetes-preserve-unknown-fields", true)
	return s, nil
}

// builtinSchema types the built-in kinds from krosim's embedded OpenAPI
// (model/openapi, generated from client-go), so kro's builder and krosim type
// them alike, and every other kind as anySchema does.
type builtinSchema struct{ set *openapi.Set }

func (b builtinSchema) ResolveSchema(gvk schema.GroupVersionKind) (*spec.Schema, error) {
	sc := b.set.Kind(gvk.GroupVersion().String(), gvk.Kind)
	if sc == nil {
		return anySchema{}.ResolveSchema(gvk)
	}
	return b.expand(sc, map[string]bool{}), nil
}

// expand inlines references, as the cluster's resolver does; a recursive
// reference becomes an object of unknown fields.
func (b builtinSchema) expand(sc *openapi.Schema, seen map[string]bool) *spec.Schema {
	if sc.Ref != "" {
		if seen[sc.Ref] {
			s := &spec.Schema{}
			s.Type = []string{"object"}
			s.AddExtension("x-kubernetes-preserve-unknown-fields", true)
			return s
		}
		seen[sc.Ref] = true
		defer delete(seen, sc.Ref)
		return b.expand(b.set.Types[sc.Ref], seen)
	}
	s := &spec.Schema{}
	if sc.Type != "" {
		s.Type = []string{sc.Type}
	}
	s.Format = sc.Format
	if sc.IntOrString {
		s.AddExtension("x-kubernetes-int-or-string", true)
	}
	if sc.PreserveUnknown {
		s.AddExtension("x-kubernetes-preserve-unknown-fields", true)
	}
	if len(sc.Properties) > 0 {
		s.Properties = map[string]spec.Schema{}
		for name, p := range sc.Properties {
			s.Properties[name] = *b.expand(p, seen)
		}
	}
	for _, o := range sc.OneOf {
		s.OneOf = append(s.OneOf, *b.expand(o, seen))
	}
	if sc.Items != nil {
		s.Items = &spec.SchemaOrArray{Schema: b.expand(sc.Items, seen)}
	}
	if sc.AdditionalProperties != nil {
		s.AdditionalProperties = &spec.SchemaOrBool{Allows: true, Schema: b.expand(sc.AdditionalProperties, seen)}
	}
	return s
}

// clusterScoped are the built-in kinds the examples use that are not namespaced.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"CustomResourceDefinition": true, "PersistentVolume": true, "StorageClass": true,
	"ResourceGraphDefinition": true, "IngressClass": true, "PriorityClass": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
}

// anyMapper maps every kind, namespaced unless listed in clusterScoped.
type anyMapper struct{ meta.RESTMapper }

func (anyMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	if len(versions) == 0 {
		return nil, errors.New("no version")
	}
	scope := meta.RESTScopeNamespace
	if clusterScoped[gk.Kind] {
		scope = meta.RESTScopeRoot
	}
	gvk := gk.WithVersion(versions[0])
	plural, _ := meta.UnsafeGuessKindToResource(gvk)
	return &meta.RESTMapping{Resource: plural, GroupVersionKind: gvk, Scope: scope}, nil
}

// doc is one ResourceGraphDefinition document of an example file.
type doc struct {
	name string // file:index
	text []byte
}

// exampleRGDs returns every RGD document in the YAML files below dir/sub.
func exampleRGDs(t *testing.T, dir, sub string) []doc {
	var out []doc
	err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (!strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		for i, part := range splitDocs(data) {
			var head struct{ Kind string }
			if yaml.Unmarshal(part, &head) == nil && head.Kind == "ResourceGraphDefinition" {
				out = append(out, doc{name: fmt.Sprintf("%s#%d", rel, i), text: part})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// splitDocs splits a YAML stream at its "---" lines.
func splitDocs(data []byte) [][]byte {
	var out [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if strings.TrimRight(string(line), " \r\n") == "---" {
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, line...)
	}
	return append(out, cur)
}

// verdict is what one side made of an RGD.
type verdict struct {
	err   string
	order []string
	deps  map[string][]string // id -> ids it depends on, sorted
}

func (v verdict) String() string {
	if v.err != "" {
		return "rejected: " + v.err
	}
	var ids []string
	for _, id := range v.order {
		ids = append(ids, fmt.Sprintf("%s%v", id, v.deps[id]))
	}
	return "built: " + strings.Join(ids, " ")
}

func kroVerdict(b *graph.Builder, text []byte) verdict {
	// kubectl refuses a document with a duplicate mapping key (strict field
	// validation), so such an RGD never reaches kro's builder.
	if _, err := yaml.YAMLToJSONStrict(text); err != nil {
		return verdict{err: "kubectl: " + err.Error()}
	}
	var rgd v1alpha1.ResourceGraphDefinition
	if err := yaml.Unmarshal(text, &rgd); err != nil {
		return verdict{err: "decoding: " + err.Error()}
	}
	g, err := b.NewResourceGraphDefinition(&rgd, graph.Config{MaxCollectionSize: 1000, MaxCollectionDimensionSize: 10})
	if err != nil {
		return verdict{err: err.Error()}
	}
	v := verdict{order: g.TopologicalOrder, deps: map[string][]string{}}
	for id, n := range g.Nodes {
		d := slices.Clone(n.Meta.Dependencies)
		sort.Strings(d)
		v.deps[id] = d
	}
	return v
}

func krosimVerdict(name string, text []byte) verdict {
	rgds, err := model.Load(name, text)
	if err != nil {
		return verdict{err: err.Error()}
	}
	g := rgds[0]
	v := verdict{deps: map[string][]string{}}
	for _, i := range g.Order {
		v.order = append(v.order, g.Resources[i].ID)
	}
	for _, r := range g.Resources {
		d := []string{}
		for _, i := range r.Deps {
			d = append(d, g.Resources[i].ID)
		}
		sort.Strings(d)
		v.deps[r.ID] = d
	}
	return v
}

func (v verdict) agrees(w verdict) bool {
	if (v.err == "") != (w.err == "") {
		return false
	}
	if v.err != "" {
		return true
	}
	if !slices.Equal(v.order, w.order) || len(v.deps) != len(w.deps) {
		return false
	}
	for id, d := range v.deps {
		if !slices.Equal(d, w.deps[id]) && !(len(d) == 0 && len(w.deps[id]) == 0) {
			return false
		}
	}
	return true
}

// TestExamplesAgree builds every example RGD of kro v0.9.4's module with
// kro's own graph builder and with krosim's loader, both typing built-in
// kinds from the same OpenAPI schemas and other kinds as dyn, and requires the same verdict, topological order and edges.
func TestExamplesAgree(t *testing.T) {
	dir := kroDir(t)
	b, err := graph.NewBuilder(nil, nil, graph.WithSchemaResolver(builtinSchema{openapi.Builtin()}), graph.WithRESTMapper(anyMapper{}))
	if err != nil {
		t.Fatal(err)
	}
	docs := exampleRGDs(t, dir, "examples")
	if len(docs) < 50 {
		t.Fatalf("found %d example RGDs in %s, want at least 50", len(docs), dir)
	}
	agreeAll(t, b, docs)
}

// TestTestdataAgrees does the same for krosim's own RGDs, valid and invalid
// (testdata/rgd), and for the cases of kro's newer CEL in testdata/krodiff.
func TestTestdataAgrees(t *testing.T) {
	b, err := graph.NewBuilder(nil, nil, graph.WithSchemaResolver(builtinSchema{openapi.Builtin()}), graph.WithRESTMapper(anyMapper{}))
	if err != nil {
		t.Fatal(err)
	}
	docs := append(exampleRGDs(t, "../..", "testdata/rgd"), exampleRGDs(t, ".", "testdata")...)
	if len(docs) < 10 {
		t.Fatalf("found %d RGDs in testdata, want at least 10", len(docs))
	}
	agreeAll(t, b, docs)
}

func agreeAll(t *testing.T, b *graph.Builder, docs []doc) {
	t.Helper()
	agree := 0
	for _, d := range docs {
		k, s := kroVerdict(b, d.text), krosimVerdict(d.name, d.text)
		if k.agrees(s) {
			agree++
			t.Logf("agree  %s: %s", d.name, firstLine(k.String()))
			continue
		}
		t.Errorf("%s:\n  kro:    %s\n  krosim: %s", d.name, k, s)
	}
	t.Logf("%d of %d RGDs agree", agree, len(docs))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// TestLibraryAgrees compiles and evaluates expressions in kro v0.9.4's CEL
// environment and in krosim's, requiring the same verdict and value. It pins
// the values model/library_test.go states for kro.
func TestLibraryAgrees(t *testing.T) {
	kroEnv, err := krocel.DefaultEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	simEnv, err := model.NewEnv(&model.Type{Kind: model.Object, Name: "spec"})
	if err != nil {
		t.Fatal(err)
	}
	exprs := []string{
		`random.seededString(10, 'test-seed')`,
		`random.seededString(20, 'test-seed')`,
		`random.seededString(12, 'abc')`,
		`random.seededString(8, 'web')`,
		`random.seededString(6, 'web')`,
		`random.seededString(100, 'a long seed: ` + strings.Repeat("x", 50) + `')`,
		`random.seededString(0, 'x')`,
		`random.seededString(-1, 'x')`,
		`random.seededInt(0, 100, 'test-seed')`,
		`random.seededInt(30000, 32768, 'my-service')`,
		`random.seededInt(5, 6, 'seed')`,
		`random.seededInt(-100, -50, 'seed')`,
		`random.seededInt(5, 5, 'seed')`,
		`random.seededInt(10, 5, 'seed')`,
		`random.seededInt(-9223372036854775807, 9223372036854775807, 'big')`,
		`random.seededString('10', 'x')`,
		`random.seededInt(1, 2)`,
		`lists.setAtIndex(['a', 'b', 'c'], 1, 'new-tag')`,
		`lists.insertAtIndex(['x', 'y'], 0, 'DEBUG=true')`,
		`lists.insertAtIndex([1, 2], 2, 3)`,
		`lists.removeAtIndex([80, 443, 8080], 0)`,
		`lists.setAtIndex(lists.setAtIndex([1, 2, 3], 0, [1, 2, 3][1]), 1, [1, 2, 3][0])`,
		`lists.setAtIndex([1], 1, 2)`,
		`lists.insertAtIndex([1], 2, 2)`,
		`lists.removeAtIndex([], 0)`,
		`lists.removeAtIndex([1], -1)`,
		`lists.setAtIndex(['a'], 0, 1)`,
		`{'a': 1}.merge({'a': 2, 'b': 2})`,
		`{'a': 1}.merge({'b': 2})`,
		`{'a': 1}.merge({'b': 'x'})`,
		`{'a': {'x': 1, 'y': 2}}.deepMerge({'a': {'y': 3, 'z': 4}})`,
		`{'a': {'x': 1}, 'keep': 7}.deepMerge({'a': {'y': 2}})`,
		`{'a': [1, 2]}.deepMerge({'a': [3]})`,
		`{'a': 1}.deepMerge({})`,
		`{'a': 1}.deepMerge(1)`,
		`json.unmarshal('{"exampleJSONKey": "exampleJSONValue"}').exampleJSONKey`,
		`json.marshal({'name': 'web', 'replicas': 2})`,
		`"%x".format([hash.sha256('abc')])`,
		`base64.encode(hash.fnv64a('web'))`,
		`"%x".format([hash.md5('web')])`,
		`runtime.newCondition({type: 'AppReady', status: 'True', reason: 'ReplicaCount', message: ''})`,
		`runtime.newCondition({type: 'A', status: 'False'}).status`,
		`runtime.newCondition({type: 'A', status: 'maybe'})`,
		`runtime.newCondition({type: 'A'})`,
		`runtime.newCondition({'type': 'A', status: 'True'})`,
		`runtime.newCondition({type: 'A', status: 'True', colour: 'x'})`,
		`runtime.newCondition({type: 'A', status: 'True', type: 'B'})`,
		`runtime.condition({'status': {'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'R'}]}}, 'Ready').reason`,
		`runtime.condition({'status': {'conditions': []}}, 'Ready').status`,
		`runtime.condition({}, 'Ready').type`,
		`runtime.condition({}, 'Ready').nope`,
		`omit()`,
		`ip('10.0.0.1').family()`,
		`cidr('10.0.0.0/8').containsIP('10.1.2.3')`,
		`semver('1.2.0').minor()`,
		`semver('v1.2', true).minor()`,
		`isSemver('v1.2', true)`,
		`semver('1.2.3').compareTo(semver('2.0.0')) >= 0`,
		`quantity('500Mi').isLessThan(quantity('1Gi'))`,
		`[100, 200, 300].sum()`,
		`url('https://example.com:80/x').getPort()`,
		`'a.b.c'.split('.').slice(0, 2).join('.')`,
		`{'a': 1}.transformMap(k, v, v * 2)`,
		`lists.range(3)`,
		`optional.of(1).orValue(2)`,
		`'abc'.find('b+')`,
	}
	for _, src := range exprs {
		k, s := evalIn(kroEnv, src), evalIn(simEnv, src)
		if k != s {
			t.Errorf("%s:\n  kro:    %s\n  krosim: %s", src, k, s)
		} else {
			t.Logf("%s = %s", src, k)
		}
	}
}

// evalIn compiles and evaluates src, describing the outcome: a compile
// error, an evaluation error, or the value as Go data.
func evalIn(env *cel.Env, src string) string {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return "compile error"
	}
	prg, err := env.Program(ast)
	if err != nil {
		return "program error: " + err.Error()
	}
	out, _, err := prg.Eval(map[string]any{"runtime": library.RuntimeSingleton})
	if err != nil {
		return "eval error: " + err.Error()
	}
	return fmt.Sprintf("%#v", native(out))
}

// native converts a value of either side to Go data.
func native(v ref.Val) any {
	if c, ok := v.(*library.Condition); ok {
		return map[string]any{"type": c.ConditionType, "status": c.Status, "reason": c.Reason, "message": c.Message}
	}
	if reflect.TypeOf(v).String() == "*library.omitVal" {
		return "omit"
	}
	if _, ok := v.(model.Omitted); ok {
		return "omit"
	}
	x, err := model.Native(v)
	if err != nil {
		return fmt.Sprintf("unconvertible %T: %v", v, err)
	}
	return x
}
