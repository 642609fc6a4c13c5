package cli

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/krosim/krosim/profile/analysis"
	"github.com/krosim/krosim/profile/chart"
	"github.com/spf13/pflag"
)

type visualizeOptions struct {
	baseline []string
	out      string
}

var visualizeCmd = &command{
	examples: `# charts of a bench run and a sweep, PNG and SVG
krosim visualize out/bench out/sweep --out out/charts`,
	name: "visualize",
	args: "DIR...",
	summary: "chart any krosim outputs as PNG (high DPI) and SVG: latency by operation and verb, CEL cost, graph ops by size, workers scaling with its knee, " +
		"the usage fit and its residuals, sweep curves with what binds, worker time by phase, and the change against --baseline",
	flags: func(fs *pflag.FlagSet) any {
		o := &visualizeOptions{}
		fs.StringArrayVar(&o.baseline, "baseline", nil, "a baseline output directory: adds a chart of the significant changes (repeat for several runs)")
		fs.StringVar(&o.out, "out", "out/charts", "directory for the charts")
		return o
	},
	run: runVisualize,
}

func runVisualize(e *env, o any, args []string) error {
	opts := o.(*visualizeOptions)
	if len(args) == 0 {
		return usagef("want at least one output directory")
	}
	ins, base, err := inputs(args, opts.baseline)
	if err != nil {
		return err
	}
	charts := chart.Of(ins)
	if len(base) > 0 {
		if c := chart.Changes(analysis.Analyze(ins, base, nil).Changes, 25); c != nil {
			charts = append(charts, *c)
		}
	}
	if len(charts) == 0 {
		return fmt.Errorf("nothing to chart in %v: a sweep needs a dimension with two values, a run needs API calls", args)
	}
	files, err := chart.Render(charts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.out, 0o755); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := writeFileAtomic(filepath.Join(opts.out, name), files[name]); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "wrote %d charts (PNG and SVG) into %s:\n", len(charts), opts.out)
	for _, c := range charts {
		fmt.Fprintf(e.stdout, "  %-28s %s\n", c.Name, c.Title)
	}
	return nil
}
