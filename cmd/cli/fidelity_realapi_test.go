//go:build realapi

package cli

import (
	"bufio"
	"bytes"
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
// fidelity does (the server one request at a time, then runs of the
// calibration RGDs, testdata/realapi/calibration, for kro's and the
// server's CPU), then runs 100 instances of testdata/realapi/fidelity/fanin.yaml
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
	dir := t.TempDir()
	if out := os.Getenv("KROSIM_FIDELITY_OUT"); out != "" {
		dir = out // keep the evidence
	}
	const (
		root  = "../../testdata/realapi/"
		crd   = root + "standins.yaml"
		rgd   = root + "fidelity/fanin.yaml"
		cpus  = "--server-cpus"
		count = "100"
	)
	pids := filepath.Join(state, "pids")
	// real restarts the harness and runs the workload on it.
	real := func(out, rgd string, more ...string) {
		restartHarness(t)
		env := readEnvFile(t, filepath.Join(state, "env"))
		if env["KUBECONFIG"] == "" || env["KROSIM_KRO_METRICS_URL"] == "" {
			t.Fatalf("%s/env lacks KUBECONFIG or KROSIM_KRO_METRICS_URL: is the harness from .ci/realapi/up.sh running?", state)
		}
		krosim(t, append([]string{"run", "--kubeconfig", env["KUBECONFIG"], "--kro-metrics", env["KROSIM_KRO_METRICS_URL"],
			"--pid-dir", pids, "--rgd", rgd, "--crd", crd, "--instances", count, "--quiet", "--out", filepath.Join(dir, out)}, more...)...)
	}
	restartHarness(t)
	env := readEnvFile(t, filepath.Join(state, "env"))
	krosim(t, "calibrate", "--kubeconfig", env["KUBECONFIG"], "--pid-dir", pids, cpus, strconv.Itoa(runtime.NumCPU()),
		"--name", "ci-micro", "--out", filepath.Join(dir, "micro.yaml"))
	real("cal-one", root+"calibration/one.yaml")
	real("cal-chain", root+"calibration/chain.yaml")
	krosim(t, "calibrate", "--target", filepath.Join(dir, "micro.yaml"), "--cpu-from", filepath.Join(dir, "cal-chain"),
		"--cpu-from", filepath.Join(dir, "cal-one"), "--allow-busy", "--name", "ci-harness", "--out", filepath.Join(dir, "harness.yaml"))
	real("real", rgd, "--delete")
	krosim(t, "run", "--target", filepath.Join(dir, "harness.yaml"), "--rgd", rgd, "--crd", crd, "--instances", count, "--delete",
		"--out", filepath.Join(dir, "sim"), "--quiet")
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

// evidenceDir is where a real test writes its runs: $KROSIM_FIDELITY_OUT
// to keep them, else a temporary directory.
func evidenceDir(t *testing.T) string {
	if out := os.Getenv("KROSIM_FIDELITY_OUT"); out != "" {
		return out
	}
	return t.TempDir()
}

// restartHarness stops the real control plane and starts it afresh, its
// state wiped, with .ci/realapi's own scripts.
func restartHarness(t *testing.T) {
	t.Helper()
	for _, script := range []string{"down.sh", "up.sh"} {
		out, err := exec.Command(filepath.Join("..", "..", ".ci", "realapi", script)).CombinedOutput()
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
