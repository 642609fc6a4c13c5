package model

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a 1-based position in a source file.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Problem is one thing wrong with an input, with the source line it points into.
type Problem struct {
	Pos  Pos
	Msg  string
	Line string // the source line at Pos, when known
}

func (p *Problem) Error() string { return p.Pos.String() + ": " + p.Msg }

// Detail renders the problem with its source line and a caret under the column.
func (p *Problem) Detail() string {
	if p.Line == "" || p.Pos.Line == 0 {
		return p.Error()
	}
	num := fmt.Sprint(p.Pos.Line)
	pad := strings.Repeat(" ", len(num))
	caret := strings.Builder{}
	for i, r := range p.Line {
		if i >= p.Pos.Col-1 {
			break
		}
		if r == '\t' {
			caret.WriteByte('\t')
		} else {
			caret.WriteByte(' ')
		}
	}
	return fmt.Sprintf("%s\n %s | %s\n %s | %s^", p.Error(), num, p.Line, pad, caret.String())
}

// Problems is every problem found in an input, in file order. It is an error.
type Problems []*Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

// Detail renders every problem with its source line and caret.
func (ps Problems) Detail() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Detail()
	}
	return strings.Join(msgs, "\n")
}

// sort orders problems by file position, keeping the discovery order of ties.
func (ps Problems) sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// source is a file's text with fast access to its lines, used to attach source lines to problems.
type source struct {
	name  string
	lines []string
}

func newSource(name string, data []byte) *source {
	// YAML breaks lines at \n, \r\n and a lone \r; so do positions.
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	return &source{name: name, lines: strings.Split(text, "\n")}
}

func (s *source) line(n int) string {
	if n < 1 || n > len(s.lines) {
		return ""
	}
	return s.lines[n-1]
}

// problems accumulates the problems of one file.
type problems struct {
	src  *source
	list Problems
}

func (ps *problems) addf(pos Pos, format string, args ...any) {
	pos.File = ps.src.name
	ps.list = append(ps.list, &Problem{Pos: pos, Msg: fmt.Sprintf(format, args...), Line: ps.src.line(pos.Line)})
}
