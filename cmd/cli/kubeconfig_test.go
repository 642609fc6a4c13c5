package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// twoContexts is a kubeconfig of two contexts, a and b, whose servers
// (127.0.0.1:1 and :2) refuse every connection at once.
var twoContexts = filepath.Join("..", "..", "testdata", "kubeconfig", "two-contexts.yaml")

func TestClusterFlags(t *testing.T) {
	path := twoContexts
	t.Setenv("KUBECONFIG", path)
	t.Setenv("HOME", t.TempDir())
	tests := []struct {
		args []string
		real bool
		host string
	}{
		{args: nil, real: false},
		{args: []string{"--real"}, real: true, host: "http://127.0.0.1:1"},
		{args: []string{"--context", "b"}, real: true, host: "http://127.0.0.1:2"},
		{args: []string{"--real", "--context=b"}, real: true, host: "http://127.0.0.1:2"},
		{args: []string{"--kubeconfig", path}, real: true, host: "http://127.0.0.1:1"},
		{args: []string{"--kubeconfig", path, "--context", "b"}, real: true, host: "http://127.0.0.1:2"},
	}
	for _, tt := range tests {
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		c := declareClusterFlags(fs, "kubeconfig")
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if c.requested() != tt.real {
			t.Errorf("%v: real cluster requested %v, want %v", tt.args, c.requested(), tt.real)
		}
		if !tt.real {
			continue
		}
		rc, err := c.access().RESTConfig()
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if rc.Host != tt.host {
			t.Errorf("%v: host %s, want %s", tt.args, rc.Host, tt.host)
		}
	}
}

// TestKubeconfigAloneSimulates checks that $KUBECONFIG in the environment
// does not turn a plain run into a real one, and that --real and --context
// use it.
func TestKubeconfigAloneSimulates(t *testing.T) {
	t.Setenv("KUBECONFIG", twoContexts)
	t.Setenv("HOME", t.TempDir())
	rgd := filepath.Join("..", "..", "testdata", "rgd", "chain.yaml")
	code, stdout, stderr := run("run", "--rgd", rgd, "--instances", "2")
	if code != exitOK || !strings.Contains(stdout, "on kro-defaults") {
		t.Errorf("plain run with $KUBECONFIG set: exit %d, not a simulation:\n%s%s", code, stdout, stderr)
	}
	for _, tt := range []struct {
		args []string
		host string
	}{
		{[]string{"--real"}, "127.0.0.1:1"},
		{[]string{"--context", "b"}, "127.0.0.1:2"},
	} {
		code, stdout, stderr := run(append([]string{"run", "--rgd", rgd, "--instances", "2", "--quiet"}, tt.args...)...)
		if code != exitRun || stdout != "" || !strings.Contains(stderr, tt.host) {
			t.Errorf("run %v: exit %d, want %d and an error naming %s:\n%s%s", tt.args, code, exitRun, tt.host, stdout, stderr)
		}
	}
}
