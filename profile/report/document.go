package report

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"
)

// kind is a block's kind.
type kind int

const (
	heading kind = iota
	para
	list
	table
	figure
	pre
)

// block is one piece of the document, rendered to Markdown and to HTML.
type block struct {
	kind  kind
	level int      // heading
	text  string   // heading, para, pre; a figure's caption
	items []string // list
	rows  [][]string
	// figure: the chart's file name for Markdown, its SVG for HTML, and
	// the id of its region (data-chart) for the screenshot test.
	name string
	svg  []byte
}

// document is the report as blocks.
type document struct {
	title  string
	blocks []block
}

func (d *document) h(level int, format string, args ...any) {
	d.blocks = append(d.blocks, block{kind: heading, level: level, text: fmt.Sprintf(format, args...)})
}

func (d *document) p(format string, args ...any) {
	d.blocks = append(d.blocks, block{kind: para, text: fmt.Sprintf(format, args...)})
}

func (d *document) list(items ...string) {
	if len(items) > 0 {
		d.blocks = append(d.blocks, block{kind: list, items: items})
	}
}

func (d *document) table(head []string, rows ...[]string) {
	if len(rows) > 0 {
		d.blocks = append(d.blocks, block{kind: table, rows: append([][]string{head}, rows...)})
	}
}

func (d *document) pre(text string) { d.blocks = append(d.blocks, block{kind: pre, text: text}) }

func (d *document) figure(name, caption string, svg []byte) {
	d.blocks = append(d.blocks, block{kind: figure, name: name, text: caption, svg: svg})
}

// markdown appends Markdown of the subset krosim writes (headings, tables,
// lists, paragraphs), its headings shifted by shift levels.
func (d *document) markdown(md string, shift int) {
	lines := strings.Split(strings.TrimSpace(md), "\n")
	var paraLines []string
	flush := func() {
		if len(paraLines) > 0 {
			d.p("%s", strings.Join(paraLines, " "))
			paraLines = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "#"):
			flush()
			n := len(l) - len(strings.TrimLeft(l, "#"))
			d.h(n+shift, "%s", strings.TrimSpace(l[n:]))
		case strings.HasPrefix(l, "|"):
			flush()
			var rows [][]string
			for ; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
				if strings.HasPrefix(lines[i], "|---") {
					continue
				}
				rows = append(rows, cells(lines[i]))
			}
			i--
			if len(rows) > 0 {
				d.table(rows[0], rows[1:]...)
			}
		case strings.HasPrefix(l, "- "):
			flush()
			var items []string
			for ; i < len(lines) && strings.HasPrefix(lines[i], "- "); i++ {
				items = append(items, strings.TrimPrefix(lines[i], "- "))
			}
			i--
			d.list(items...)
		case strings.TrimSpace(l) == "":
			flush()
		default:
			paraLines = append(paraLines, l)
		}
	}
	flush()
}

// cells splits a Markdown table row, keeping escaped pipes.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	row = strings.ReplaceAll(row, `\|`, "\x00")
	var out []string
	for _, c := range strings.Split(row, "|") {
		out = append(out, strings.ReplaceAll(strings.TrimSpace(c), "\x00", `\|`))
	}
	return out
}

// Markdown renders the document; figures link to charts/NAME.svg.
func (d *document) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n", d.title)
	for _, bl := range d.blocks {
		b.WriteString("\n")
		switch bl.kind {
		case heading:
			fmt.Fprintf(&b, "%s %s\n", strings.Repeat("#", bl.level), bl.text)
		case para:
			fmt.Fprintf(&b, "%s\n", bl.text)
		case list:
			for _, it := range bl.items {
				fmt.Fprintf(&b, "- %s\n", it)
			}
		case table:
			for i, r := range bl.rows {
				fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
				if i == 0 {
					fmt.Fprintf(&b, "|%s\n", strings.Repeat("---|", len(r)))
				}
			}
		case pre:
			fmt.Fprintf(&b, "```\n%s\n```\n", strings.TrimRight(bl.text, "\n"))
		case figure:
			fmt.Fprintf(&b, "![%s](%s/%s.svg)\n\n*%s*\n", bl.text, ChartsDir, bl.name, bl.text)
		}
	}
	return b.Bytes()
}

