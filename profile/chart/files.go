package chart

import (
	"fmt"

	"github.com/krosim/krosim/profile/analysis"
)

// Of returns the charts of every input: a sweep's curves, a bench report's
// suites, a run's latency and attribution. Names are prefixed by the
// input's kind, and numbered when several inputs share a kind.
func Of(ins []*analysis.Input) []Chart {
	var out []Chart
	seen := map[analysis.Kind]int{}
	for _, in := range ins {
		var cs []Chart
		switch {
		case in.Sweep != nil:
			cs = Sweep(in.Sweep)
		case in.Bench != nil:
			cs = Bench(in.Bench)
		case in.Result != nil:
			cs = Run(in.Result)
		}
		kind := in.Kind
		if kind == analysis.Profile {
			kind = analysis.Run
		}
		seen[kind]++
		prefix := string(kind) + "-"
		if n := seen[kind]; n > 1 {
			prefix = fmt.Sprintf("%s%d-", kind, n)
		}
		for _, c := range cs {
			c.Name = prefix + c.Name
			out = append(out, c)
		}
	}
	return out
}

// Render renders every chart in every format: name.png, name.svg.
func Render(charts []Chart) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, c := range charts {
		for _, f := range Formats {
			b, err := c.Render(f)
			if err != nil {
				return nil, err
			}
			files[c.Name+"."+f] = b
		}
	}
	return files, nil
}
