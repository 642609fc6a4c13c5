package cli

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/verb"
	"github.com/spf13/pflag"
)

type compareOptions struct {
	tolerance float64
	format    string
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
		fs.Float64Var(&o.tolerance, "tolerance", 0.15, "largest relative error of the converge and delete times against the median real run")
		fs.StringVarP(&o.format, "output", "o", "text", "output format: text, markdown (one summary table row), markdown-header (that table's header) or counts (markdown table of requests per instance)")
		fs.StringVar(&o.format, "format", "text", "the same as -o")
		_ = fs.MarkDeprecated("format", "use -o/--output")
		return o
	},
	run: func(e *env, o any, args []string) error {
		opts := o.(*compareOptions)
		if opts.format == "markdown-header" { // needs no runs
			fmt.Fprint(e.stdout, markdownHeader)
			return nil
		}
		if len(args) < 2 {
			return usagef("want a simulation's directory and at least one real run's")
		}
		if opts.tolerance <= 0 {
			return usagef("--tolerance must be positive")
		}
		c, err := loadComparison(args[0], args[1:])
		if err != nil {
			return err
		}
		switch opts.format {
		case "text":
			c.text(e.stdout, opts.tolerance)
		case "markdown":
			c.markdownRow(e.stdout, opts.tolerance)
		case "counts":
			c.markdownCounts(e.stdout)
		default:
			return usagef("--output must be text, markdown, markdown-header or counts, not %q", opts.format)
		}
		if bad := c.verdict(opts.tolerance); bad != "" {
			if opts.format == "text" {
				fmt.Fprintf(e.stdout, "\nFAIL: %s\n", bad)
			}
			return reportedError
		}
		if opts.format == "text" {
			fmt.Fprintln(e.stdout, "\nPASS: every count equal to real kro's (or, where kro's own runs differ, within them), converge and delete times within tolerance")
		}
		return nil
	},
}

// compared is one results.json and where it came from.
type compared struct {
	dir  string
	mode string
	res  *result.Result
	// workers is the simulation's target's, or what the real run recorded.
	workers int
}

type comparison struct {
	sim  compared
	real []compared
}

func loadResults(dir string) (compared, error) {
	res, err := result.Read(dir)
	if err != nil {
		return compared{}, err
	}
	c := compared{dir: dir, mode: "sim", res: res, workers: res.Config.ControllerWorkers()}
	if res.Config.IsReal() {
		c.mode = "real"
	}
	return c, nil
}

func loadComparison(simDir string, realDirs []string) (*comparison, error) {
	s, err := loadResults(simDir)
	if err != nil {
		return nil, err
	}
	if s.mode != "sim" {
		return nil, usagef("%s holds a %s run, not a simulation", simDir, s.mode)
	}
	c := &comparison{sim: s}
	for _, d := range realDirs {
		r, err := loadResults(d)
		if err != nil {
			return nil, err
		}
		if r.mode != "real" {
			return nil, usagef("%s holds a %s run, not a real one", d, r.mode)
		}
		c.real = append(c.real, r)
	}
	return c, nil
}

// count is one compared counter: a name and its value in each run.
type count struct {
	name string
	sim  int
	real []int
}

func (k count) equal() bool {
	for _, r := range k.real {
		if r != k.sim {
			return false
		}
	}
	return true
}

// agrees says whether the simulated count matches real kro's: equal to it
// when every real run made the same count, and within the real runs' range
// when kro itself did not repeat (then no single count is kro's).
func (k count) agrees() bool {
	if k.equal() {
		return true
	}
	lo, hi := k.real[0], k.real[0]
	for _, r := range k.real {
		lo, hi = min(lo, r), max(hi, r)
	}
	return lo != hi && lo <= k.sim && k.sim <= hi
}

// mark is a count's verdict as the reports print it.
func (k count) mark() string {
	switch {
	case k.equal():
		return "equal"
	case k.agrees():
		return "within"
	}
	return "DIFFERS"
}