// ChartsDir is where report writes the charts report.md shows, beside it.
const ChartsDir = "charts"

var (
	codeSpan = regexp.MustCompile("`([^`]+)`")
	bold     = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	italic   = regexp.MustCompile(`(^|[\s(])\*([^*\s][^*]*)\*`)
)

// inline renders Markdown's inline code, bold and italic as HTML, escaped.
func inline(s string) string {
	s = strings.ReplaceAll(s, `\|`, "|")
	s = strings.ReplaceAll(s, `\*`, "\x01")
	s = strings.ReplaceAll(s, `\_`, "_")
	s = html.EscapeString(s)
	s = codeSpan.ReplaceAllString(s, "<code>$1</code>")
	s = bold.ReplaceAllString(s, "<strong>$1</strong>")
	s = italic.ReplaceAllString(s, "$1<em>$2</em>")
	return strings.ReplaceAll(s, "\x01", "*")
}

// svgElement is an SVG document without its XML prolog and comments, to
// sit inline in HTML.
func svgElement(svg []byte) []byte {
	if i := bytes.Index(svg, []byte("<svg")); i >= 0 {
		svg = svg[i:]
	}
	return bytes.TrimSpace(svg)
}

// csp forbids every request: the report must need none.
const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

const css = `body { font-family: 'Liberation Sans', Arimo, Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { border-bottom: 2px solid #333; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #bbb; padding-bottom: .1em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: 13px; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
tr:nth-child(even) td { background: #fafafa; }
code, pre { font-family: 'Liberation Mono', Cousine, Menlo, monospace; font-size: 12.5px; }
pre { background: #f6f6f6; padding: .7em; overflow-x: auto; }
figure { margin: 1.2em 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figure.flame svg { width: 100%; }
figcaption { font-size: 13px; color: #444; margin-top: .3em; }
nav ul { columns: 2; font-size: 14px; }
`

// HTML renders the document as one self-contained page.
func (d *document) HTML() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n", csp)
	fmt.Fprintf(&b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>\n%s</style>\n</head>\n<body>\n", html.EscapeString(d.title), css)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", inline(d.title))
	b.WriteString("<nav><ul>\n")
	for i, bl := range d.blocks {
		if bl.kind == heading && bl.level == 2 {
			fmt.Fprintf(&b, "<li><a href=\"#s%d\">%s</a></li>\n", i, inline(bl.text))
		}
	}
	b.WriteString("</ul></nav>\n")
	for i, bl := range d.blocks {
		switch bl.kind {
		case heading:
			fmt.Fprintf(&b, "<h%d id=\"s%d\">%s</h%d>\n", bl.level, i, inline(bl.text), bl.level)
		case para:
			fmt.Fprintf(&b, "<p>%s</p>\n", inline(bl.text))
		case list:
			b.WriteString("<ul>\n")
			for _, it := range bl.items {
				fmt.Fprintf(&b, "<li>%s</li>\n", inline(it))
			}
			b.WriteString("</ul>\n")
		case table:
			b.WriteString("<table>\n")
			for r, row := range bl.rows {
				tag := "td"
				if r == 0 {
					tag = "th"
				}
				b.WriteString("<tr>")
				for _, c := range row {
					fmt.Fprintf(&b, "<%s>%s</%s>", tag, inline(c), tag)
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</table>\n")
		case pre:
			fmt.Fprintf(&b, "<pre>%s</pre>\n", html.EscapeString(bl.text))
		case figure:
			class := "chart"
			if strings.HasPrefix(bl.name, "flame") {
				class = "flame"
			}
			fmt.Fprintf(&b, "<figure class=\"%s\" data-chart=\"%s\">\n", class, html.EscapeString(bl.name))
			b.Write(svgElement(bl.svg))
			fmt.Fprintf(&b, "\n<figcaption>%s</figcaption>\n</figure>\n", inline(bl.text))
		}
	}
	b.WriteString("</body>\n</html>\n")
	return b.Bytes()
}
