package cluster

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubeconfigFor writes a kubeconfig of server without credentials.
func kubeconfigFor(t *testing.T, server string) string {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	data := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: '%s'}}]\n"+
		"contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {}}]\n", server)
	if err := os.WriteFile(kc, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

func TestPingNamesTheEndpointThatDoesNotAnswer(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/version" {
			fmt.Fprint(w, "ok")
			return
		}
		http.NotFound(w, r)
	}))
	defer api.Close()
	kro := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 4.2e+07\n")
	}))
	defer kro.Close()
	ctx := context.Background()
	if err := Ping(ctx, Kubeconfig{Path: kubeconfigFor(t, api.URL)}, kro.URL+"/metrics"); err != nil {
		t.Errorf("both answer: %v", err)
	}
	if err := Ping(ctx, Kubeconfig{Path: kubeconfigFor(t, "http://127.0.0.1:1")}, kro.URL+"/metrics"); err == nil || !strings.Contains(err.Error(), "API server") {
		t.Errorf("API server down: %v", err)
	}
	if err := Ping(ctx, Kubeconfig{Path: kubeconfigFor(t, api.URL)}, api.URL+"/nothing"); err == nil || !strings.Contains(err.Error(), "kro's /metrics") || !strings.Contains(err.Error(), "404") {
		t.Errorf("kro's /metrics missing: %v", err)
	}
	if err := Ping(ctx, Kubeconfig{Path: filepath.Join(t.TempDir(), "none")}, kro.URL); err == nil || !strings.Contains(err.Error(), "kubeconfig") {
		t.Errorf("no kubeconfig: %v", err)
	}
}