// counts lists every counter compared: reconciles, requeues, API calls by
// verb, then by resource and verb.
func (c *comparison) counts() []count {
	var out []count
	add := func(name string, get func(*result.Summary) int) {
		k := count{name: name, sim: get(&c.sim.res.Summary)}
		for _, r := range c.real {
			k.real = append(k.real, get(&r.res.Summary))
		}
		out = append(out, k)
	}
	add("reconciles", func(s *result.Summary) int { return s.Reconciles })
	reasons := map[string]bool{}
	resources := map[string]map[verb.Verb]bool{}
	for _, r := range append([]compared{c.sim}, c.real...) {
		for k := range r.res.Summary.RequeuesByReason {
			reasons[k] = true
		}
		for res, verbs := range r.res.Summary.APICallsByResource {
			if resources[res] == nil {
				resources[res] = map[verb.Verb]bool{}
			}
			for v := range verbs {
				resources[res][v] = true
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(reasons)) {
		add("requeues "+k, func(s *result.Summary) int { return s.RequeuesByReason[k] })
	}
	for _, v := range verb.All {
		add("api calls "+string(v), func(s *result.Summary) int { return s.APICalls[v] })
	}
	for _, res := range slices.Sorted(maps.Keys(resources)) {
		for _, v := range verb.All {
			if resources[res][v] {
				add(res+" "+string(v), func(s *result.Summary) int { return s.APICallsByResource[res][v] })
			}
		}
	}
	return out
}

// timing is one compared duration: the simulation's and every real run's.
type timing struct {
	name string
	sim  *float64
	real []*float64
}

func (t timing) median() *float64 {
	var xs []float64
	for _, r := range t.real {
		if r != nil {
			xs = append(xs, *r)
		}
	}
	if len(xs) == 0 {
		return nil
	}
	sort.Float64s(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return &m
}

// relErr is (sim - real) / real, or NaN.
func relErr(s, r *float64) float64 {
	if s == nil || r == nil || *r == 0 {
		return math.NaN()
	}
	return (*s - *r) / *r
}

func (c *comparison) timings() []timing {
	var out []timing
	add := func(name string, get func(*result.Summary) *float64) {
		t := timing{name: name, sim: get(&c.sim.res.Summary)}
		for _, r := range c.real {
			t.real = append(t.real, get(&r.res.Summary))
		}
		out = append(out, t)
	}
	add("converge seconds", func(s *result.Summary) *float64 { return s.ConvergeSeconds })
	add("delete seconds", func(s *result.Summary) *float64 { return s.DeleteSeconds })
	if c.sim.res.Summary.UpdateSeconds != nil {
		add("update seconds", func(s *result.Summary) *float64 { return s.UpdateSeconds })
	}
	add("time to ready p50", func(s *result.Summary) *float64 { v := s.TimeToReady.P50; return &v })
	add("time to ready p95", func(s *result.Summary) *float64 { v := s.TimeToReady.P95; return &v })
	add("time to ready p99", func(s *result.Summary) *float64 { v := s.TimeToReady.P99; return &v })
	add("time to ready max", func(s *result.Summary) *float64 { v := s.TimeToReady.Max; return &v })
	return out
}

// verdict is why the comparison fails, or empty.
func (c *comparison) verdict(tolerance float64) string {
	var bad []string
	for _, k := range c.counts() {
		if !k.agrees() {
			bad = append(bad, fmt.Sprintf("%s: simulated %d, real %v", k.name, k.sim, k.real))
		}
	}
	tm := c.timings()
	conv, del := tm[0], tm[1]
	if e := relErr(conv.sim, conv.median()); math.IsNaN(e) {
		bad = append(bad, "converge time missing (a run did not converge)")
	} else if math.Abs(e) > tolerance {
		bad = append(bad, fmt.Sprintf("converge time off by %+.1f%% (tolerance %.0f%%)", 100*e, 100*tolerance))
	}
	if del.sim != nil || del.median() != nil { // the workload deleted its instances
		if e := relErr(del.sim, del.median()); math.IsNaN(e) {
			bad = append(bad, "delete time missing (a run did not finish deleting)")
		} else if math.Abs(e) > tolerance {
			bad = append(bad, fmt.Sprintf("delete time off by %+.1f%% (tolerance %.0f%%)", 100*e, 100*tolerance))
		}
	}
	return strings.Join(bad, "; ")
}

func fmtSecs(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *v)
}

// fmtWait is the mean wait of the LISTs that waited for the watch cache.
func fmtWait(a result.API) string {
	if a.WatchCacheWaits == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f(%d)", 1e3*a.WatchCacheWaitSeconds/float64(a.WatchCacheWaits), a.WatchCacheWaits)
}

func fmtErr(e float64) string {
	if math.IsNaN(e) {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", 100*e)
}

func (c *comparison) text(w io.Writer, tolerance float64) {
	s := c.sim.res
	target := "?"
	if s.Config.Target != nil {
		target = s.Config.Target.Name
	}
	fmt.Fprintf(w, "krosim compare: simulation %s (target %s, %d workers) vs %d real run(s) of %d instances\n\n",
		c.sim.dir, target, c.sim.workers, len(c.real), s.Summary.InstancesTotal)
	fmt.Fprintf(w, "%-36s %12s %12s %9s   %s\n", "", "simulated", "real median", "error", "real runs")
	for _, t := range c.timings() {
		var runs []string
		for _, r := range t.real {
			runs = append(runs, fmtSecs(r))
		}
		fmt.Fprintf(w, "%-36s %12s %12s %9s   %s\n", t.name, fmtSecs(t.sim), fmtSecs(t.median()),
			fmtErr(relErr(t.sim, t.median())), strings.Join(runs, " "))
	}
	waits := []string{}
	for _, r := range c.real {
		waits = append(waits, fmtWait(r.res.API))
	}
	fmt.Fprintf(w, "%-36s %12s %12s %9s   %s\n", "LIST watch-cache wait, mean ms(LISTs)", fmtWait(s.API), "", "", strings.Join(waits, " "))
	fmt.Fprintln(w)
	n := float64(max(1, s.Summary.InstancesTotal))
	fmt.Fprintf(w, "%-36s %12s %12s %9s   %s\n", "", "simulated", "per inst.", "", "real runs")
	for _, k := range c.counts() {
		mark := k.mark()
		var runs []string
		for _, r := range k.real {
			runs = append(runs, fmt.Sprint(r))
		}
		fmt.Fprintf(w, "%-36s %12d %12.2f %9s   %s\n", k.name, k.sim, float64(k.sim)/n, mark, strings.Join(runs, " "))
	}
	_ = tolerance
}

// markdownRow prints one row of the fidelity table (markdownHeader).
func (c *comparison) markdownRow(w io.Writer, tolerance float64) {
	s := c.sim.res.Summary
	n := float64(max(1, s.InstancesTotal))
	calls := func(m map[verb.Verb]int) int {
		t := 0
		for _, v := range m {
			t += v
		}
		return t
	}
	var realRec, realCalls []string
	for _, r := range c.real {
		realRec = append(realRec, fmt.Sprintf("%.2f", float64(r.res.Summary.Reconciles)/n))
		realCalls = append(realCalls, fmt.Sprintf("%.2f", float64(calls(r.res.Summary.APICalls))/n))
	}
	verdict := "equal"
	for _, k := range c.counts() {
		switch k.mark() {
		case "within":
			if verdict == "equal" {
				verdict = "within kro's spread"
			}
		case "DIFFERS":
			verdict = "**differ**"
		}
	}
	cells := []string{fmt.Sprint(s.InstancesTotal), fmt.Sprint(c.sim.workers),
		fmt.Sprintf("%.2f / %s", float64(s.Reconciles)/n, strings.Join(realRec, ", ")),
		fmt.Sprintf("%.2f / %s", float64(calls(s.APICalls))/n, strings.Join(realCalls, ", ")), verdict}
	for _, t := range c.timings()[:2] { // converge, delete
		var runs []string
		for _, r := range t.real {
			runs = append(runs, fmtSecs(r))
		}
		e := relErr(t.sim, t.median())
		errText := fmtErr(e)
		if math.IsNaN(e) || math.Abs(e) > tolerance {
			errText = "**" + errText + "**"
		}
		cells = append(cells, fmtSecs(t.sim), fmt.Sprintf("%s (%s)", fmtSecs(t.median()), strings.Join(runs, ", ")), errText)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

// markdownHeader is the fidelity table's header, for markdownRow's rows.
const markdownHeader = "| instances | workers | reconciles per instance, sim / real runs | API calls per instance, sim / real runs | counts " +
	"| converge s, sim | converge s, real median (runs) | error | delete s, sim | delete s, real median (runs) | error |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|\n"

// markdownCounts prints the requests per instance by resource and verb, simulated and real.
func (c *comparison) markdownCounts(w io.Writer) {
	n := float64(max(1, c.sim.res.Summary.InstancesTotal))
	fmt.Fprintln(w, "| per instance | simulated | real |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, k := range c.counts() {
		var runs []string
		seen := map[string]bool{}
		for _, r := range k.real {
			v := fmt.Sprintf("%.2f", float64(r)/n)
			if !seen[v] {
				seen[v] = true
				runs = append(runs, v)
			}
		}
		fmt.Fprintf(w, "| %s | %.2f | %s |\n", k.name, float64(k.sim)/n, strings.Join(runs, ", "))
	}
}
