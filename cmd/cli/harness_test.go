package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/spf13/pflag"
	"gonum.org/v1/gonum/stat"
)

// residuals are the runs' log seconds less their row's mean (k: 0 converge,
// 1 delete), scaled by sqrt(n/(n-1)) so that they scatter as single runs do
// about the row's true center, pooled over the rows with more than one run.
func residuals(rows map[string][][2]float64, k int) []float64 {
	var out []float64
	for _, name := range slices.Sorted(maps.Keys(rows)) {
		rs := rows[name]
		if len(rs) < 2 {
			continue
		}
		var mean float64
		for _, r := range rs {
			mean += math.Log(r[k]) / float64(len(rs))
		}
		scale := math.Sqrt(float64(len(rs)) / float64(len(rs)-1))
		for _, r := range rs {
			out = append(out, scale*(math.Log(r[k])-mean))
		}
	}
	return out
}

// missRate is the chance that an exact prediction is more than bar off the
// median of n runs that scatter about it as res do: a bootstrap of 100,000
// medians of n residuals drawn with replacement (they have heavy tails: a
// normal law would misstate them), with a fixed seed.
func missRate(res []float64, n int, bar float64) float64 {
	const trials = 100_000
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, n)
	miss := 0
	for range trials {
		for i := range xs {
			xs[i] = res[rng.IntN(len(res))]
		}
		if math.Abs(math.Exp(-result.Median(xs))-1) > bar {
			miss++
		}
	}
	return float64(miss) / trials
}

// harnessDir is where make fidelity's calibration of the harness and its real
// runs of the fidelity set are kept (testdata/realapi/fidelity.md).
const harnessDir = measured + "/harness"

// harnessTarget is the target make fidelity calibrated from the runs in
// harnessDir.
const harnessTarget = harnessDir + "/harness.yaml"

// TestCalibrateHarness derives the harness's target from its calibration
// runs (calibrate --cpu-from: kro's CPU per request and per reconcile, the
// server's per request, and what both burn per second while requests flow,
// from the processes' CPU time in three runs each of the calibration RGDs
// at 1 to 8 workers, and the latency kro saw) and wants the committed target
// byte for byte. -update rewrites it.
func TestCalibrateHarness(t *testing.T) {
	calibrateGolden(t, harnessDir, "harness", harnessTarget)
}

// TestCalibrateProbedHarness calibrates the harness from thirty runs that
// probed their host (measured/calprobe, 2026-12-07): the fit moves every
// phase's CPU to the runs' median probe, by how the CPU per request grew
// with the probe between runs that repeat one another, and the target says
// that speed (speed.probe_us, speed.elasticity).
func TestCalibrateProbedHarness(t *testing.T) {
	dir := filepath.Join(measured, "calprobe")
	tg := calibrateGolden(t, dir, "harness-probe", filepath.Join(dir, "harness-probe.yaml"))
	if tg.Speed == nil || tg.Speed.ProbeUS < 1000 || tg.Speed.ProbeUS > 5000 || tg.Speed.Elasticity < 0.3 || tg.Speed.Elasticity > 1.2 {
		t.Errorf("speed %+v: want the runs' median probe, in 1000-5000us, and an elasticity in 0.3-1.2", tg.Speed)
	}
}

