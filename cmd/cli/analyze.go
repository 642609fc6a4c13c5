package cli

import (
	"github.com/krosim/krosim/profile/analysis"
	"github.com/spf13/pflag"
)

type analyzeOptions struct {
	baseline   []string
	thresholds []string
	output     string
}

var analyzeCmd = &command{
	examples: `# did my RGD change make kro slower? exit 1 on a regression beyond 10%
krosim analyze out/new --baseline out/old
# a Markdown table for a pull request comment, converge time allowed 5%
krosim analyze out/new --baseline out/old --threshold converge_seconds=5% -o markdown`,
	name: "analyze",
	args: "DIR...",
	summary: "summarize any krosim output (run, profile, sweep, bench; simulated or real): median and 95% CI per metric, changes against --baseline " +
		"(exact for deterministic runs, else Mann-Whitney U as benchstat) with exit 1 on a regression beyond its threshold, and recommendations citing the numbers",
	flags: func(fs *pflag.FlagSet) any {
		o := &analyzeOptions{}
		fs.StringArrayVar(&o.baseline, "baseline", nil, "a baseline output directory to compare with (repeat for several runs)")
		fs.StringArrayVar(&o.thresholds, "threshold", nil, "METRIC=PCT: the largest change for the worse tolerated, e.g. converge_seconds=5% or 'api_calls*=0%' (* is any text; the last match wins; default 10%)")
		fs.StringVarP(&o.output, "output", "o", "text", "output format: text, json or markdown (for a pull request comment)")
		return o
	},
	run: runAnalyze,
}

func runAnalyze(e *env, o any, args []string) error {
	opts := o.(*analyzeOptions)
	if len(args) == 0 {
		return usagef("want at least one output directory")
	}
	rules, err := thresholds(opts.thresholds)
	if err != nil {
		return err
	}
	if opts.output != "text" && opts.output != "json" && opts.output != "markdown" {
		return usagef("-o must be text, json or markdown, not %q", opts.output)
	}
	ins, base, err := inputs(args, opts.baseline)
	if err != nil {
		return err
	}
	a := analysis.Analyze(ins, base, rules)
	switch opts.output {
	case "json":
		b, err := a.JSON()
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(b)
		if err != nil {
			return err
		}
	case "markdown":
		err = a.Markdown(e.stdout)
	default:
		err = a.Text(e.stdout)
	}
	if err != nil {
		return err
	}
	if a.Regressions > 0 {
		return reportedError
	}
	return nil
}

// thresholds parses --threshold flags; a bad one is a usage error.
func thresholds(flags []string) ([]analysis.Threshold, error) {
	var rules []analysis.Threshold
	for _, s := range flags {
		r, err := analysis.ParseThreshold(s)
		if err != nil {
			return nil, usagef("--threshold: %v", err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// inputs loads the output directories and the baseline's.
func inputs(dirs, baseline []string) (ins, base []*analysis.Input, err error) {
	if ins, err = analysis.LoadAll(dirs); err != nil {
		return nil, nil, err
	}
	if base, err = analysis.LoadAll(baseline); err != nil {
		return nil, nil, err
	}
	return ins, base, nil
}
