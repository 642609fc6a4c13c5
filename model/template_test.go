package model

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		standalone bool
		cel        string
		spans      []exprMap // checked when not nil
	}{
		{name: "standalone", in: "${x}", standalone: true, cel: "x", spans: []exprMap{{0, 2, 1}}},
		{name: "standalone keeps inner spaces", in: "${ a.b }", standalone: true, cel: " a.b ", spans: []exprMap{{0, 2, 5}}},
		{name: "embedded", in: "a-${x}-b", cel: `"a-" + (x) + "-b"`, spans: []exprMap{{8, 4, 1}}},
		{name: "prefix only", in: "prefix-${expr}", cel: `"prefix-" + (expr)`},
		{name: "suffix only", in: "${expr}-suffix", cel: `(expr) + "-suffix"`},
		{name: "trailing space is not standalone", in: "${x} ", cel: `(x) + " "`},
		{
			name: "several expressions", in: "a-${x}-b-${y.z}-c",
			cel:   `"a-" + (x) + "-b-" + (y.z) + "-c"`,
			spans: []exprMap{{8, 4, 1}, {22, 11, 3}},
		},
		{name: "adjacent expressions", in: "${a}${b}", cel: "(a) + (b)", spans: []exprMap{{1, 2, 1}, {7, 6, 1}}},
		{name: "closing brace in double-quoted string", in: `${"}"}`, standalone: true, cel: `"}"`},
		{name: "closing brace in single-quoted string", in: `${'}' + x}`, standalone: true, cel: `'}' + x`},
		{name: "marker in quoted string", in: `${'${' + x}`, standalone: true, cel: `'${' + x`},
		{name: "escaped quote in string", in: `${"a\"}" + x}`, standalone: true, cel: `"a\"}" + x`},
		{name: "escaped backslash ends string", in: `${"a\\" + x}`, standalone: true, cel: `"a\\" + x`},
		{name: "triple-quoted string", in: `${'''a}'b''' + x}`, standalone: true, cel: `'''a}'b''' + x`},
		{name: "map literal", in: "${ {'a': 1}.a }", standalone: true, cel: " {'a': 1}.a "},
		{name: "nested map literals", in: "n=${ {'a': {'b': '}'}}.a.b }", cel: `"n=" + ( {'a': {'b': '}'}}.a.b )`},
		{name: "dollar without brace is literal", in: "$a-${x}-$", cel: `"$a-" + (x) + "-$"`},
		{name: "literal quotes are escaped", in: `say "hi" ${x}`, cel: `"say \"hi\" " + (x)`},
		{name: "literal newline is escaped", in: "a\nb${x}", cel: `"a\nb" + (x)`},
		{name: "no expression", in: "plain", cel: `"plain"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTemplate(tt.in)
			if err != nil {
				t.Fatalf("parseTemplate(%q): %v", tt.in, err)
			}
			if got.standalone != tt.standalone || got.cel != tt.cel {
				t.Errorf("parseTemplate(%q) = standalone %v, cel %q; want %v, %q", tt.in, got.standalone, got.cel, tt.standalone, tt.cel)
			}
			if tt.spans != nil && !reflect.DeepEqual(got.spans, tt.spans) {
				t.Errorf("spans = %v, want %v", got.spans, tt.spans)
			}
			checkTemplate(t, tt.in, got)
		})
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		off  int
		msg  string
	}{
		{name: "empty", in: "${}", off: 0, msg: "empty expression ${}"},
		{name: "blank", in: "a-${  }", off: 2, msg: "empty expression ${}"},
		{name: "unterminated", in: "${x", off: 0, msg: "unterminated expression: missing closing }"},
		{name: "unterminated after literal", in: "ab ${x", off: 3, msg: "unterminated expression: missing closing }"},
		{name: "second unterminated", in: "${x}-${y", off: 5, msg: "unterminated expression: missing closing }"},
		{name: "unbalanced map brace", in: "${ {'a': 1 }", off: 0, msg: "unterminated expression: missing closing }"},
		{name: "nested marker outside quotes", in: "${a + ${b}}", off: 6, msg: "nested ${ is only allowed inside a quoted string"},
		{name: "unterminated string", in: `x${"abc}`, off: 3, msg: "unterminated string literal"},
		{name: "string ends at newline", in: "${'a\n'}", off: 2, msg: "unterminated string literal"},
		{name: "unterminated triple quote", in: `${"""a}`, off: 2, msg: "unterminated string literal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTemplate(tt.in)
			if err == nil {
				t.Fatalf("parseTemplate(%q) = %+v, want an error", tt.in, got)
			}
			se, ok := err.(*scanError)
			if !ok {
				t.Fatalf("error %v is a %T, want *scanError", err, err)
			}
			if se.off != tt.off || se.msg != tt.msg {
				t.Errorf("parseTemplate(%q) error at %d %q, want at %d %q", tt.in, se.off, se.msg, tt.off, tt.msg)
			}
		})
	}
}

func TestTemplateValueOffset(t *testing.T) {
	// cel: "a-" + (x) + "-b-" + (yy) + "-c"
	//      0         1         2         3
	//      01234567890123456789012345678901234
	tmpl, err := parseTemplate("a-${x}-b-${yy}-c")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		celOff, val int
	}{
		{name: "first expression", celOff: 8, val: 4},
		{name: "end of first expression", celOff: 9, val: 5},
		{name: "second expression", celOff: 22, val: 11},
		{name: "inside second expression", celOff: 23, val: 12},
		{name: "end of second expression", celOff: 24, val: 13},
		{name: "literal falls back to the first expression", celOff: 0, val: 4},
		{name: "past the end falls back to the first expression", celOff: 99, val: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tmpl.valueOffset(tt.celOff); got != tt.val {
				t.Errorf("valueOffset(%d) = %d, want %d", tt.celOff, got, tt.val)
			}
		})
	}
	standalone, _ := parseTemplate("${abc}")
	for off := 0; off <= 3; off++ {
		if got := standalone.valueOffset(off); got != off+2 {
			t.Errorf("standalone valueOffset(%d) = %d, want %d", off, got, off+2)
		}
	}
}