// calibrateGolden runs calibrate --cpu-from over the calibration runs in dir
// (cal-*-w*-r*), from the harness's micro.yaml, and wants golden byte for
// byte (-update rewrites it); it returns the target.
func calibrateGolden(t *testing.T, dir, name, golden string) *target.Target {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".yaml")
	cal, err := filepath.Glob(filepath.Join(dir, "cal-*-w*-r*"))
	if err != nil || len(cal) < 2 {
		t.Fatalf("calibration runs in %s: %d (%v)", dir, len(cal), err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"calibrate", "--target", filepath.Join(harnessDir, "micro.yaml")}
	for _, d := range cal {
		args = append(args, "--cpu-from", d)
	}
	args = append(args, "--rgd-root", "../..", "--name", name, "--output", out)
	if code := Main(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("krosim calibrate: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"kro's CPU", "per reconcile", "per wakeup", "server CPU per request", "server.progress_delay", "latency from"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the calibration report lacks %q:\n%s", want, stderr.String())
		}
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !matchGolden(t, golden, got) {
		t.Errorf("calibrate --cpu-from no longer makes %s (go test ./cmd/cli -run Harness -update rewrites it):\n%s", golden, got)
	}
	tg, err := target.Lookup(out)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// matchGolden says whether got is the golden file's content, after writing
// it there with -update.
func matchGolden(t *testing.T, golden string, got []byte) bool {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(got, want)
}

// TestHarnessPredictsFidelitySet simulates every row of real runs of the
// fidelity set kept in testdata/realapi/measured/harness (an RGD, a worker
// count, an instance count; one or two quiet runs) with the one harness
// target, which saw none of those RGDs, and holds every commit to the
// result: the table of predictions against kro (fidelity-table.md there,
// testdata/realapi/fidelity.md shows it) must not change unless rewritten
// with -update, and with one worker every row, the readyWhen RGD's (whose
// stand-ins a controller makes ready) too, must meet issue 13's bars: every
// count equal, converge within 10% and delete within 5% of the real run.
// With more workers the table records how far off the model is.
func TestHarnessPredictsFidelitySet(t *testing.T) {
	got := predictRows(t, filepath.Join(harnessDir, "real-*-r*"), harnessTarget, false, func(workers int) []string {
		if workers != 1 {
			return nil // several workers: not yet within the bars everywhere
		}
		return issueBars
	}, issueBars)
	if golden := filepath.Join(harnessDir, "fidelity-table.md"); !matchGolden(t, golden, []byte(got)) {
		t.Errorf("the predictions of the fidelity set changed (go test ./cmd/cli -run Harness -update rewrites %s):\n%s", golden, got)
	}
	showsTable(t, "../../testdata/realapi/fidelity.md", got)
}

// showsTable checks that the document doc shows table, the first table in
// it with table's header line, as it is (with -update, rewrites it there).
func showsTable(t *testing.T, doc, table string) {
	t.Helper()
	raw, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	header, _, _ := strings.Cut(table, "\n")
	start := strings.Index(text, header+"\n")
	if start < 0 {
		t.Fatalf("%s shows no table headed %q", doc, header)
	}
	end := start
	for end < len(text) && text[end] == '|' {
		line := strings.IndexByte(text[end:], '\n')
		if line < 0 {
			end = len(text)
			break
		}
		end += line + 1
	}
	if text[start:end] == table {
		return
	}
	if *update {
		if err := os.WriteFile(doc, []byte(text[:start]+table+text[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s does not show the table as predicted (go test ./cmd/cli -run Harness -update rewrites it)", doc)
}

// sittings are the same-day sittings of the whole fidelity set with the
// probe: one run of every row, each on a fresh harness, taken the morning
// the calibration runs that predict them were (testdata/realapi/fidelity.md,
// "Sittings"), and the target calibrated from those; the fourth on another
// host that evening, with a second run of its 4- and 8-worker rows.
var sittings = []struct{ dir, target string }{
	{measured + "/sitting1", measured + "/calprobe/harness-probe.yaml"},
	{measured + "/sitting2", measured + "/sitting2/harness.yaml"},
	{measured + "/sitting3", measured + "/sitting3/harness.yaml"},
	{measured + "/sitting4", measured + "/sitting4/harness.yaml"},
	{measured + "/sitting5", measured + "/sitting5/harness.yaml"},
}

// readyDir holds runs of the readyWhen fidelity RGD taken with readiness
// delays drawn per object (world.Draws), so that kro in them and the
// simulation wait for the same delays of the same objects; they were taken
// an hour and a half after the second sitting, whose calibration
// (readyCalibration) predicts them at their host's speed.
const (
	readyDir         = measured + "/ready"
	readyCalibration = measured + "/sitting2/harness.yaml"
)

// TestReadyRowsAtTheirHostsSpeed predicts the readyWhen RGD's rows with the
// second sitting's target, each at the speed its runs' host had: converge
// within issue 13's 10% and delete within 5% of kro's median at every
// worker count, and the table (fidelity-table.md there) unchanged. Counts
// are recorded, not judged: a readyWhen row's reconciles turn on which
// status writes land just before or after a reconcile, and kro's own runs
// of a row differ by up to 2.2%.
func TestReadyRowsAtTheirHostsSpeed(t *testing.T) {
	got := predictRows(t, filepath.Join(readyDir, "real-*-r*"), readyCalibration, true, func(int) []string { return nil }, issueBars)
	if golden := filepath.Join(readyDir, "fidelity-table.md"); !matchGolden(t, golden, []byte(got)) {
		t.Errorf("the readyWhen rows' predictions changed (go test ./cmd/cli -run Ready -update rewrites %s):\n%s", golden, got)
	}
	rows := tableRows(t, got)
	for _, r := range rows {
		if math.Abs(r.converge) > 100*convergeTolerance || math.Abs(r.delete) > 100*deleteTolerance {
			t.Errorf("%s with %s workers: converge %+.1f%%, delete %+.1f%% off kro's median, beyond %.0f%% and %.0f%%",
				r.rgd, r.workers, r.converge, r.delete, 100*convergeTolerance, 100*deleteTolerance)
		}
	}
	if len(rows) != 4 {
		t.Errorf("%d rows, want 4 (1, 2, 4 and 8 workers)", len(rows))
	}
}

// TestReadyInstanceByInstance simulates the 1- and 2-worker readyWhen runs
// and holds each instance's time to ready to kro's: with every object's
// readiness delay the same in both, the simulation must make the instances
// ready in kro's order (rank correlation at least 0.85; with the delays
// drawn for other objects, as another seed draws them, it is 0.02 to 0.29
// with 1 worker and 0.35 to 0.68 with 2) and, with 2 workers, at kro's
// times (half of them within 1 s). With 1 worker the times are logged, not
// judged: there an instance is seen ready at one of kro's 3 s requeues or
// the next, so they turn on the calibration more than on the model (with
// the third sitting's calibration, taken two hours after these runs on the
// same machine, the median instance was 3.3 s off before server.instance_bytes
// and object_bytes, 3.5 s after; with the second's, 0.87 s before and
// 1.17 s after). Drawn in the order the controllers saw the objects, the
// delays fell on other instances than kro's did, and no instance's time
// could be checked.
func TestReadyInstanceByInstance(t *testing.T) {
	for _, w := range []int{1, 2} {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			run := filepath.Join(readyDir, fmt.Sprintf("real-fidelity-ready-w%d-n100-r1", w))
			real, err := result.Read(run)
			if err != nil {
				t.Fatal(err)
			}
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			o := runCmd.flags(fs).(*runOptions)
			if err := fs.Parse([]string{"--target", readyCalibration, "--rgd", "../../testdata/realapi/fidelity-ready.yaml",
				"--crd", "../../testdata/realapi/standins.yaml", "--instances", "100", "--workers", fmt.Sprint(w),
				"--readiness", readyTarget, "--host-probe-from", run}); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			res, err := simulate(&env{stdout: io.Discard, stderr: &stderr, cmd: "run", ctx: context.Background()}, o, nil)
			if err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			simulated := map[string]float64{}
			for _, in := range res.Instances {
				if in.IsReady {
					simulated[in.Name] = (in.Ready - in.Created).Seconds()
				}
			}
			var kro, sim, off []float64
			for _, in := range real.Real.Instances {
				name := in.Name[strings.LastIndex(in.Name, "/")+1:]
				s, ok := simulated[name]
				if !ok || in.Ready == nil {
					t.Fatalf("instance %s is not ready in the simulation or the real run", in.Name)
				}
				k := *in.Ready - in.Created
				kro, sim, off = append(kro, k), append(sim, s), append(off, math.Abs(s-k))
			}
			if len(kro) != 100 {
				t.Fatalf("%d instances in the real run, want 100", len(kro))
			}
			rho := stat.Correlation(ranks(kro), ranks(sim), nil)
			sort.Float64s(off)
			t.Logf("%d workers: rank correlation %.3f, time to ready off by %.2f s at the median, %.2f s at the 90th percentile", w, rho, off[49], off[89])
			if rho < 0.85 {
				t.Errorf("rank correlation %.3f, want at least 0.85", rho)
			}
			if w > 1 && off[49] > 1 {
				t.Errorf("median difference %.2f s, want at most 1 s", off[49])
			}
		})
	}
}

// ranks are the ranks of xs, 0 for the smallest.
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	out := make([]float64, len(xs))
	for r, i := range idx {
		out[i] = float64(r)
	}
	return out
}

// TestCalibrateSitting calibrates the target of every sitting that took its
// own calibration runs (cal-* in its directory, taken just before its rows)
// from them.
func TestCalibrateSitting(t *testing.T) {
	for _, s := range sittings {
		if filepath.Dir(s.target) != s.dir {
			continue // calibrated elsewhere (the first sitting, by calprobe)
		}
		name := filepath.Base(s.dir)
		t.Run(name, func(t *testing.T) {
			tg := calibrateGolden(t, s.dir, name, s.target)
			if tg.Speed == nil || tg.Speed.Elasticity <= 0 {
				t.Errorf("speed %+v: want the probed runs' speed and a fitted elasticity", tg.Speed)
			}
		})
	}
}

// TestSittingsAtTheirHostsSpeed predicts every sitting with its own
// calibration, every row at the speed its run's host had by its probe
// (fidelity-table.md in the sitting's directory), as make fidelity does,
// and at the calibration's own speed (at-calibration-speed.md). Neither
// table may change unless rewritten with -update.
func TestSittingsAtTheirHostsSpeed(t *testing.T) {
	for _, s := range sittings {
		for _, c := range []struct {
			golden  string
			atProbe bool
		}{{"fidelity-table.md", true}, {"at-calibration-speed.md", false}} {
			got := predictRows(t, filepath.Join(s.dir, "real-*-r*"), s.target, c.atProbe, func(int) []string { return nil }, issueBars)
			if golden := filepath.Join(s.dir, c.golden); !matchGolden(t, golden, []byte(got)) {
				t.Errorf("a sitting's predictions changed (go test ./cmd/cli -run Sittings -update rewrites %s):\n%s", golden, got)
			}
		}
	}
}

// shapesDir holds three runs of each row of two shapes the fidelity set
// gained on 2026-12-08, taken on the fourth sitting's machine about four
// hours after it, with the probe: wide.yaml (six independent resources,
// 100 instances) and bare.yaml (the instance alone, 500 instances). The
// fourth sitting's calibration predicts them at their host's speed; the
// table (fidelity-table.md there) must not change unless rewritten with
// -update. bare's counts must be exact at every worker count: its deletion
// ends on a NotFound that kro's queue drops, where the simulation used to
// retry it with a rate limit (a reconcile and a GET more an instance).
const shapesDir = measured + "/shapes"

func TestShapesAtTheirHostsSpeed(t *testing.T) {
	got := predictRows(t, filepath.Join(shapesDir, "real-*-r*"), measured+"/sitting4/harness.yaml", true,
		func(int) []string { return nil }, issueBars)
	if golden := filepath.Join(shapesDir, "fidelity-table.md"); !matchGolden(t, golden, []byte(got)) {
		t.Errorf("the shapes' predictions changed (go test ./cmd/cli -run Shapes -update rewrites %s):\n%s", golden, got)
	}
	bare := 0
	for _, r := range tableRows(t, got) {
		if r.rgd != "`bare.yaml`" {
			continue
		}
		bare++
		if r.counts != "equal" {
			t.Errorf("bare with %s workers: counts %s, want equal", r.workers, r.counts)
		}
	}
	if bare != 4 {
		t.Errorf("%d rows of bare.yaml, want 4 (1, 2, 4 and 8 workers)", bare)
	}
}

// bigDir holds runs of an RGD whose requests' objects are 1.5 KiB on
// average (its applies' 1.9), two and a half times the calibration RGDs'
// (fidelity/bigobjects.yaml; simulated, LISTs aside), taken on
// 2026-12-07 with the probe; the third sitting's calibration predicts them
// at their host's speed. They check latency.VERB.cpu_per_kib, which only
// the objects' sizes exercise.
const bigDir = measured + "/bigobjects"

// TestBigObjectsAtTheirHostsSpeed predicts the big objects' rows: with one
// worker within issue 13's bars, every row in the table (fidelity-table.md
// there) unchanged. Without the objects' sizes in the server's CPU the
// rows with 4 and 8 workers came out 19% and 28% short (testdata/realapi/
// fidelity.md, "Big objects").
func TestBigObjectsAtTheirHostsSpeed(t *testing.T) {
	got := predictAtProbe(t, bigDir, measured+"/sitting3/harness.yaml", "BigObjects")
	if rows := tableRows(t, got); len(rows) != 3 {
		t.Errorf("%d rows, want 3 (1, 4 and 8 workers)", len(rows))
	}
}

// celDir holds runs of an RGD whose CEL is a large part of every reconcile
// (fidelity/celheavy.yaml: nested comprehensions over lists.range(100),
// evaluated in every reconcile that resolves them) and of its control, the
// same RGD at size 1 (cellight.yaml there), taken on 2026-12-07 with the
// probe; the harness's probed calibration (measured/calprobe) predicts them
// at their host's speed.
const celDir = measured + "/celheavy"

// TestCELHeavyAtTheirHostsSpeed predicts the CEL-heavy rows and their
// control: with one worker within issue 13's bars, every row in the table
// (fidelity-table.md there) unchanged. The simulation evaluates the CEL and
// charges its cost (cost.eval_base_ns and eval_unit_ns), so what the heavy
// expressions add to converge with one worker, heavy less light, must come
// out within a factor of two of what they add to kro's. A simulation that
// priced no CEL would add nothing.
func TestCELHeavyAtTheirHostsSpeed(t *testing.T) {
	got := predictAtProbe(t, celDir, measured+"/calprobe/harness-probe.yaml", "CELHeavy")
	one := map[string]tableRow{}
	for _, r := range tableRows(t, got) {
		if r.workers == "1" {
			one[r.rgd] = r
		}
	}
	heavy, light := one["`celheavy.yaml`"], one["`cellight.yaml`"]
	simCEL, kroCEL := heavy.simConverge-light.simConverge, heavy.realConverge-light.realConverge
	if kroCEL <= 0 || simCEL < kroCEL/2 || simCEL > 2*kroCEL {
		t.Errorf("with one worker the heavy CEL adds %.3fs to converge simulated, %.3fs to kro's: want within a factor of two", simCEL, kroCEL)
	}
}

// predictAtProbe predicts the rows of the real runs in dir (real-*-r*) with
// target at their host's speed, the 1-worker rows within issue 13's bars
// (several workers: recorded, not judged), and wants the table byte for
// byte in dir's fidelity-table.md (go test -run name -update rewrites it).
func predictAtProbe(t *testing.T, dir, target, name string) string {
	t.Helper()
	got := predictRows(t, filepath.Join(dir, "real-*-r*"), target, true, func(workers int) []string {
		if workers != 1 {
			return nil
		}
		return issueBars
	}, issueBars)
	if golden := filepath.Join(dir, "fidelity-table.md"); !matchGolden(t, golden, []byte(got)) {
		t.Errorf("the predictions of %s changed (go test ./cmd/cli -run %s -update rewrites %s):\n%s", dir, name, golden, got)
	}
	return got
}

// TestHarnessPredictsCalibrationDeletes simulates the calibration RGDs'
// runs kept in testdata/realapi/measured/caldelete, taken a day after the
// harness's calibration runs and, unlike them, deleting too, with the
// harness target: their delete phases, which the calibration never saw,
// must come out within issue 13's bar (5%) in five of the six rows, and
// within 10% in all. The sixth is the single resource with 8 workers:
// -0.7% until the objects were sized as the server holds them
// (server.instance_bytes and object_bytes), +7.0% since; the same target
// now predicts that row's own calibration runs' create phases within 0.6%
// where it was 16.2% short, and the fidelity rows' deletes within 5% in 35
// of 36 rows where it was 32 (testdata/realapi/fidelity.md). Their
// converge times and counts are recorded, not judged: these runs were taken
// on another day, when the harness ran the same create phases in 15% to 22%
// less time (testdata/realapi/fidelity.md), which the simulation
// overestimates by 2% to 30%, and where a create phase lasts about kro's 3 s
// requeue interval its reconciles differ with its speed.
func TestHarnessPredictsCalibrationDeletes(t *testing.T) {
	dir := filepath.Join(measured, "caldelete")
	got := predictRows(t, filepath.Join(dir, "cal-*-r*"), harnessTarget, false, func(int) []string { return nil },
		issueBars)
	if golden := filepath.Join(dir, "table.md"); !matchGolden(t, golden, []byte(got)) {
		t.Errorf("the predictions of the calibration runs' delete phases changed (go test ./cmd/cli -run Harness -update rewrites %s):\n%s", golden, got)
	}
	rows := tableRows(t, got)
	beyond := 0
	for _, r := range rows {
		if math.Abs(r.delete) > 100*deleteTolerance {
			beyond++
			t.Logf("%s with %s workers: delete %+.1f%% off kro's median, beyond %.0f%%", r.rgd, r.workers, r.delete, 100*deleteTolerance)
		}
		if math.Abs(r.delete) > 200*deleteTolerance {
			t.Errorf("%s with %s workers: delete %+.1f%% off kro's median, beyond %.0f%%", r.rgd, r.workers, r.delete, 200*deleteTolerance)
		}
	}
	if beyond > 1 {
		t.Errorf("%d of %d rows' deletes beyond %.0f%% of kro's median, want at most one", beyond, len(rows), 100*deleteTolerance)
	}
	if len(rows) != 6 {
		t.Errorf("%d rows of calibration runs, want 6 (the chain at 1, 2, 4 and 8 workers, one resource at 1 and 8)", len(rows))
	}
}

// tableRow is one row of compare's markdown table of predictions: the RGD,
// the worker count, whether the counts are equal, the converge seconds
// simulated and kro's median, and the converge and delete errors, in
// percent.
type tableRow struct {
	rgd, workers     string
	counts           string // equal, or **differ**
	simConverge      float64
	realConverge     float64
	converge, delete float64
}

// tableRows reads the rows of a table predictRows made.
func tableRows(t *testing.T, table string) []tableRow {
	t.Helper()
	var rows []tableRow
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) < 12 || !strings.HasPrefix(cells[0], "`") {
			continue
		}
		r := tableRow{rgd: cells[0], workers: cells[2], counts: cells[5]}
		for _, c := range []struct {
			cell string
			into *float64
		}{{cells[6], &r.simConverge}, {cells[7], &r.realConverge}, {cells[8], &r.converge}, {cells[11], &r.delete}} {
			if _, err := fmt.Sscanf(strings.Trim(c.cell, "*"), "%f", c.into); err != nil {
				t.Fatalf("row %q: error %q: %v", line, c.cell, err)
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// predictRows simulates every row of the real runs pattern matches (runs
// named ...-wW-nN-rR or ...-wW-rR: an RGD, a worker count, an instance count)
// with target, at the speed the row's runs' host had by their probe when
// atProbe (--host-probe-from), and returns the markdown table of
// predictions against kro, judged by marked (compare's bars, which mark the
// cells outside them). Where judge gives bars for a row's worker count,
// compare must pass them too.
func predictRows(t *testing.T, pattern, target string, atProbe bool, judge func(workers int) []string, marked []string) string {
	t.Helper()
	dirs, err := filepath.Glob(pattern)
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no real runs match %s (%v)", pattern, err)
	}
	rows := map[string][]string{} // NAME-wW[-nN] -> its runs
	var names []string
	for _, d := range dirs {
		row := d[:strings.LastIndex(d, "-r")]
		if rows[row] == nil {
			names = append(names, row)
		}
		rows[row] = append(rows[row], d)
	}
	sort.Slice(names, func(i, j int) bool { return rowKey(names[i]) < rowKey(names[j]) })
	table := make([]string, len(names))
	t.Run("rows", func(t *testing.T) {
		for i, row := range names {
			runs := rows[row]
			t.Run(filepath.Base(row), func(t *testing.T) {
				t.Parallel()
				res, err := result.Read(runs[0])
				if err != nil {
					t.Fatal(err)
				}
				workers := res.Config.Cluster.Workers
				sim := t.TempDir()
				args := []string{"run", "--target", target, "--crd", "../../testdata/realapi/standins.yaml",
					"--instances", fmt.Sprint(res.Summary.InstancesTotal), "--workers", fmt.Sprint(workers),
					"--delete", "--quiet", "--out", sim}
				for _, f := range res.Config.RGDFiles {
					args = append(args, "--rgd", filepath.Join("../..", f))
				}
				if u := res.Config.Workload.Update; u > 0 { // the runs changed their instances' specs
					args = append(args, "--update", fmt.Sprint(u))
				}
				if res.Real.Standins != nil { // the delays the stand-in controller used
					args = append(args, "--readiness", readyTarget)
				}
				if atProbe {
					for _, d := range runs {
						args = append(args, "--host-probe-from", d)
					}
				}
				var stdout, stderr bytes.Buffer
				if code := Main(args, &stdout, &stderr); code != exitOK {
					t.Fatalf("krosim run: exit %d: %s", code, stderr.String())
				}
				stdout.Reset()
				Main(append(append([]string{"compare", "-o", "markdown", "--rgd-column"}, marked...), append([]string{sim}, runs...)...), &stdout, &stderr)
				table[i] = stdout.String()
				bars := judge(workers)
				if bars == nil {
					return
				}
				stdout.Reset()
				if code := Main(append(append([]string{"compare"}, bars...), append([]string{sim}, runs...)...), &stdout, &stderr); code != exitOK {
					t.Errorf("krosim compare: exit %d:\n%s%s", code, stdout.String(), stderr.String())
				}
			})
		}
	})
	var header bytes.Buffer
	Main([]string{"compare", "-o", "markdown-header", "--rgd-column"}, &header, &header)
	return header.String() + strings.Join(table, "")
}

// rowKey orders rows by RGD, then workers and instances as numbers.
func rowKey(row string) string {
	base := filepath.Base(row) // real-NAME-wW-nN, or cal-NAME-wW
	i := strings.LastIndex(base, "-w")
	var w, n int
	fmt.Sscanf(base[i:], "-w%d-n%d", &w, &n) // no -nN: n stays 0
	return fmt.Sprintf("%s %03d %06d", base[:i], w, n)
}

// readyTarget is the target whose readiness the stand-in controller used in
// the kept real runs of readyWhen RGDs (make fidelity passes it).
const readyTarget = "../../testdata/realapi/ready-target.yaml"

// The fidelity bars of issue 13: converge time within 10% and delete time
// within 5% of the real run.
const (
	convergeTolerance = 0.10
	deleteTolerance   = 0.05
)

// issueBars are those bars as compare's flags.
var issueBars = []string{"--tolerance", fmt.Sprint(convergeTolerance), "--delete-tolerance", fmt.Sprint(deleteTolerance)}

// TestRealRunsAgainstEachOther measures how well real kro predicts itself,
// the floor under any model's error: every kept real run of the fidelity set
// in a row of four or more, against the median of its row's other runs, by
// issue 13's bars. The table (fidelity-noise.md there) must not change
// unless rewritten with -update.
func TestRealRunsAgainstEachOther(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(harnessDir, "real-*-r*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no real runs in %s (%v)", harnessDir, err)
	}
	rows := map[string][][2]float64{} // row -> each run's converge and delete seconds
	for _, d := range dirs {
		res, err := result.Read(d)
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary
		if s.ConvergeSeconds == nil || s.DeleteSeconds == nil {
			t.Fatalf("%s: no converge or delete time", d)
		}
		row := filepath.Base(d[:strings.LastIndex(d, "-r")])
		rows[row] = append(rows[row], [2]float64{*s.ConvergeSeconds, *s.DeleteSeconds})
	}
	names := slices.SortedFunc(maps.Keys(rows), func(a, b string) int { return strings.Compare(rowKey(a), rowKey(b)) })
	var b strings.Builder
	b.WriteString("| row | runs | converge s, min / median / max | converge: runs within 10% of the others' median | delete: runs within 5% |\n|---|---|---|---|---|\n")
	var runs, convIn, delIn int
	var sumErr float64
	for _, row := range names {
		rs := rows[row]
		if len(rs) < 4 {
			continue
		}
		var c, d int
		for i, r := range rs {
			var others [2][]float64
			for j, o := range rs {
				if j != i {
					others[0], others[1] = append(others[0], o[0]), append(others[1], o[1])
				}
			}
			ce, de := r[0]/result.Median(others[0])-1, r[1]/result.Median(others[1])-1
			sumErr += math.Abs(ce)
			if math.Abs(ce) <= convergeTolerance {
				c++
			}
			if math.Abs(de) <= deleteTolerance {
				d++
			}
		}
		conv := make([]float64, len(rs))
		for i, r := range rs {
			conv[i] = r[0]
		}
		fmt.Fprintf(&b, "| %s | %d | %.3f / %.3f / %.3f | %d of %d | %d of %d |\n", strings.TrimPrefix(row, "real-"), len(rs),
			slices.Min(conv), result.Median(conv), slices.Max(conv), c, len(rs), d, len(rs))
		runs, convIn, delIn = runs+len(rs), convIn+c, delIn+d
	}
	if runs == 0 {
		t.Fatal("no row has four real runs")
	}
	fmt.Fprintf(&b, "\nEach run against the median of its row's other runs: converge within 10%% in %d of %d runs, delete within 5%% in %d of %d; mean converge error %.1f%%.\n",
		convIn, runs, delIn, runs, 100*sumErr/float64(runs))
	// How many rows an exact model would miss: one that predicts every
	// row's true median, judged against the median of its row's runs.
	rc, rd := residuals(rows, 0), residuals(rows, 1)
	var missC, missD float64
	for _, row := range names {
		missC += missRate(rc, len(rows[row]), convergeTolerance)
		missD += missRate(rd, len(rows[row]), deleteTolerance)
	}
	spread := func(res []float64) (sd, typical float64) {
		abs := make([]float64, len(res))
		for i, x := range res {
			sd += x * x / float64(len(res))
			abs[i] = math.Abs(x)
		}
		return math.Sqrt(sd), result.Median(abs)
	}
	sc, tc := spread(rc)
	sd, td := spread(rd)
	fmt.Fprintf(&b, "\nOne run's scatter about its row, in log seconds pooled over the %d runs of rows with several: converge standard deviation %.1f%% (median deviation %.1f%%), delete %.1f%% (%.1f%%). "+
		"A model exact for every row, judged against the median of each row's runs (one to four) scattering as these do, would still be outside 10%% on converge in %.1f of these %d rows and outside 5%% on delete in %.1f (a bootstrap of the pooled scatter).\n",
		len(rc), 100*sc, 100*tc, 100*sd, 100*td, missC, len(rows), missD)
	if golden := filepath.Join(harnessDir, "fidelity-noise.md"); !matchGolden(t, golden, []byte(b.String())) {
		t.Errorf("the real runs against each other changed (go test ./cmd/cli -run Harness -update rewrites %s):\n%s", golden, b.String())
	}
}

// TestProbeFollowsTheHarnessCPU holds what the host's speed probe
// (real.host.probe) is for, on runs kept in measured/probe (four rows, six
// runs each, taken one after another on 2026-12-07 on a fresh harness each):
// within a row, the create phase's probe median follows the CPU time the API
// server, etcd and kro spent per request, and the converge time with it.
// The table is measured/probe/table.md.
func TestProbeFollowsTheHarnessCPU(t *testing.T) {
	dir := filepath.Join(measured, "probe")
	dirs, err := filepath.Glob(filepath.Join(dir, "*-r*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no probed runs in %s (%v)", dir, err)
	}
	rows := map[string][][3]float64{} // row -> each run's create probe, CPU per request, converge
	for _, d := range dirs {
		res, err := result.Read(d)
		if err != nil {
			t.Fatal(err)
		}
		if res.Real == nil || len(res.Real.Phases) == 0 || res.Real.Host == nil || res.Real.Host.Probe == nil {
			t.Fatalf("%s: no probe of the host", d)
		}
		p := res.Real.Phases[0]
		var calls int
		for _, c := range p.APICalls {
			calls += c
		}
		cpu := p.CPUSeconds["apiserver"] + p.CPUSeconds["etcd"] + p.CPUSeconds["kro"]
		row := filepath.Base(d[:strings.LastIndex(d, "-r")])
		rows[row] = append(rows[row], [3]float64{p.ProbeMicros, 1000 * cpu / float64(calls), *res.Summary.ConvergeSeconds})
	}
	var b strings.Builder
	b.WriteString("| row | runs | create probe, us: min / max | CPU per request, ms: min / max | converge s: min / max | probe ~ CPU per request | probe ~ converge |\n|---|---|---|---|---|---|---|\n")
	var lx, ly []float64 // log probe and log CPU per request, less their row's means
	for _, row := range slices.Sorted(maps.Keys(rows)) {
		rs := rows[row]
		col := func(k int) []float64 {
			out := make([]float64, len(rs))
			for i, r := range rs {
				out[i] = r[k]
			}
			return out
		}
		probe, cpu, conv := col(0), col(1), col(2)
		rc, rt := stat.Correlation(probe, cpu, nil), stat.Correlation(probe, conv, nil)
		fmt.Fprintf(&b, "| %s | %d | %.0f / %.0f | %.2f / %.2f | %.2f / %.2f | %.2f | %.2f |\n", row, len(rs),
			slices.Min(probe), slices.Max(probe), slices.Min(cpu), slices.Max(cpu), slices.Min(conv), slices.Max(conv), rc, rt)
		if rc < 0.6 {
			t.Errorf("%s: the probe and the CPU per request correlate at %.2f, want at least 0.6", row, rc)
		}
		mx, my := stat.Mean(logs(probe), nil), stat.Mean(logs(cpu), nil)
		for i := range rs {
			lx, ly = append(lx, math.Log(probe[i])-mx), append(ly, math.Log(cpu[i])-my)
		}
	}
	_, slope := stat.LinearRegression(lx, ly, nil, true)
	fmt.Fprintf(&b, "\nWithin rows, the CPU per request grows as the probe's median to the power %.2f (log against log, each row about its mean; correlation %.2f).\n",
		slope, stat.Correlation(lx, ly, nil))
	if golden := filepath.Join(dir, "table.md"); !matchGolden(t, golden, []byte(b.String())) {
		t.Errorf("the probed runs' table changed (go test ./cmd/cli -run Probe -update rewrites %s):\n%s", golden, b.String())
	}
}

func logs(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Log(x)
	}
	return out
}
