package model

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
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

// Detail renders the problem with its source line and a caret under the
// column. Columns count characters, as YAML and CEL count them; a long line
// is shown as a window around the column.
func (p *Problem) Detail() string {
	if p.Line == "" || p.Pos.Line == 0 {
		return p.Error()
	}
	text, caret := excerpt(p.Line, p.Pos.Col, detailWidth)
	num := fmt.Sprint(p.Pos.Line)
	pad := strings.Repeat(" ", len(num))
	return fmt.Sprintf("%s\n %s | %s\n %s | %s^", p.Error(), num, text, pad, caret)
}

// detailWidth is how many characters of a source line Detail shows.
const detailWidth = 120

const ellipsis = "..."

// excerpt returns at most width characters of line around the 1-based
// character column col, with an ellipsis where it cuts, and the blanks that
// put a caret under col (tabs stay tabs, so the caret lines up). Bytes that
// are not UTF-8, and control characters, show as U+FFFD, one per byte.
func excerpt(line string, col, width int) (text, caret string) {
	col = max(col, 1)
	n := utf8.RuneCountInString(line)
	start, end := 0, n
	if n > width {
		start = max(0, min(col-1-width/2, n-width))
		end = start + width
	}
	var t, c strings.Builder
	if start > 0 {
		t.WriteString(ellipsis)
		c.WriteString(strings.Repeat(" ", len(ellipsis)))
	}
	i := 0
	for k := 0; k < len(line) && i < end; i++ {
		r, size := utf8.DecodeRuneInString(line[k:])
		k += size
		if i < start {
			continue
		}
		switch {
		case r == '\t':
			t.WriteByte('\t')
		case r == utf8.RuneError && size == 1, unicode.IsControl(r):
			t.WriteRune(utf8.RuneError)
		default:
			t.WriteRune(r)
		}
		if i < col-1 {
			if r == '\t' {
				c.WriteByte('\t')
			} else {
				c.WriteByte(' ')
			}
		}
	}
	if end < n {
		t.WriteString(ellipsis)
	}
	if col-1 > i { // past the end of the line
		c.WriteString(strings.Repeat(" ", min(col-1-i, len(ellipsis))))
	}
	return t.String(), c.String()
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

// maxProblems is how many problems of one file are kept: a file of a
// million repeated keys would otherwise print three million lines.
const maxProblems = 200

// problems accumulates the problems of one file.
type problems struct {
	src  *source
	list Problems
	n    int // problems found, kept or not
}

func (ps *problems) addf(pos Pos, format string, args ...any) {
	ps.n++
	if len(ps.list) >= maxProblems {
		return
	}
	pos.File = ps.src.name
	ps.list = append(ps.list, &Problem{Pos: pos, Msg: fmt.Sprintf(format, args...), Line: ps.src.line(pos.Line)})
}

// sorted returns the problems kept in file order, and a last one counting
// those not kept.
func (ps *problems) sorted() Problems {
	ps.list.sort()
	if more := ps.n - len(ps.list); more > 0 {
		last := *ps.list[len(ps.list)-1]
		last.Msg = fmt.Sprintf("and %d more problems not shown", more)
		ps.list = append(ps.list, &last)
	}
	return ps.list
}

// offsetPos returns the line and character column of byte offset off in
// data, breaking lines as YAML does (\n, \r\n, a lone \r). A byte that is not
// UTF-8 counts as one character.
func offsetPos(data []byte, off int) Pos {
	p := Pos{Line: 1, Col: 1}
	for i := 0; i < off && i < len(data); {
		switch c := data[i]; {
		case c == '\n', c == '\r' && (i+1 >= len(data) || data[i+1] != '\n'):
			p.Line, p.Col = p.Line+1, 1
			i++
		case c < utf8.RuneSelf:
			p.Col++
			i++
		default:
			_, size := utf8.DecodeRune(data[i:])
			p.Col++
			i += size
		}
	}
	return p
}

// firstBadByte returns the offset of the first byte YAML refuses: one that
// is not UTF-8, or a control character other than tab and line breaks.
func firstBadByte(data []byte) (int, string, bool) {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return i, fmt.Sprintf("invalid UTF-8 (byte 0x%02x)", data[i]), true
		case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		case unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF:
			return i, fmt.Sprintf("control character %U is not allowed", r), true
		}
		i += size
	}
	return 0, "", false
}
