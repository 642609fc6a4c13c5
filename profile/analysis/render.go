package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// JSON is the analysis as indented JSON with a final newline; a delta
// with no baseline value to divide by is null.
func (a *Analysis) JSON() ([]byte, error) {
	type change struct {
		Change
		Delta *float64 `json:"delta"`
	}
	out := struct {
		*Analysis
		Changes []change `json:"changes,omitempty"`
	}{Analysis: a}
	for _, c := range a.Changes {
		cc := change{Change: c}
		if !math.IsNaN(c.Delta) {
			d := c.Delta
			cc.Delta = &d
		}
		out.Changes = append(out.Changes, cc)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Num formats a value of unit briefly: four significant digits, or
// thousands separated for large counts.
func Num(x float64, unit string) string {
	var s string
	switch {
	case unit == "share":
		return fmt.Sprintf("%.1f%%", 100*x)
	case unit == "bytes":
		s = fmt.Sprintf("%.4g MB", x/1e6)
		return s
	case math.Abs(x) >= 1e6 || (math.Abs(x) < 1e-3 && x != 0):
		s = fmt.Sprintf("%.3e", x)
	case x == math.Trunc(x) && math.Abs(x) < 1e6:
		s = fmt.Sprintf("%.0f", x)
	default:
		s = fmt.Sprintf("%.4g", x)
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}

// Delta formats a relative change.
func Delta(d float64) string {
	if math.IsNaN(d) {
		return "?"
	}
	return fmt.Sprintf("%+.1f%%", 100*d)
}

func (s Summary) interval(unit string) string {
	if s.N < 2 {
		return "n=1"
	}
	return fmt.Sprintf("[%s, %s] n=%d", Num(s.Lo, ""), Num(s.Hi, ""), s.N)
}

func describeInputs(ins []InputRef) string {
	var parts []string
	for _, in := range ins {
		mode := "sim"
		if in.Real {
			mode = "real"
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", in.Dir, in.Kind, mode))
	}
	return strings.Join(parts, ", ")
}

// Text writes the analysis for a terminal.
func (a *Analysis) Text(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "krosim analyze: %s\n", describeInputs(a.Inputs))
	if len(a.Baseline) == 0 {
		b.WriteString("\nMetrics: median, its 95% confidence interval (benchmath, as benchstat), over seeds or runs\n")
		rows := [][]string{{"metric", "median", "95% CI", "range"}}
		for _, m := range a.Metrics {
			rows = append(rows, []string{m.Name, Num(m.Summary.Median, m.Unit), m.Summary.interval(m.Unit), spreadText(m.Summary, m.Unit)})
		}
		table(&b, rows)
	} else {
		fmt.Fprintf(&b, "baseline: %s\n\n", describeInputs(a.Baseline))
		b.WriteString("Against the baseline: medians, the change, how it was judged (exact for deterministic simulations of the same seeds, else a Mann-Whitney U test at alpha 0.05 as benchstat) and the verdict against each metric's threshold for the worse\n")
		rows := [][]string{{"metric", "baseline", "new", "delta", "threshold", "test", "verdict"}}
		for _, c := range a.Changes {
			rows = append(rows, []string{c.Metric, Num(c.Old.Median, c.Unit), Num(c.New.Median, c.Unit), Delta(c.Delta),
				fmt.Sprintf("%.0f%%", 100*c.Threshold), testText(c), c.Verdict()})
		}
		table(&b, rows)
		if len(a.OnlyNew) > 0 {
			fmt.Fprintf(&b, "only in the new inputs (not compared): %s\n", strings.Join(a.OnlyNew, ", "))
		}
		if len(a.OnlyBaseline) > 0 {
			fmt.Fprintf(&b, "only in the baseline (not compared): %s\n", strings.Join(a.OnlyBaseline, ", "))
		}
		b.WriteString("\n" + a.verdictLine() + "\n")
	}
	if len(a.Recommendations) > 0 {
		b.WriteString("\nRecommendations (from the inputs above):\n")
		for _, r := range a.Recommendations {
			fmt.Fprintf(&b, "  - [%s] %s\n", r.Topic, r.Text)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func spreadText(s Summary, unit string) string {
	if s.N < 2 || s.Min == s.Max {
		return "-"
	}
	return Num(s.Min, "") + " .. " + Num(s.Max, "")
}

func testText(c Change) string {
	if c.Test == Exact {
		return "exact (deterministic)"
	}
	return "U test " + strings.SplitN(c.Note, ":", 2)[0]
}

func (a *Analysis) verdictLine() string {
	if a.Regressions == 0 {
		return fmt.Sprintf("No regression: %d metrics compared, none worse beyond its threshold.", len(a.Changes))
	}
	var names []string
	for _, c := range a.Changes {
		if c.Regression {
			names = append(names, fmt.Sprintf("%s %s", c.Metric, Delta(c.Delta)))
		}
	}
	return fmt.Sprintf("REGRESSION: %d of %d metrics worse beyond their threshold: %s.", a.Regressions, len(a.Changes), strings.Join(names, ", "))
}

// table writes rows as left-aligned columns, the first row a header.
func table(b *strings.Builder, rows [][]string) {
	width := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range rows {
		b.WriteString(" ")
		for i, c := range r {
			if i == len(r)-1 {
				fmt.Fprintf(b, " %s", c)
				continue
			}
			fmt.Fprintf(b, " %-*s", width[i], c)
		}
		b.WriteString("\n")
	}
}

// Markdown writes the analysis for a pull request comment: the verdict,
// the changes that matter in a table, the rest folded away.
func (a *Analysis) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("### krosim analyze\n\n")
	fmt.Fprintf(&b, "Inputs: %s", mdEscape(describeInputs(a.Inputs)))
	if len(a.Baseline) > 0 {
		fmt.Fprintf(&b, "; baseline: %s", mdEscape(describeInputs(a.Baseline)))
	}
	b.WriteString("\n\n")
	if len(a.Baseline) > 0 {
		if a.Regressions > 0 {
			b.WriteString(":x: **" + mdEscape(a.verdictLine()) + "**\n\n")
		} else {
			b.WriteString(":white_check_mark: " + mdEscape(a.verdictLine()) + "\n\n")
		}
		head := "| metric | baseline | new | delta | threshold | test | verdict |\n|---|---|---|---|---|---|---|\n"
		var changed, same strings.Builder
		for _, c := range a.Changes {
			row := fmt.Sprintf("| %s | %s | %s | %s | %.0f%% | %s | %s |\n", mdEscape(c.Metric), Num(c.Old.Median, c.Unit), Num(c.New.Median, c.Unit),
				Delta(c.Delta), 100*c.Threshold, testText(c), c.Verdict())
			if c.Significant {
				changed.WriteString(row)
			} else {
				same.WriteString(row)
			}
		}
		if changed.Len() > 0 {
			b.WriteString(head + changed.String() + "\n")
		}
		if same.Len() > 0 {
			fmt.Fprintf(&b, "<details><summary>%d metrics without a significant change</summary>\n\n%s%s\n</details>\n\n", strings.Count(same.String(), "\n"), head, same.String())
		}
		b.WriteString("Exact: deterministic simulations of the same seeds, any difference is real. U test: Mann-Whitney U at alpha 0.05 (benchmath, as benchstat); `~` is no significant difference.\n\n")
	} else {
		b.WriteString("| metric | median | 95% CI | range |\n|---|---|---|---|\n")
		for _, m := range a.Metrics {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdEscape(m.Name), Num(m.Summary.Median, m.Unit), m.Summary.interval(m.Unit), spreadText(m.Summary, m.Unit))
		}
		b.WriteString("\n")
	}
	if len(a.Recommendations) > 0 {
		b.WriteString("<details><summary>Recommendations</summary>\n\n")
		for _, r := range a.Recommendations {
			fmt.Fprintf(&b, "- **%s**: %s\n", r.Topic, mdEscape(r.Text))
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape keeps text from breaking a Markdown table or turning into markup.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`).Replace(s)
}
