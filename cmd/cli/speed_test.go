package cli

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
)

// TestRunAtTheHostsSpeed: a target that knows the speed its costs hold at
// (speed.probe_us) predicts a slower host when the host's probe reads
// longer, from a number or from real runs' probes, and a target that does
// not know it refuses.
func TestRunAtTheHostsSpeed(t *testing.T) {
	tg, err := target.Lookup(harnessTarget)
	if err != nil {
		t.Fatal(err)
	}
	tg = tg.Clone()
	tg.Speed = &target.Speed{ProbeUS: 2000, Elasticity: 0.73}
	data, err := tg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tg.Speed.Idle = true // read in the phases' quiet ends, which runs before them lack
	if data, err = tg.YAML(); err != nil {
		t.Fatal(err)
	}
	idle := filepath.Join(dir, "idle.yaml")
	if err := os.WriteFile(idle, data, 0o644); err != nil {
		t.Fatal(err)
	}
	converge := func(extra ...string) float64 {
		t.Helper()
		out := t.TempDir()
		args := append([]string{"run", "--target", file, "--rgd", "../../testdata/realapi/fidelity/fanout.yaml", "--crd", "../../testdata/realapi/standins.yaml",
			"--instances", "50", "--workers", "4", "--quiet", "--out", out}, extra...)
		if code, msg := cli(args...); code != exitOK {
			t.Fatalf("krosim %s: exit %d: %s", strings.Join(args, " "), code, msg)
		}
		res, err := result.Read(out)
		if err != nil {
			t.Fatal(err)
		}
		return *res.Summary.ConvergeSeconds
	}
	at, fast, slow := converge(), converge("--host-probe", "2000"), converge("--host-probe", "3000")
	if at != fast {
		t.Errorf("at the target's own speed: converge %.3fs, want %.3fs as without --host-probe", fast, at)
	}
	if slow < 1.15*fast {
		t.Errorf("on a host 1.5 times as slow by its probe: converge %.3fs against %.3fs, want at least 15%% more", slow, fast)
	}
	// A probed real run's host: its probe's median in the create phase, 2687us.
	run := filepath.Join(measured, "probe", "foreach-w4-r1")
	if got, want := converge("--host-probe-from", run), converge("--host-probe", "2687"); got != want {
		t.Errorf("--host-probe-from %s: converge %.3fs, want %.3fs as at --host-probe 2687", run, got, want)
	}
	for _, bad := range [][]string{
		{"--host-probe", "-3"},
		{"--host-probe-from", filepath.Join(harnessDir, "real-fanout-w4-n100-r1")}, // from before the probe
		{"--host-probe", "2000", "--host-probe-from", run},
		{"--target", idle, "--host-probe-from", run},        // no quiet-end probe
		{"--target", harnessTarget, "--host-probe", "2000"}, // no speed
	} {
		args := append([]string{"run", "--target", file, "--rgd", "../../testdata/realapi/fidelity/fanout.yaml", "--crd", "../../testdata/realapi/standins.yaml",
			"--instances", "5", "--quiet", "--out", t.TempDir()}, bad...)
		if code, msg := cli(args...); code != exitUsage || !strings.Contains(msg, "--host-probe") {
			t.Errorf("krosim run %s: exit %d (%s), want a usage error naming the flag", strings.Join(bad, " "), code, strings.TrimSpace(msg))
		}
	}
}

