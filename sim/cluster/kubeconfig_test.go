package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// otherConfig is a second kubeconfig file, with one context c.
const otherConfig = `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: c
  cluster: {server: "https://c.example:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: c
  context: {cluster: c, user: u}
`

func writeKubeconfig(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKubeconfigResolves(t *testing.T) {
	two := "../../testdata/kubeconfig/two-contexts.yaml" // contexts a (current) and b
	other := writeKubeconfig(t, "other", otherConfig)
	tests := []struct {
		name     string
		env      string // $KUBECONFIG
		k        Kubeconfig
		wantHost string
		wantErr  string
	}{
		{name: "explicit path, current context", env: other, k: Kubeconfig{Path: two}, wantHost: "http://127.0.0.1:1"},
		{name: "explicit path, --context", env: other, k: Kubeconfig{Path: two, Context: "b"}, wantHost: "http://127.0.0.1:2"},
		{name: "$KUBECONFIG", env: two, k: Kubeconfig{}, wantHost: "http://127.0.0.1:1"},
		{name: "$KUBECONFIG, --context", env: two, k: Kubeconfig{Context: "b"}, wantHost: "http://127.0.0.1:2"},
		// $KUBECONFIG lists files to merge, the first to set current-context wins.
		{name: "$KUBECONFIG of two files", env: other + string(os.PathListSeparator) + two, k: Kubeconfig{Context: "b"}, wantHost: "http://127.0.0.1:2"},
		{name: "$KUBECONFIG of two files, current context of the first", env: other + string(os.PathListSeparator) + two, k: Kubeconfig{}, wantHost: "https://c.example:6443"},
		{name: "unknown context", env: two, k: Kubeconfig{Context: "nope"}, wantErr: `context "nope" does not exist`},
		{name: "missing file", env: two, k: Kubeconfig{Path: filepath.Join(t.TempDir(), "none")}, wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tt.env)
			t.Setenv("HOME", t.TempDir()) // no ~/.kube/config of the host's
			rc, err := tt.k.RESTConfig()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rc.Host != tt.wantHost {
				t.Errorf("host %s, want %s", rc.Host, tt.wantHost)
			}
		})
	}
}
