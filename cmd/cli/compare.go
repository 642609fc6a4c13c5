package cli

import (
	"errors"
	"fmt"

	"github.com/krosim/krosim/profile/analysis"
	"github.com/spf13/pflag"
)

type compareOptions struct {
	tolerance float64
	format    string
	allowBusy bool
	deleteTol float64
	rgdColumn bool
}

var compareCmd = &command{
	name: "compare",
	examples: `# a simulation against three real runs of the same workload
krosim compare out/sim out/real-1 out/real-2 out/real-3
# one row of a markdown table, after its header
krosim compare -o markdown-header
krosim compare -o markdown out/sim out/real-1`,
	args:    "SIM_DIR REAL_DIR...",
	summary: "compare a simulation's results with real runs: converge time, time to ready, reconciles and API calls by verb and resource",
	flags: func(fs *pflag.FlagSet) any {
		o := &compareOptions{}
		fs.Float64Var(&o.tolerance, "tolerance", 0.15, "largest relative error of the converge, update and delete times against the median real run")
		fs.StringVarP(&o.format, "output", "o", "text", "output format: text, markdown (one summary table row), markdown-header (that table's header) or counts (markdown table of requests per instance)")
		fs.StringVar(&o.format, "format", "text", "the same as -o")
		_ = fs.MarkDeprecated("format", "use -o/--output")
		fs.Float64Var(&o.deleteTol, "delete-tolerance", 0, "largest relative error of the delete time (default: --tolerance)")
		fs.BoolVar(&o.rgdColumn, "rgd-column", false, "markdown and markdown-header: begin each row with the RGD's file name, for tables of several RGDs")
		fs.BoolVar(&o.allowBusy, "allow-busy", false, "compare with real runs taken on a busy host too (real.host in their results.json), flagged")
		return o
	},
	run: func(e *env, o any, args []string) error {
		opts := o.(*compareOptions)
		if opts.format == "markdown-header" { // needs no runs
			if opts.rgdColumn {
				fmt.Fprint(e.stdout, analysis.MarkdownHeaderRGD)
			} else {
				fmt.Fprint(e.stdout, analysis.MarkdownHeader)
			}
			return nil
		}
		if len(args) < 2 {
			return usagef("want a simulation's directory and at least one real run's")
		}
		if opts.tolerance <= 0 || opts.deleteTol < 0 {
			return usagef("--tolerance and --delete-tolerance must be positive")
		}
		c, err := analysis.LoadSimReal(args[0], args[1:])
		var me *analysis.ModeError
		if errors.As(err, &me) {
			return usagef("%v", err)
		}
		if err != nil {
			return err
		}
		c.DeleteTolerance, c.RGDColumn = opts.deleteTol, opts.rgdColumn
		if err := c.CheckQuiet(e.stderr, "compare", opts.allowBusy); err != nil {
			return err
		}
		switch opts.format {
		case "text":
			c.Text(e.stdout, opts.tolerance)
		case "markdown":
			c.MarkdownRow(e.stdout, opts.tolerance)
		case "counts":
			c.MarkdownCounts(e.stdout)
		default:
			return usagef("--output must be text, markdown, markdown-header or counts, not %q", opts.format)
		}
		if bad := c.Verdict(opts.tolerance); bad != "" {
			if opts.format == "text" {
				fmt.Fprintf(e.stdout, "\nFAIL: %s\n", bad)
			}
			return reportedError
		}
		if opts.format == "text" {
			times := "converge and delete times"
			if c.HasUpdates() {
				times = "converge, update and delete times"
			}
			fmt.Fprintf(e.stdout, "\nPASS: every count equal to real kro's (or, where kro's own runs differ, within them), %s within tolerance\n", times)
		}
		return nil
	},
}
