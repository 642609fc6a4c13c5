package cli

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/krosim/krosim/profile/report"
	"github.com/spf13/pflag"
)

type reportOptions struct {
	baseline   []string
	thresholds []string
	out        string
	commands   []string
}

var reportCmd = &command{
	examples: `# the performance report of a bench run, a sweep and a profile
krosim report out/report/bench out/report/sweep out/report/profile --out out/report/report.html`,
	name: "report",
	args: "DIR...",
	summary: "write the performance report of krosim outputs (bench, sweep, run or profile): one self-contained report.html (inline SVG charts and flame graph, no network) " +
		"and report.md with charts/, the report's sections with the published numbers beside the measured",
	flags: func(fs *pflag.FlagSet) any {
		o := &reportOptions{}
		fs.StringArrayVar(&o.baseline, "baseline", nil, "a baseline output directory: adds the change against it (repeat for several runs)")
		fs.StringArrayVar(&o.thresholds, "threshold", nil, "METRIC=PCT for the baseline's regressions, as analyze's")
		fs.StringVar(&o.out, "out", "out/report/report.html", "the HTML file to write; report.md and charts/ go beside it")
		fs.StringArrayVar(&o.commands, "command", nil, "a command line that produced the inputs, listed in the appendix (repeat)")
		return o
	},
	run: runReport,
}

func runReport(e *env, o any, args []string) error {
	opts := o.(*reportOptions)
	if len(args) == 0 {
		return usagef("want at least one output directory")
	}
	if !strings.HasSuffix(opts.out, ".html") {
		return usagef("--out must name an .html file, not %q", opts.out)
	}
	rules, err := thresholds(opts.thresholds)
	if err != nil {
		return err
	}
	ins, base, err := inputs(args, opts.baseline)
	if err != nil {
		return err
	}
	files, err := report.Build(ins, report.Options{Baseline: base, Rules: rules, Commands: opts.commands})
	if err != nil {
		return err
	}
	dir := filepath.Dir(opts.out)
	charts := filepath.Join(dir, report.ChartsDir)
	if err := os.MkdirAll(charts, 0o755); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files.Charts)) {
		if err := writeFileAtomic(filepath.Join(charts, name), files.Charts[name]); err != nil {
			return err
		}
	}
	md := strings.TrimSuffix(opts.out, ".html") + ".md"
	if err := writeFileAtomic(md, files.Markdown); err != nil {
		return err
	}
	if err := writeFileAtomic(opts.out, files.HTML); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (self-contained: open it in a browser), %s and %d charts in %s\n", opts.out, md, len(files.Charts), charts)
	return nil
}
