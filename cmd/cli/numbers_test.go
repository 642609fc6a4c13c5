package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadNumberFlags wants every number flag out of range (NaN, Inf, a
// negative, one that exhausts memory or overflows time) and every bad number
// in a target file rejected with exit 2, naming the flag or file:line:col
// and field, before anything runs or is written.
func TestBadNumberFlags(t *testing.T) {
	dir := t.TempDir()
	base, err := os.ReadFile("../../sim/target/builtin/kro-defaults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	nanTarget := filepath.Join(dir, "nan.yaml")
	if err := os.WriteFile(nanTarget, bytes.Replace(base, []byte("  qps: 0\n"), []byte("  qps: .nan\n"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	workersTarget := filepath.Join(dir, "workers.yaml")
	if err := os.WriteFile(workersTarget, bytes.Replace(base, []byte("  workers: 1\n"), []byte("  workers: 100000000\n"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"NaN qps", []string{"--qps", "NaN"}, "--qps must be a number in [0, 1e+06], got NaN"},
		{"Inf qps", []string{"--qps", "+Inf"}, "--qps must be a number in [0, 1e+06], got +Inf"},
		{"negative qps", []string{"--qps", "-1"}, "--qps must be a number in [0, 1e+06], got -1"},
		{"NaN rate", []string{"--arrival", "rate", "--rate", "NaN"}, "--rate must be a number in [0, 1e+06], got NaN"},
		{"tiny rate", []string{"--arrival", "rate", "--rate", "1e-12"}, "workload: rate 1e-12 is too low for 100 instances"},
		{"NaN update", []string{"--update", "NaN"}, "--update must be a number in [0, 1], got NaN"},
		{"update over 1", []string{"--update", "1.5"}, "--update must be a number in [0, 1], got 1.5"},
		{"max int instances", []string{"--instances", "9223372036854775807"}, "--instances must be in [1, 1000000], got 9223372036854775807"},
		{"a billion instances", []string{"--instances", "1000000000"}, "--instances must be in [1, 1000000], got 1000000000"},
		{"zero instances", []string{"--instances", "0"}, "--instances must be in [1, 1000000], got 0"},
		{"a hundred million workers", []string{"--workers", "100000000"}, "--workers must be in [0, 10000], got 100000000"},
		{"negative cpus", []string{"--cpus", "-2"}, "--cpus must be in [0, 10000], got -2"},
		{"huge burst", []string{"--qps", "10", "--burst", "1000000000"}, "--burst must be in [0, 1000000], got 1000000000"},
		{"zero wall limit", []string{"--wall-limit", "0"}, "--wall-limit must be positive, got 0s"},
		{"negative max time", []string{"--max-time", "-1s"}, "--max-time must be positive, got -1s"},
		{"NaN in a target", []string{"--target", nanTarget}, nanTarget + ":19:8: client.qps must be a finite number, at least 0, got NaN"},
		{"workers in a target", []string{"--target", workersTarget}, workersTarget + ":10:12: controller.workers must be in [1, 10000], got 100000000"},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"run", "profile"} {
			t.Run(cmd+"/"+tt.name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out")
				args := append([]string{cmd, "--rgd", "../../testdata/rgd/webapp.yaml", "--out", out}, tt.args...)
				var stdout, stderr bytes.Buffer
				done := make(chan int, 1)
				go func() { done <- Main(args, &stdout, &stderr) }()
				var code int
				select {
				case code = <-done:
				case <-time.After(60 * time.Second):
					t.Fatalf("krosim %s ran for over 60s", strings.Join(args, " "))
				}
				if code != exitUsage {
					t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
				}
				if !strings.Contains(stderr.String(), tt.want) {
					t.Errorf("stderr does not say %q:\n%s", tt.want, stderr.String())
				}
				if stdout.Len() > 0 {
					t.Errorf("stdout:\n%s", stdout.String())
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("%s was written", out)
				}
			})
		}
	}
}

// TestSweepSeedsBound wants --seeds bounded before a slice of that many seeds is built.
func TestSweepSeedsBound(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main([]string{"sweep", "--rgd", "../../testdata/rgd/chain.yaml", "--seeds", "1000000000"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "--seeds must be at least 1 and at most 10000, got 1000000000") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// TestBadNumberFlagsRealServer wants the flags of runs against a real server
// checked before any connection: a kubeconfig that does not exist is never
// reached.
func TestBadNumberFlagsRealServer(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--kubeconfig", "/nonexistent", "--rgd", "../../testdata/rgd/webapp.yaml", "--parallel", "100000000"}, "--parallel must be in [1, 1000], got 100000000"},
		{[]string{"run", "--kubeconfig", "/nonexistent", "--rgd", "../../testdata/rgd/webapp.yaml", "--qps", "NaN"}, "--qps must be a number in [0, 1e+06], got NaN"},
		{[]string{"run", "--kubeconfig", "/nonexistent", "--rgd", "../../testdata/rgd/webapp.yaml", "--timeout", "0"}, "--timeout must be positive, got 0s"},
		{[]string{"calibrate", "--kubeconfig", "/nonexistent", "--objects", "1000000000"}, "--objects must be in [1, 100000], got 1000000000"},
		{[]string{"calibrate", "--kubeconfig", "/nonexistent", "--concurrency", "1,100000"}, "--concurrency values must be at least 1 and at most 1000, got 100000"},
		{[]string{"calibrate", "--server-cpus", "100000000"}, "--server-cpus must be in [-1, 10000], got 100000000"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(tt.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("krosim %s: exit %d, stderr:\n%s\nwant exit 2 and %q", strings.Join(tt.args, " "), code, stderr.String(), tt.want)
		}
	}
}
