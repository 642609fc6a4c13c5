//go:build realapi

package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestRealFidelity holds krosim to real kro (testdata/realapi/fidelity.md)
// on an RGD the target never saw: it calibrates the harness as make
// fidelity does (the server one request at a time, then one run of each
// calibration RGD, testdata/realapi/calibration, with 1 worker and with 8,
// for kro's and the server's CPU, its waking and the watch cache's waits),
// then runs 100 instances of testdata/realapi/fidelity/fanin.yaml
// with kro v0.9.4 and one worker, created then deleted, against the
// simulation of the same workload with that target. Reconciles and API calls
// by verb and resource must be exactly equal, converge and delete times
// within 25% (one run on a CI machine; make fidelity's bars are 10% and 5%
// against quiet runs). The harness restarts before every run, so each
// meets a fresh server.
//
// It needs the harness running and fails, never skips, without it:
//
//	.ci/realapi/build.sh && .ci/realapi/up.sh
//	go test -tags realapi -run TestRealFidelity -timeout 60m ./cmd/cli
func TestRealFidelity(t *testing.T) {
	state := os.Getenv("KROSIM_REALAPI_DIR")
	if state == "" {
		state = "/tmp/krosim-realapi"
	}
	dir := evidenceDir(t)
	const (
		root  = "../../testdata/realapi/"
		crd   = root + "standins.yaml"
		rgd   = root + "fidelity/fanin.yaml"
		cpus  = "--server-cpus"
		count = "100"
	)
	pids := filepath.Join(state, "pids")
	// real restarts the harness with kro running workers workers and runs
	// the workload on it.
	real := func(out, rgd string, workers int, more ...string) {
		restartHarnessWith(t, workers)
		env := readEnvFile(t, filepath.Join(state, "env"))
		if env["KUBECONFIG"] == "" || env["KROSIM_KRO_METRICS_URL"] == "" {
			t.Fatalf("%s/env lacks KUBECONFIG or KROSIM_KRO_METRICS_URL: is the harness from .ci/realapi/up.sh running?", state)
		}
		krosim(t, append([]string{"run", "--kubeconfig", env["KUBECONFIG"], "--kro-metrics", env["KROSIM_KRO_METRICS_URL"],
			"--pid-dir", pids, "--rgd", rgd, "--crd", crd, "--instances", count, "--workers", strconv.Itoa(workers),
			"--quiet", "--out", filepath.Join(dir, out)}, more...)...)
	}
	restartHarness(t)
	env := readEnvFile(t, filepath.Join(state, "env"))
	krosim(t, "calibrate", "--kubeconfig", env["KUBECONFIG"], "--pid-dir", pids, cpus, strconv.Itoa(runtime.NumCPU()),
		"--name", "ci-micro", "--out", filepath.Join(dir, "micro.yaml"))
	// As make fidelity calibrates, if with one run of each: both calibration
	// RGDs with 1 worker and with 8, so the fit can tell the CPU that falls
	// with concurrency (server.wakeup_cpu) from the CPU per request.
	cal := []string{"calibrate", "--target", filepath.Join(dir, "micro.yaml")}
	for _, c := range []struct {
		name    string
		workers int
	}{{"one", 1}, {"chain", 1}, {"one", 8}, {"chain", 8}} {
		out := fmt.Sprintf("cal-%s-w%d", c.name, c.workers)
		real(out, root+"calibration/"+c.name+".yaml", c.workers)
		cal = append(cal, "--cpu-from", filepath.Join(dir, out))
	}
	// One run of each cannot say how their CPU follows the host's speed
	// probe, so the harness's measured power is given (for the probe read
	// in the phases' quiet ends, which calibrate uses: measured/sitting2's
	// 0.444): the target holds at the calibration runs' speed, and predicts
	// the real run at its own. A single run's luck with the host is then
	// the probe's to say.
	krosim(t, append(cal, "--allow-busy", "--speed-elasticity", "0.44", "--name", "ci-harness", "--out", filepath.Join(dir, "harness.yaml"))...)
	real("real", rgd, 1, "--delete")
	krosim(t, "run", "--target", filepath.Join(dir, "harness.yaml"), "--rgd", rgd, "--crd", crd, "--instances", count, "--delete",
		"--out", filepath.Join(dir, "sim"), "--quiet", "--host-probe-from", filepath.Join(dir, "real"))
	var stdout, stderr bytes.Buffer
	// A CI machine's load is its own: the run's is recorded and shown, not refused.
	code := Main([]string{"compare", "--tolerance", "0.25", "--allow-busy", filepath.Join(dir, "sim"), filepath.Join(dir, "real")}, &stdout, &stderr)
	t.Logf("krosim compare:\n%s%s", stdout.String(), stderr.String())
	if code != exitOK {
		t.Fatalf("the simulation does not match real kro (exit %d): see the comparison above", code)
	}
}

// harness is the kubeconfig and kro's metrics URL of the running real-API
// harness (its state in $KROSIM_REALAPI_DIR, default /tmp/krosim-realapi).
func harness(t *testing.T) (kubeconfig, metrics string) {
	t.Helper()
	state := os.Getenv("KROSIM_REALAPI_DIR")
	if state == "" {
		state = "/tmp/krosim-realapi"
	}
	env := readEnvFile(t, filepath.Join(state, "env"))
	kubeconfig, metrics = env["KUBECONFIG"], env["KROSIM_KRO_METRICS_URL"]
	if kubeconfig == "" || metrics == "" {
		t.Fatalf("%s/env lacks KUBECONFIG or KROSIM_KRO_METRICS_URL: is the harness from .ci/realapi/up.sh running?", state)
	}
	return kubeconfig, metrics
}

// evidenceDir is where a real test writes its runs: $KROSIM_FIDELITY_OUT,
// made if missing, to keep them, else a temporary directory.
func evidenceDir(t *testing.T) string {
	if out := os.Getenv("KROSIM_FIDELITY_OUT"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return t.TempDir()
}

// restartHarness stops the real control plane and starts it afresh, its
// state wiped, with .ci/realapi's own scripts.
func restartHarness(t *testing.T) { restartHarnessWith(t, 0) }

// restartHarnessWith is restartHarness with kro running workers instance
// workers (--dynamic-controller-concurrent-reconciles); 0 leaves kro's default.
func restartHarnessWith(t *testing.T, workers int) {
	t.Helper()
	for _, script := range []string{"down.sh", "up.sh"} {
		cmd := exec.Command(filepath.Join("..", "..", ".ci", "realapi", script))
		if workers > 0 {
			cmd.Env = append(os.Environ(), fmt.Sprintf("KROSIM_KRO_FLAGS=--dynamic-controller-concurrent-reconciles=%d", workers))
		}
		out, err := cmd.CombinedOutput()
		t.Logf(".ci/realapi/%s:\n%s", script, out)
		if err != nil {
			t.Fatalf(".ci/realapi/%s: %v", script, err)
		}
	}
}

// krosim runs the CLI in-process and fails the test on a non-zero exit.
func krosim(t *testing.T, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Main(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("krosim %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	t.Logf("krosim %s\n%s", strings.Join(args, " "), stdout.String())
}

// readEnvFile reads the "export NAME=value" lines up.sh writes.
func readEnvFile(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("the real API harness is not running (%v): start it with .ci/realapi/build.sh and .ci/realapi/up.sh", err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	return env
}
