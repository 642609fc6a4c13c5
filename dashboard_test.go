package krosim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/cmd/cli"
	"github.com/krosim/krosim/sim"
)

// scrapedRun runs a simulation with a client rate limiter (so every panel
// has data) and returns its output directory.
func scrapedRun(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := strings.Fields("run --rgd testdata/rgd/webapp.yaml --instances 60 --qps 50 --quiet --out " + out)
	if code := cli.Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("krosim %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return out
}

// promtool finds promtool (Debian's prometheus package); without it the
// test fails on CI and is skipped elsewhere.
func promtool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: install Debian's prometheus package", name)
		}
		t.Skipf("%s not found (Debian's prometheus package); CI requires it", name)
	}
	return path
}

// createBlocks loads DIR/metrics.om into a TSDB as promtool does.
func createBlocks(t *testing.T, dir string) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	out, err := exec.Command(promtool(t, "promtool"), "tsdb", "create-blocks-from", "openmetrics",
		filepath.Join(dir, "metrics.om"), data).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "NUM SAMPLES") {
		t.Fatalf("promtool wrote no block:\n%s", out)
	}
	return data
}

func TestOpenMetricsLoadsWithPromtool(t *testing.T) {
	createBlocks(t, scrapedRun(t))
}

// TestDashboardQueriesReturnData evaluates every query of the Grafana
// dashboard (profile/grafana/kro.json) with Prometheus's own engine, a
// prometheus server over the blocks promtool made from a run's metrics.om,
// and wants each to return a number somewhere in the run.
func TestDashboardQueriesReturnData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	prom := promtool(t, "prometheus")
	dir := scrapedRun(t)
	data := createBlocks(t, dir)
	var res struct {
		Summary struct {
			DurationSeconds float64 `json:"duration_seconds"`
		} `json:"summary"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if err := json.Unmarshal(raw, &res); err != nil || res.Summary.DurationSeconds == 0 {
		t.Fatalf("results.json: %v (duration %v)", err, res.Summary.DurationSeconds)
	}
	addr := serve(t, prom, data)
	start := sim.Epoch
	end := start.Add(time.Duration(res.Summary.DurationSeconds * float64(time.Second)))

	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	raw, _ = os.ReadFile("profile/grafana/kro.json")
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	if queryHasData(t, addr, `instance_reconcile_total{gvr="none"}`, start, end) {
		t.Fatal("a query of no series returned data: the check cannot fail")
	}
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			n++
			// Grafana's $__rate_interval is at least four scrape intervals.
			expr := strings.ReplaceAll(tg.Expr, "$__rate_interval", "20s")
			if !queryHasData(t, addr, expr, start, end) {
				t.Errorf("panel %q: %s returns no data on a simulated run", p.Title, expr)
			}
		}
	}
	if n < 10 {
		t.Errorf("the dashboard has %d queries, want at least 10", n)
	}
}

// serve starts prometheus over data on a free local port and returns its
// address once it is ready; the process is killed when the test ends.
func serve(t *testing.T, prom, data string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(prom, "--config.file="+cfg, "--storage.tsdb.path="+data,
		"--web.listen-address="+addr, "--storage.tsdb.retention.time=100y")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for i := 0; i < 300; i++ {
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("prometheus did not become ready:\n%s", log.String())
	return ""
}

func queryHasData(t *testing.T, addr, expr string, start, end time.Time) bool {
	t.Helper()
	q := url.Values{"query": {expr}, "start": {fmt.Sprint(start.Unix())},
		"end": {fmt.Sprint(end.Unix())}, "step": {"5"}}
	resp, err := http.Get("http://" + addr + "/api/v1/query_range?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status, Error string
		Data          struct {
			Result []struct {
				Values [][2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("%s: %v %s", expr, err, body.Error)
	}
	for _, s := range body.Data.Result {
		for _, v := range s.Values {
			if f, err := strconv.ParseFloat(fmt.Sprint(v[1]), 64); err == nil && !math.IsNaN(f) {
				return true
			}
		}
	}
	return false
}
