package model_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/model"
)

// withTypes returns the test RGD with a spec.schema.types block and a spec
// field using the first type.
func withTypes(types string) string {
	return strings.Replace(rgd("", cm("aa")), "    spec:\n      name: string",
		"    types:\n"+types+"    spec:\n      node: Node\n      name: string", 1)
}

// wantProblems fails t unless loading src gives exactly the problems want
// describes, in order.
func wantProblems(t *testing.T, src string, want []wantProblem) {
	t.Helper()
	_, err := model.Load("t.yaml", []byte(src))
	var ps model.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load = %v, want Problems\nsource:\n%s", err, src)
	}
	var lines []string
	for _, w := range want {
		line, col := position(t, src, w.at)
		lines = append(lines, fmt.Sprintf("t.yaml:%d:%d: %s", line, col+w.delta, w.msg))
	}
	ok := len(ps) == len(lines)
	for i := 0; ok && i < len(ps); i++ {
		ok = strings.HasPrefix(ps[i].Error(), lines[i])
	}
	if !ok {
		t.Errorf("problems:\n%s\n\nwant (prefixes):\n%s", ps.Detail(), strings.Join(lines, "\n"))
	}
}

// TestLoadRecursiveTypes wants custom types that contain themselves rejected
// at load, with the cycle named as kro names it, at the field that starts
// it. They used to load and then overflow the stack in Type.Defaults.
func TestLoadRecursiveTypes(t *testing.T) {
	tests := []struct {
		name  string
		types string
		want  []wantProblem
	}{
		{
			name:  "self",
			types: "      Node:\n        child: Node\n",
			want:  []wantProblem{{"child: Node", 7, "spec.schema.types: cyclic dependency in type Node: graph contains a cycle: Node -> Node"}},
		},
		{
			name:  "two types",
			types: "      Node:\n        leaf: Leaf\n      Leaf:\n        back: Node\n",
			want:  []wantProblem{{"leaf: Leaf", 6, "spec.schema.types: cyclic dependency in type Node: graph contains a cycle: Node -> Leaf -> Node"}},
		},
		{
			name:  "through a list, a map and a nested object",
			types: "      Node:\n        kids: '[]Mid'\n      Mid:\n        inner:\n          byName: map[string]Node\n",
			want:  []wantProblem{{"'[]Mid'", 0, "spec.schema.types: cyclic dependency in type Node: graph contains a cycle: Node -> Mid -> Node"}},
		},
		{
			name:  "two separate cycles",
			types: "      Node:\n        self: Node\n      Other:\n        self: Other\n",
			want: []wantProblem{
				{"self: Node", 6, "spec.schema.types: cyclic dependency in type Node"},
				{"self: Other", 6, "spec.schema.types: cyclic dependency in type Other"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, withTypes(tt.types), tt.want)
		})
	}

	t.Run("a diamond is no cycle", func(t *testing.T) {
		g := loadOne(t, withTypes("      Node:\n        a: Leaf\n        b: '[]Leaf'\n      Leaf:\n        x: string | default=v\n"))
		if got := fmt.Sprint(g.Spec.Defaults()["node"]); got != "map[a:map[x:v]]" {
			t.Errorf("defaults of node = %s", got)
		}
	})
}

// TestLoadExpandedFields wants a schema whose custom types use each other
// many times rejected: it is small on disk, but each instance's spec (and
// its defaults) would hold 2^30 fields.
func TestLoadExpandedFields(t *testing.T) {
	var b strings.Builder
	b.WriteString("      Node:\n        a: T1\n        b: T1\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&b, "      T%d:\n        a: T%d\n        b: T%d\n", i, i+1, i+1)
	}
	b.WriteString("      T30:\n        x: string | default=v\n")
	src := withTypes(b.String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		wantProblems(t, src, []wantProblem{{"node: Node", 0, "spec.schema.spec has over 10000 fields with its custom types expanded"}})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Load ran for over 20s")
	}
}

// TestLoadDuplicateKeys wants every repeated mapping key reported at the
// repeat, naming the first; kubectl rejects them, and a decoder silently
// keeps one.
func TestLoadDuplicateKeys(t *testing.T) {
	t.Run("top level and template", func(t *testing.T) {
		src := strings.Replace(rgd("", cm("aa")), "metadata:\n  name: test\n", "metadata:\n  name: test\n  name: again\n", 1)
		src = strings.Replace(src, "        kind: ConfigMap\n", "        kind: ConfigMap\n        kind: Secret\n", 1)
		wantProblems(t, src, []wantProblem{
			{"name: again", 0, `duplicate key "name" (first at 4:3)`},
			{"kind: Secret", 0, `duplicate key "kind" (first at 19:9)`},
		})
	})
	t.Run("schema", func(t *testing.T) {
		src := strings.Replace(rgd("", cm("aa")), "      enabled: boolean | default=true\n", "      enabled: boolean | default=true\n      replicas: string\n", 1)
		wantProblems(t, src, []wantProblem{{"replicas: string", 0, `duplicate key "replicas" (first at 11:7)`}})
	})
	t.Run("flow mapping", func(t *testing.T) {
		src := strings.Replace(rgd("", cm("aa")), "        data: {}\n", "        data: {a: 1, b: 2, a: 3}\n", 1)
		wantProblems(t, src, []wantProblem{{"a: 3", 0, `duplicate key "a" (first at 21:16)`}})
	})
}

