package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// PingTimeout bounds each of Ping's requests.
const PingTimeout = 10 * time.Second

// Ping checks, before any work, that both endpoints a real run reads answer:
// the API server of kubeconfig (its /version: the harness's apiextensions
// server never reports /readyz ok, its informer-sync check waits on kinds it
// does not serve) and kro's /metrics at
// kroMetrics. Its error names the endpoint that did not answer and why.
func Ping(ctx context.Context, kubeconfig Kubeconfig, kroMetrics string) error {
	rc, err := restConfig(kubeconfig)
	if err != nil {
		return err
	}
	client, err := rest.HTTPClientFor(rc)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	server := strings.TrimSuffix(rc.Host, "/")
	if err := get(ctx, client, server+"/version"); err != nil {
		return fmt.Errorf("the API server of kubeconfig %s does not answer: %w", kubeconfig, err)
	}
	pctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if _, err := fetchMetrics(pctx, http.DefaultClient, kroMetrics); err != nil {
		return fmt.Errorf("kro's /metrics does not answer: %w", err)
	}
	return nil
}

// get is one GET that must answer 200 within PingTimeout.
func get(ctx context.Context, client *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return nil
}