// TestProbedRunsAtTheirHostsSpeed predicts the probed fidelity rows
// (measured/probe, taken the same morning as the calibration runs in
// measured/calprobe) with the target calibrated from those runs, at the
// target's own speed and at the speed the runs' host had by their probe:
// each row's median, and each run alone. The table is
// measured/probe/predicted.md. Predicted at its host's speed, a single run is
// closer than at the calibration's: the probe explains part of the scatter
// between runs.
func TestProbedRunsAtTheirHostsSpeed(t *testing.T) {
	tgt := filepath.Join(measured, "calprobe", "harness-probe.yaml")
	dirs, err := filepath.Glob(filepath.Join(measured, "probe", "*-r*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no probed runs (%v)", err)
	}
	rows := map[string][]string{}
	for _, d := range dirs {
		row := filepath.Base(d[:strings.LastIndex(d, "-r")])
		rows[row] = append(rows[row], d)
	}
	simulate := func(res *result.Result, extra ...string) [2]float64 {
		out := t.TempDir()
		args := append([]string{"run", "--target", tgt, "--crd", "../../testdata/realapi/standins.yaml", "--rgd", filepath.Join("../..", res.Config.RGDFiles[0]),
			"--instances", fmt.Sprint(res.Summary.InstancesTotal), "--workers", fmt.Sprint(res.Config.Cluster.Workers), "--delete", "--quiet", "--out", out}, extra...)
		if code, msg := cli(args...); code != exitOK {
			t.Fatalf("krosim %s: exit %d: %s", strings.Join(args, " "), code, msg)
		}
		sim, err := result.Read(out)
		if err != nil {
			t.Fatal(err)
		}
		return [2]float64{*sim.Summary.ConvergeSeconds, *sim.Summary.DeleteSeconds}
	}
	pct := func(sim, real float64) string { return fmt.Sprintf("%+.1f%%", 100*(sim/real-1)) }
	var b strings.Builder
	b.WriteString("| row | runs | real converge / delete s (medians) | at the target's speed | at the runs' probe (us) | each run at the target's speed: mean converge error | each run at its own probe |\n|---|---|---|---|---|---|---|\n")
	var sumAt, sumOwn float64
	var n int
	for _, row := range slices.Sorted(maps.Keys(rows)) {
		var conv, del []float64
		var flags []string
		var runs []*result.Result
		for _, d := range rows[row] {
			res, err := result.Read(d)
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, res)
			conv, del = append(conv, *res.Summary.ConvergeSeconds), append(del, *res.Summary.DeleteSeconds)
			flags = append(flags, "--host-probe-from", d)
		}
		at, own := simulate(runs[0]), simulate(runs[0], flags...)
		probe, err := probeOf(rows[row], false)
		if err != nil {
			t.Fatal(err)
		}
		var errAt, errOwn float64
		for i, res := range runs {
			one := simulate(res, "--host-probe", fmt.Sprint(res.Real.Phases[0].ProbeMicros))
			errAt += math.Abs(at[0]/conv[i]-1) / float64(len(runs))
			errOwn += math.Abs(one[0]/conv[i]-1) / float64(len(runs))
		}
		cm, dm := result.Median(conv), result.Median(del)
		fmt.Fprintf(&b, "| %s | %d | %.2f / %.2f | %s / %s | %s / %s (%.0f) | %.1f%% | %.1f%% |\n", row, len(runs), cm, dm,
			pct(at[0], cm), pct(at[1], dm), pct(own[0], cm), pct(own[1], dm), probe, 100*errAt, 100*errOwn)
		sumAt, sumOwn, n = sumAt+errAt*float64(len(runs)), sumOwn+errOwn*float64(len(runs)), n+len(runs)
	}
	fmt.Fprintf(&b, "\nEach run against its own prediction, mean converge error: %.1f%% at the target's speed, %.1f%% at the speed its probe read.\n", 100*sumAt/float64(n), 100*sumOwn/float64(n))
	if golden := filepath.Join(measured, "probe", "predicted.md"); !matchGolden(t, golden, []byte(b.String())) {
		t.Errorf("the probed rows' predictions changed (go test ./cmd/cli -run Probed -update rewrites %s):\n%s", golden, b.String())
	}
	if sumOwn >= sumAt {
		t.Errorf("runs predicted at their host's speed are no closer (mean converge error %.1f%%) than at the target's (%.1f%%)", 100*sumOwn/float64(n), 100*sumAt/float64(n))
	}
}