// TestLoadExternalRefName wants an externalRef that names nothing rejected,
// as kro's API does: metadata with exactly one of a name or a selector.
func TestLoadExternalRefName(t *testing.T) {
	const exactlyOne = `resource "aa": externalRef.metadata: exactly one of name or selector must be provided`
	ext := func(md string) string {
		return rgd("", "    - id: aa\n      externalRef:\n        apiVersion: v1\n        kind: ConfigMap\n"+md)
	}
	tests := []struct {
		name string
		src  string
		want []wantProblem
	}{
		// kro v0.9.4's message for every case (pkg/graph/validation.go).
		{"no metadata", ext(""), []wantProblem{{"apiVersion: v1\n", 0, exactlyOne}}},
		{"no name", ext("        metadata:\n          namespace: x\n"), []wantProblem{{"namespace: x", 0, exactlyOne}}},
		{"empty name", ext("        metadata:\n          name: ''\n"), []wantProblem{{"name: ''", 0, exactlyOne}}},
		{"null name", ext("        metadata:\n          name:\n"), []wantProblem{{"name:\n", 0, exactlyOne}}},
		{"name and selector", ext("        metadata:\n          name: x\n          selector: {matchLabels: {a: b}}\n"), []wantProblem{{"name: x", 0, exactlyOne}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblems(t, tt.src, tt.want) })
	}
	loadOne(t, ext("        metadata:\n          name: x\n"))
	loadOne(t, ext("        metadata:\n          selector: {matchLabels: {a: b}}\n"))
}