// checkTemplate asserts what must hold for any template parseTemplate accepts.
func checkTemplate(t *testing.T, in string, tmpl *template) {
	t.Helper()
	if tmpl.standalone {
		if len(tmpl.spans) != 1 {
			t.Fatalf("standalone template of %q has %d spans", in, len(tmpl.spans))
		}
		sp := tmpl.spans[0]
		if "${"+tmpl.cel+"}" != in || sp.celOff != 0 || sp.valOff != 2 || sp.n != len(tmpl.cel) {
			t.Errorf("standalone template of %q: cel %q, span %+v", in, tmpl.cel, sp)
		}
		return
	}
	prevEnd := 0
	for _, sp := range tmpl.spans {
		if sp.valOff < prevEnd+2 || sp.valOff+sp.n >= len(in) || sp.celOff < 0 || sp.celOff+sp.n > len(tmpl.cel) {
			t.Fatalf("span %+v of %q out of range (value %d bytes, cel %d bytes)", sp, in, len(in), len(tmpl.cel))
		}
		if in[sp.valOff-2:sp.valOff] != "${" || in[sp.valOff+sp.n] != '}' {
			t.Errorf("span %+v of %q does not sit between ${ and }", sp, in)
		}
		if got, want := tmpl.cel[sp.celOff:sp.celOff+sp.n], in[sp.valOff:sp.valOff+sp.n]; got != want {
			t.Errorf("span %+v: cel holds %q, value holds %q", sp, got, want)
		}
		if tmpl.cel[sp.celOff-1] != '(' || tmpl.cel[sp.celOff+sp.n] != ')' {
			t.Errorf("span %+v of %q is not parenthesized in %q", sp, in, tmpl.cel)
		}
		if got := tmpl.valueOffset(sp.celOff); got != sp.valOff {
			t.Errorf("valueOffset(%d) = %d, want %d", sp.celOff, got, sp.valOff)
		}
		prevEnd = sp.valOff + sp.n + 1
	}
}

// literalText is the template with every ${...} removed, found through the spans.
func literalText(in string, tmpl *template) string {
	var b strings.Builder
	at := 0
	for _, sp := range tmpl.spans {
		b.WriteString(in[at : sp.valOff-2])
		at = sp.valOff + sp.n + 1
	}
	b.WriteString(in[at:])
	return b.String()
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"${x}", "a-${x}-b", `${"}" + '${'}`, "${ {'a': {'b': 1}}.a.b }", "${}", "${x", "${a + ${b}}", "$${x}}"} {
		f.Add(s)
	}
	env, err := cel.NewEnv(cel.Variable("x", cel.StringType))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tmpl, err := parseTemplate(in)
		if err != nil {
			se, ok := err.(*scanError)
			if !ok {
				t.Fatalf("error %v is a %T, want *scanError", err, err)
			}
			if se.off < 0 || se.off >= len(in) {
				t.Fatalf("error offset %d outside %q", se.off, in)
			}
			return
		}
		if !hasExpr(in) {
			if tmpl.standalone || len(tmpl.spans) != 0 {
				t.Fatalf("%q has no ${ but parsed as %+v", in, tmpl)
			}
		}
		checkTemplate(t, in, tmpl)
		if in == "" || tmpl.standalone || !utf8.ValidString(in) {
			return // CEL string literals hold text; invalid UTF-8 cannot round-trip
		}
		// Replace every expression by x and evaluate with x = "": the literal
		// parts must come back exactly, so the quoting of literals is right.
		var b strings.Builder
		at := 0
		for _, sp := range tmpl.spans {
			b.WriteString(in[at:sp.valOff])
			b.WriteString("x")
			at = sp.valOff + sp.n
		}
		b.WriteString(in[at:])
		plain, err := parseTemplate(b.String())
		if err != nil {
			t.Fatalf("template %q with expressions replaced (%q): %v", in, b.String(), err)
		}
		ast, iss := env.Compile(plain.cel)
		if iss.Err() != nil {
			t.Fatalf("CEL of %q is %q: %v", b.String(), plain.cel, iss.Err())
		}
		prg, err := env.Program(ast)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := prg.Eval(map[string]any{"x": ""})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := out.Value(), literalText(in, tmpl); got != want {
			t.Fatalf("literal text of %q evaluates to %q, want %q", in, got, want)
		}
	})
}

func TestPathSet(t *testing.T) {
	obj := func() map[string]any {
		return map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}}
	}
	tests := []struct {
		name string
		path Path
		want string
	}{
		{"a new nested key", Path{"metadata", "labels", "app"}, `{"metadata":{"labels":{"app":"v"}},"spec":{"ports":[{"port":80}]}}`},
		{"inside a list item", Path{"spec", "ports", 0, "port"}, `{"spec":{"ports":[{"port":"v"}]}}`},
		{"a list item itself", Path{"spec", "ports", 0}, `{"spec":{"ports":["v"]}}`},
		{"an index past the list sets nothing", Path{"spec", "ports", 3, "port"}, `{"spec":{"ports":[{"port":80}]}}`},
		{"a key into a list sets nothing", Path{"spec", "ports", "x"}, `{"spec":{"ports":[{"port":80}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := obj()
			tt.path.Set(o, "v")
			got, _ := json.Marshal(o)
			if string(got) != tt.want {
				t.Errorf("%s: got %s, want %s", tt.path, got, tt.want)
			}
		})
	}
}
