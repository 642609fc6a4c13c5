package analysis

import (
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/verb"
)

// ModeError is an input of the wrong mode: a real run where a simulation
// belongs, or the other way round.
type ModeError struct {
	Dir, Mode, Want string
}

func (e *ModeError) Error() string {
	return fmt.Sprintf("%s holds a %s run, not %s", e.Dir, e.Mode, e.Want)
}

// compared is one results.json and where it came from.
type compared struct {
	dir  string
	mode string
	res  *result.Result
	// workers is the simulation's target's, or what the real run recorded.
	workers int
}

// SimReal is a simulation against real runs of the same workload: the
// fidelity check of krosim compare.
type SimReal struct {
	sim  compared
	real []compared
	// DeleteTolerance is the delete time's tolerance, when it differs from
	// the converge time's; RGDColumn starts markdown rows with the RGD.
	DeleteTolerance float64
	RGDColumn       bool
}

func loadRun(dir string) (compared, error) {
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

// LoadSimReal reads a simulation's directory and real runs' directories.
func LoadSimReal(simDir string, realDirs []string) (*SimReal, error) {
	s, err := loadRun(simDir)
	if err != nil {
		return nil, err
	}
	if s.mode != "sim" {
		return nil, &ModeError{Dir: simDir, Mode: s.mode, Want: "a simulation"}
	}
	c := &SimReal{sim: s}
	for _, d := range realDirs {
		r, err := loadRun(d)
		if err != nil {
			return nil, err
		}
		if r.mode != "real" {
			return nil, &ModeError{Dir: d, Mode: r.mode, Want: "a real one"}
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
func (c *SimReal) counts() []count {
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
	m := result.Median(xs)
	return &m
}

// relErr is (sim - real) / real, or NaN.
func relErr(s, r *float64) float64 {
	if s == nil || r == nil || *r == 0 {
		return math.NaN()
	}
	return (*s - *r) / *r
}

func (c *SimReal) timings() []timing {
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

// tolerance is the largest relative error of timing i (0 converge, 1
// delete) given the converge time's.
func (c *SimReal) tolerance(i int, converge float64) float64 {
	if i == 1 && c.DeleteTolerance > 0 {
		return c.DeleteTolerance
	}
	return converge
}

// CheckQuiet refuses the real runs taken on a busy host, unless allow, and
// notes on w those it lets through with their load or without a record of it.
func (c *SimReal) CheckQuiet(w io.Writer, cmd string, allow bool) error {
	var dirs []string
	var runs []*result.Result
	for _, r := range c.real {
		dirs, runs = append(dirs, r.dir), append(runs, r.res)
	}
	return CheckQuiet(w, cmd, allow, dirs, runs)
}

// CheckQuiet refuses real runs whose host was busy while they ran (their
// timings are kro's under contention, not kro's) unless allow, and says on
// w which runs it let through with their load, or without a record of it.
func CheckQuiet(w io.Writer, cmd string, allow bool, dirs []string, runs []*result.Result) error {
	var busy []string
	for i, r := range runs {
		why := r.Busy()
		switch {
		case why == "":
		case r.Real.Host == nil || allow:
			fmt.Fprintf(w, "krosim %s: note: %s: %s\n", cmd, dirs[i], why)
		default:
			busy = append(busy, fmt.Sprintf("%s: %s", dirs[i], why))
		}
	}
	if len(busy) > 0 {
		return fmt.Errorf("real runs taken on a busy host (--allow-busy uses them anyway):\n  %s", strings.Join(busy, "\n  "))
	}
	if note := hostSpeeds(dirs, runs); note != "" {
		fmt.Fprintf(w, "krosim %s: note: %s\n", cmd, note)
	}
	return nil
}

// SpeedSpread is how much the host's speed probe (real.host.probe) may
// differ between real runs before a comparison says so: the slowest run's
// median over the fastest's.
const SpeedSpread = 1.2

// hostSpeeds says how far apart the real runs' hosts were in speed, when
// their probes differ by SpeedSpread or more: a run's CPU time per request
// follows its probe (measured/probe/table.md), and its timings with it, so a
// median of such runs is a median of hosts too.
func hostSpeeds(dirs []string, runs []*result.Result) string {
	fast, slow := -1, -1
	var f, s float64
	for i, r := range runs {
		if r.Real == nil || r.Real.Host == nil || r.Real.Host.Probe == nil {
			continue
		}
		m := r.Real.Host.Probe.Median
		if fast < 0 || m < f {
			fast, f = i, m
		}
		if slow < 0 || m > s {
			slow, s = i, m
		}
	}
	if fast < 0 || s < SpeedSpread*f {
		return ""
	}
	return fmt.Sprintf("the host's speed differed between the real runs: its probe's median took %.0f us in %s and %.0f us in %s (%.2fx); "+
		"the CPU time per request follows the probe, and a run's timings with it", f, dirs[fast], s, dirs[slow], s/f)
}

// Verdict is why the comparison fails, or empty.
func (c *SimReal) Verdict(tolerance float64) string {
	var bad []string
	for _, k := range c.counts() {
		if !k.agrees() {
			bad = append(bad, fmt.Sprintf("%s: simulated %d, real %v", k.name, k.sim, k.real))
		}
	}
	// judge says what is wrong with phase's time t, judged by tol: missing
	// (why), or off by more than tol.
	judge := func(t timing, phase, why string, tol float64) {
		if e := relErr(t.sim, t.median()); math.IsNaN(e) {
			bad = append(bad, fmt.Sprintf("%s time missing (%s)", phase, why))
		} else if math.Abs(e) > tol {
			bad = append(bad, fmt.Sprintf("%s time off by %+.1f%% (tolerance %.0f%%)", phase, 100*e, 100*tol))
		}
	}
	tm := c.timings()
	judge(tm[0], "converge", "a run did not converge", tolerance)
	if del := tm[1]; del.sim != nil || del.median() != nil { // the workload deleted its instances
		judge(del, "delete", "a run did not finish deleting", c.tolerance(1, tolerance))
	}
	if c.HasUpdates() { // the workload changed its instances: judged as converge is
		judge(tm[2], "update", "a run did not settle its updates", tolerance)
	}
	return strings.Join(bad, "; ")
}

// HasUpdates says whether the simulation changed its instances' specs after
// they converged (workload.update), so that its update phase is judged too.
func (c *SimReal) HasUpdates() bool { return c.sim.res.Summary.UpdateSeconds != nil }

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

// waitBuckets prints how the LISTs' waits for the watch cache spread, in the
// server's histogram buckets: the bucket a wait falls in tells a wait for a
// watch event or an immediate progress notification (a few ms) from one for
// the progress requester's next tick (up to its 100 ms period). A real run
// recorded before the buckets were shows "-".
func (c *SimReal) waitBuckets(w io.Writer) {
	runs := append([]compared{c.sim}, c.real...)
	for i := range len(result.WaitBounds) + 1 {
		var name string
		switch {
		case i == 0:
			name = fmt.Sprintf("  waits up to %g ms", 1e3*result.WaitBounds[0])
		case i < len(result.WaitBounds):
			name = fmt.Sprintf("  waits over %g up to %g ms", 1e3*result.WaitBounds[i-1], 1e3*result.WaitBounds[i])
		default:
			name = fmt.Sprintf("  waits over %g ms", 1e3*result.WaitBounds[i-1])
		}
		cells, some := make([]string, len(runs)), false
		for j, r := range runs {
			cells[j] = "-"
			if bs := r.res.API.WatchCacheWaitBuckets; len(bs) > i {
				cells[j] = fmt.Sprint(bs[i].Waits)
				some = some || bs[i].Waits > 0
			}
		}
		if some {
			fmt.Fprintf(w, "%-36s %12s %12s %9s   %s\n", name, cells[0], "", "", strings.Join(cells[1:], " "))
		}
	}
}

func fmtErr(e float64) string {
	if math.IsNaN(e) {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", 100*e)
}

// Text prints the comparison for a terminal.
func (c *SimReal) Text(w io.Writer, tolerance float64) {
	s := c.sim.res
	target := "?"
	if s.Config.Target != nil {
		target = s.Config.Target.Name
	}
	fmt.Fprintf(w, "krosim compare: simulation %s (target %s, %s) vs %d real run(s) of %d instances\n\n",
		c.sim.dir, target, result.Workers(c.sim.workers), len(c.real), s.Summary.InstancesTotal)
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
	c.waitBuckets(w)
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

// MarkdownRow prints one row of the fidelity table (MarkdownHeader).
func (c *SimReal) MarkdownRow(w io.Writer, tolerance float64) {
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
	if c.RGDColumn {
		name := "?"
		if files := c.sim.res.Config.RGDFiles; len(files) > 0 {
			name = filepath.Base(files[0])
		}
		cells = append([]string{"`" + name + "`"}, cells...)
	}
	for i, t := range c.timings()[:2] { // converge, delete
		var runs []string
		for _, r := range t.real {
			runs = append(runs, fmtSecs(r))
		}
		e := relErr(t.sim, t.median())
		errText := fmtErr(e)
		if math.IsNaN(e) || math.Abs(e) > c.tolerance(i, tolerance) {
			errText = "**" + errText + "**"
		}
		cells = append(cells, fmtSecs(t.sim), fmt.Sprintf("%s (%s)", fmtSecs(t.median()), strings.Join(runs, ", ")), errText)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

// MarkdownHeader is the fidelity table's header, for MarkdownRow's rows.
const MarkdownHeader = "| instances | workers | reconciles per instance, sim / real runs | API calls per instance, sim / real runs | counts " +
	"| converge s, sim | converge s, real median (runs) | error | delete s, sim | delete s, real median (runs) | error |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|\n"

// MarkdownHeaderRGD is MarkdownHeader with the RGD column first.
var MarkdownHeaderRGD = "| RGD " + strings.Replace(MarkdownHeader, "\n|", "\n|---|", 1)

// MarkdownCounts prints the requests per instance by resource and verb, simulated and real.
func (c *SimReal) MarkdownCounts(w io.Writer) {
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