// TestLoadFileSize wants LoadFile to stop reading one byte past the limit:
// an endless file such as /dev/zero fails at once instead of filling memory.
func TestLoadFileSize(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	src := rgd("", cm("aa"))
	if err := os.WriteFile(big, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	lim := model.DefaultLimits
	lim.FileBytes = 100
	_, err := lim.LoadFile(big)
	line, col := position(t, src, src[100:120])
	if want := fmt.Sprintf("%s:%d:%d: file is over the limit of 100 bytes", big, line, col); err == nil || err.Error() != want {
		t.Errorf("LoadFile = %v, want %s", err, want)
	}

	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	done := make(chan error, 1)
	go func() {
		_, err := model.LoadFile("/dev/zero")
		done <- err
	}()
	select {
	case err := <-done:
		want := fmt.Sprintf("/dev/zero:1:%d: file is over the limit of %d bytes", model.DefaultLimits.FileBytes+1, model.DefaultLimits.FileBytes)
		if err == nil || err.Error() != want {
			t.Errorf("LoadFile(/dev/zero) = %.200v, want %s", err, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("LoadFile(/dev/zero) ran for over 20s")
	}
}

// TestLoadPositions wants positions where the problem is: bad bytes at their
// line and column (they were all at 1:1), and yaml.v3's parser errors on
// their line (they came one line early).
func TestLoadPositions(t *testing.T) {
	src := rgd("", cm("aa"))
	tests := []struct {
		name string
		src  string
		want []wantProblem
	}{
		{"invalid UTF-8", strings.Replace(src, "name: test", "name: té\xffst", 1), []wantProblem{{"\xffst", 0, "invalid YAML: invalid UTF-8 (byte 0xff)"}}},
		{"NUL byte", strings.Replace(src, "kind: Test", "kind: Te\x00st", 1), []wantProblem{{"\x00st", 0, "invalid YAML: control character U+0000 is not allowed"}}},
		{"escape character", strings.Replace(src, "kind: Test", "kind: Te\x1bst", 1), []wantProblem{{"\x1bst", 0, "invalid YAML: control character U+001B"}}},
		{"parser error: did not find expected key", strings.Replace(src, "  name: test\n", "  name: test\n bad: x\n", 1), []wantProblem{{"bad: x", 0, "invalid YAML: did not find expected key"}}},
		{"parser error: flow sequence", strings.Replace(src, "        data: {}\n", "        data: [1, 2\n        x: y\n", 1), []wantProblem{{"data: [1, 2", 0, "invalid YAML: did not find expected ',' or ']'"}}},
		{"scanner error keeps its line", strings.Replace(src, "  name: test\n", "  name: test\n  bad: x: y\n", 1), []wantProblem{{"bad: x: y", 0, "invalid YAML: mapping values are not allowed in this context"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, tt.src, tt.want)
		})
	}
}

// TestProblemDetail wants the caret under the column counted in characters
// (a byte index put it too far right after non-ASCII text), and a long line
// cut to a window around the column instead of echoed whole.
func TestProblemDetail(t *testing.T) {
	long := strings.Repeat("x", 500) + "${bad" + strings.Repeat("y", 1<<20)
	tests := []struct {
		name string
		p    model.Problem
		want string
	}{
		{
			name: "ASCII",
			p:    model.Problem{Pos: model.Pos{File: "f", Line: 3, Col: 7}, Msg: "m", Line: "  a: b${x}"},
			want: "f:3:7: m\n 3 |   a: b${x}\n   |       ^",
		},
		{
			name: "non-ASCII before the column",
			p:    model.Problem{Pos: model.Pos{File: "f", Line: 3, Col: 9}, Msg: "m", Line: "  é: ü-€${x}"},
			want: "f:3:9: m\n 3 |   é: ü-€${x}\n   |         ^",
		},
		{
			name: "tabs stay tabs",
			p:    model.Problem{Pos: model.Pos{File: "f", Line: 1, Col: 3}, Msg: "m", Line: "\t\tx"},
			want: "f:1:3: m\n 1 | \t\tx\n   | \t\t^",
		},
		{
			name: "long line",
			p:    model.Problem{Pos: model.Pos{File: "f", Line: 1, Col: 501}, Msg: "m", Line: long},
			want: "f:1:501: m\n 1 | ..." + strings.Repeat("x", 60) + "${bad" + strings.Repeat("y", 55) + "...\n   | " + strings.Repeat(" ", 63) + "^",
		},
		{
			name: "long line, column near the start",
			p:    model.Problem{Pos: model.Pos{File: "f", Line: 1, Col: 2}, Msg: "m", Line: long},
			want: "f:1:2: m\n 1 | " + strings.Repeat("x", 120) + "...\n   |  ^",
		},
		{
			name: "bad bytes show as U+FFFD, one each",
			p:    model.Problem{Pos: model.Pos{File: "f", Line: 1, Col: 4}, Msg: "m", Line: "a\xff\x00b"},
			want: "f:1:4: m\n 1 | a\uFFFD\uFFFDb\n   |    ^",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Detail(); got != tt.want {
				t.Errorf("Detail() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestLoadNonFiniteDefault wants NaN and infinite float defaults rejected: a
// CRD default is JSON, which has neither.
func TestLoadNonFiniteDefault(t *testing.T) {
	for _, v := range []string{"NaN", "+Inf", "-inf", "Infinity"} {
		src := strings.Replace(rgd("", cm("aa")), "      enabled: boolean | default=true\n", "      enabled: boolean | default=true\n      ratio: float | default="+v+"\n", 1)
		wantProblems(t, src, []wantProblem{{"float | default=" + v, 0, fmt.Sprintf("spec.ratio: default %q is not a valid float: not a finite number", v)}})
	}
}

// TestLoadComplexKey wants a mapping key that is not a scalar rejected: a
// Kubernetes object is JSON, and the loader would have read its key as "".
func TestLoadComplexKey(t *testing.T) {
	src := strings.Replace(rgd("", cm("aa")), "        data: {}\n", "        data:\n          ? [a, b]\n          : c\n", 1)
	wantProblems(t, src, []wantProblem{{"[a, b]", 0, "a mapping key must be a string, not a list"}})
}

// TestLoadManyProblems wants the problems of one file capped: a file of a
// hundred thousand repeated keys kept every one, with its source line.
func TestLoadManyProblems(t *testing.T) {
	src := rgd("", cm("aa")) + strings.Repeat("spec: x\n", 100000)
	_, err := model.Load("t.yaml", []byte(src))
	var ps model.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load = %v, want Problems", err)
	}
	if len(ps) != 201 {
		t.Fatalf("%d problems, want 200 and one counting the rest", len(ps))
	}
	last := ps[len(ps)-1]
	if want := "and 99800 more problems not shown"; last.Msg != want || last.Pos != ps[len(ps)-2].Pos {
		t.Errorf("last problem %v, want %q at the position of the one before", last, want)
	}
}

// TestLoadNodeBomb wants a file of millions of tiny keys refused before
// yaml.v3 builds its nodes (it took 38 s and 1.7 GB), at the node over the
// limit, and a file under the limit parsed.
func TestLoadNodeBomb(t *testing.T) {
	head := "apiVersion: kro.run/v1alpha1\nkind: ResourceGraphDefinition\nmetadata: {"
	src := head + strings.Repeat("a: 1, ", 2_000_000) + "}\n"
	_, err := model.Load("bomb.yaml", []byte(src))
	// 6 node starts before the first key, 2 in each "a: 1, ": the
	// 500,001st is the ':' of the 249,998th key.
	col := len("metadata: {") + 249_997*len("a: 1, ") + len("a") + 1
	want := fmt.Sprintf("bomb.yaml:3:%d: file has over 500000 YAML nodes", col)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Load = %v, want %s", err, want)
	}
	lim := model.DefaultLimits
	lim.Nodes = 100
	if _, err := lim.Load("small.yaml", []byte(rgd("", cm("aa")))); err != nil {
		t.Fatalf("a small RGD under a 100-node limit: %v", err)
	}
}
