package model

import (
	"fmt"
	"strconv"
	"strings"
)

// A template is a string value from an RGD that holds ${...} expressions.
// A standalone template is exactly one expression and keeps its type; any
// other template is the string concatenation of its parts.
type template struct {
	standalone bool
	cel        string    // the CEL source that evaluates the template
	spans      []exprMap // where each embedded expression sits in cel and in the value
}

// exprMap places one embedded expression both in the CEL source and in the original value.
type exprMap struct {
	celOff, valOff, n int
}

// scanError is a problem in a template at a byte offset of the value.
type scanError struct {
	off int
	msg string
}

func (e *scanError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

// hasExpr reports whether s holds an expression marker at all.
func hasExpr(s string) bool { return strings.Contains(s, "${") }

// parseTemplate splits s into literal text and ${...} expressions. Inside an
// expression, braces nest and quoted CEL strings are skipped, so '}' and '${'
// may appear in string literals; a '${' outside quotes is an error.
func parseTemplate(s string) (*template, error) {
	type part struct {
		lit    string
		expr   string
		valOff int
		isExpr bool
	}
	var parts []part
	i := 0
	for i < len(s) {
		start := strings.Index(s[i:], "${")
		if start < 0 {
			parts = append(parts, part{lit: s[i:]})
			break
		}
		start += i
		if start > i {
			parts = append(parts, part{lit: s[i:start]})
		}
		body := start + 2
		end, err := scanExpr(s, body)
		if err != nil {
			return nil, err
		}
		expr := s[body:end]
		if strings.TrimSpace(expr) == "" {
			return nil, &scanError{start, "empty expression ${}"}
		}
		parts = append(parts, part{expr: expr, valOff: body, isExpr: true})
		i = end + 1
	}
	if len(parts) == 1 && parts[0].isExpr {
		p := parts[0]
		return &template{standalone: true, cel: p.expr, spans: []exprMap{{0, p.valOff, len(p.expr)}}}, nil
	}
	t := &template{}
	var b strings.Builder
	for k, p := range parts {
		if k > 0 {
			b.WriteString(" + ")
		}
		if !p.isExpr {
			b.WriteString(strconv.Quote(p.lit))
			continue
		}
		b.WriteByte('(')
		t.spans = append(t.spans, exprMap{b.Len(), p.valOff, len(p.expr)})
		b.WriteString(p.expr)
		b.WriteByte(')')
	}
	t.cel = b.String()
	return t, nil
}

// sources is the CEL source of each expression embedded in text, t's value,
// when t is a concatenation.
func (t *template) sources(text string) []string {
	if t.standalone {
		return nil
	}
	srcs := make([]string, len(t.spans))
	for i, sp := range t.spans {
		srcs[i] = text[sp.valOff : sp.valOff+sp.n]
	}
	return srcs
}

// scanExpr returns the offset of the '}' that closes the expression starting at body.
func scanExpr(s string, body int) (int, error) {
	depth := 0
	for j := body; j < len(s); j++ {
		switch c := s[j]; c {
		case '\'', '"':
			k, err := skipQuoted(s, j)
			if err != nil {
				return 0, err
			}
			j = k
		case '$':
			if j+1 < len(s) && s[j+1] == '{' {
				return 0, &scanError{j, "nested ${ is only allowed inside a quoted string"}
			}
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return j, nil
			}
			depth--
		}
	}
	return 0, &scanError{body - 2, "unterminated expression: missing closing }"}
}

// skipQuoted returns the offset of the quote that closes the CEL string literal at s[open],
// handling escapes and triple quotes.
func skipQuoted(s string, open int) (int, error) {
	q := s[open]
	if strings.HasPrefix(s[open:], strings.Repeat(string(q), 3)) {
		end := strings.Index(s[open+3:], strings.Repeat(string(q), 3))
		if end < 0 {
			return 0, &scanError{open, "unterminated string literal"}
		}
		return open + 3 + end + 2, nil
	}
	for k := open + 1; k < len(s); k++ {
		switch s[k] {
		case '\\':
			k++
		case q:
			return k, nil
		case '\n':
			return 0, &scanError{open, "unterminated string literal"}
		}
	}
	return 0, &scanError{open, "unterminated string literal"}
}

// valueOffset maps an offset in the template's CEL source back to an offset in the value.
func (t *template) valueOffset(celOff int) int {
	for _, sp := range t.spans {
		if celOff >= sp.celOff && celOff <= sp.celOff+sp.n {
			return sp.valOff + (celOff - sp.celOff)
		}
	}
	if len(t.spans) > 0 {
		return t.spans[0].valOff
	}
	return 0
}

// balanced reports whether every embedded expression's brackets balance on
// their own (outside string literals). Only then does parsing the
// concatenation say the same as parsing each expression alone: otherwise a
// ')' in one expression could close the parenthesis the concatenation added.
func (t *template) balanced(text string) bool {
	for _, sp := range t.spans {
		src := text[sp.valOff : sp.valOff+sp.n]
		depth := 0
		for j := 0; j < len(src); j++ {
			switch src[j] {
			case '\'', '"':
				k, err := skipQuoted(src, j)
				if err != nil {
					return false
				}
				j = k
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				depth--
				if depth < 0 {
					return false
				}
			}
		}
		if depth != 0 {
			return false
		}
	}
	return true
}
