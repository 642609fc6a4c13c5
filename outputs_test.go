package krosim_test

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/krosim/krosim/cmd/cli"
)

var updateOutputs = flag.Bool("update", false, "rewrite testdata/golden/outputs.sha256")

// outputCases are command lines whose every output (files written into
// $OUT, except host.* files, and standard output) must stay byte for byte
// the same: the README's examples and a spread of RGDs, targets, workloads
// and phases. A change to the simulation's results shows up here first;
// rewrite the sums with -update only when the change is meant.
var outputCases = []struct{ name, args string }{
	{"make-profile", "profile --rgd testdata/rgd/webapp.yaml --instances 300 --target kro-defaults --out $OUT"},
	{"chain-update-delete", "run --rgd testdata/rgd/chain.yaml --instances 120 --update 0.5 --delete --out $OUT"},
	{"multi-poisson-report", "run --rgd testdata/rgd/multi.yaml --instances 60 --arrival poisson --rate 20 --delete --target report-8vcpu --out $OUT"},
	{"collection", "run --rgd testdata/rgd/collection.yaml --instances 40 --delete --out $OUT"},
	{"externalref", "run --rgd testdata/rgd/externalref.yaml --instances 40 --delete --out $OUT"},
	{"platform", "profile --rgd testdata/rgd/platform.yaml --instances 30 --update 1 --delete --out $OUT"},
	{"app-with-db-qps", "run --rgd testdata/rgd/app-with-db.yaml --instances 50 --qps 20 --burst 10 --workers 2 --cpus 1 --out $OUT"},
	{"functions", "run --rgd testdata/rgd/functions.yaml --instances 30 --out $OUT"},
	{"fidelity-w4", "run --rgd testdata/realapi/fidelity-rgd.yaml --instances 200 --workers 4 --delete --target testdata/realapi/measured/target-w4.yaml --out $OUT"},
	{"layered-rate", "run --rgd testdata/sim/layered10.yaml --instances 80 --arrival rate --rate 40 --seed 7 --out $OUT"},
	{"sweep-readme", "sweep --rgd testdata/rgd/chain.yaml --instances 200 --vary qps=20,100,500,1000,none --vary workers=1,4 --out $OUT --quiet"},
	{"sweep-study", "sweep --study testdata/study/qps.yaml --out $OUT --quiet"},
	{"validate", "validate -o json testdata/rgd/webapp.yaml testdata/rgd/chain.yaml testdata/rgd/multi.yaml testdata/rgd/collection.yaml testdata/rgd/externalref.yaml testdata/rgd/platform.yaml testdata/rgd/functions.yaml testdata/rgd/app-with-db.yaml"},
	{"gen", "gen --shape layered --nodes 20 --edges 30 --complexity complex --seed 4"},
	{"compare", "run --rgd testdata/realapi/fidelity-rgd.yaml --instances 200 --workers 1 --delete --target testdata/realapi/measured/target-w1.yaml --out $OUT/sim ; compare $OUT/sim testdata/realapi/measured/w1-n200-r1 testdata/realapi/measured/w1-n200-r2 testdata/realapi/measured/w1-n200-r3"},
	{"calibrate-from", "calibrate --target testdata/realapi/measured/target-micro.yaml --from testdata/realapi/measured/calibration-w4 --from testdata/realapi/measured/calibration-w4-n500 --rgd testdata/realapi/fidelity-rgd.yaml --out $OUT/target.yaml"},
}

// TestOutputsUnchanged runs every case in-process and compares the SHA-256
// of each output with testdata/golden/outputs.sha256.
func TestOutputsUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the README's examples; -short skips it")
	}
	golden := filepath.Join("testdata", "golden", "outputs.sha256")
	var got []string
	for _, c := range outputCases {
		got = append(got, outputSums(t, c.name, c.args)...)
	}
	slices.Sort(got)
	text := strings.Join(got, "\n") + "\n"
	if *updateOutputs {
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if text != string(want) {
		wantLines := strings.Split(string(want), "\n")
		for _, l := range strings.Split(text, "\n") {
			if !slices.Contains(wantLines, l) {
				t.Errorf("changed or new: %s", l)
			}
		}
		for _, l := range wantLines {
			if !strings.Contains(text, l) {
				t.Errorf("changed or gone: %s", l)
			}
		}
	}
}

// TestOutputsSameAcrossGOMAXPROCS runs the cases whose work spreads over
// goroutines (a sweep's points, profile's rendering) and a plain run with 1
// and with 8 Ps: every output must match the golden sums, which the test
// above takes with the machine's own count.
func TestOutputsSameAcrossGOMAXPROCS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs krosim several times; -short skips it")
	}
	want, err := os.ReadFile(filepath.Join("testdata", "golden", "outputs.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, procs := range []int{1, 8} {
		old := runtime.GOMAXPROCS(procs)
		for _, c := range outputCases {
			if c.name != "make-profile" && c.name != "chain-update-delete" && c.name != "sweep-readme" {
				continue
			}
			for _, l := range outputSums(t, c.name, c.args) {
				if !strings.Contains(string(want), l+"\n") {
					t.Errorf("GOMAXPROCS=%d: changed: %s", procs, l)
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

// outputSums runs one case's command lines in-process and returns the
// SHA-256 of its standard output and of every file it wrote but host.* ones.
func outputSums(t *testing.T, name, args string) []string {
	t.Helper()
	var got []string
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	for _, line := range strings.Split(strings.ReplaceAll(args, "$OUT", out), ";") {
		// compare exits 1 when a timing is off; its output is what counts.
		if code := cli.Main(strings.Fields(line), &stdout, &stderr); code != 0 && name != "compare" {
			t.Fatalf("%s: krosim %s: exit %d\n%s", name, line, code, stderr.String())
		}
	}
	// profile's host section measures this machine, not the target.
	text, _, _ := bytes.Cut(stdout.Bytes(), []byte("\nHost: "))
	got = append(got, sum(name+" stdout", bytes.ReplaceAll(text, []byte(out), []byte("$OUT"))))
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "host.") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		got = append(got, sum(name+" "+filepath.ToSlash(rel), data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sum(name string, data []byte) string {
	return fmt.Sprintf("%x  %s", sha256.Sum256(data), name)
}
