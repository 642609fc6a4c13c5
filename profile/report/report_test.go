package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/krosim/krosim/profile/analysis"
)

var update = flag.Bool("update", false, "rewrite testdata/report.md")

// fixtures are small outputs of krosim (testdata/README.md says how they
// were made): a bench report, a sweep and a profile of 50 instances.
func fixtures(t *testing.T) []*analysis.Input {
	t.Helper()
	ins, err := analysis.LoadAll([]string{"testdata/bench", "testdata/sweep", "testdata/profile"})
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

func build(t *testing.T) *Files {
	t.Helper()
	f, err := Build(fixtures(t), Options{Commands: []string{"krosim bench ...", "krosim sweep ...", "krosim profile ..."}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var built struct {
	sync.Once
	files *Files
}

// report is build's result, built once for the tests that only read it.
func report(t *testing.T) *Files {
	built.Do(func() { built.files = build(t) })
	if built.files == nil {
		t.Fatal("the report did not build")
	}
	return built.files
}

// TestMarkdownGolden compares report.md with testdata/report.md.
func TestMarkdownGolden(t *testing.T) {
	got := report(t).Markdown
	golden := filepath.Join("testdata", "report.md")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report.md differs from %s (go test -update rewrites it)", golden)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := report(t), build(t)
	if !bytes.Equal(a.HTML, b.HTML) || !bytes.Equal(a.Markdown, b.Markdown) {
		t.Error("two builds of the same inputs differ")
	}
}

// TestSections: the performance report's sections, kro's metric names and
// the published numbers beside the measured.
func TestSections(t *testing.T) {
	md := string(report(t).Markdown)
	for _, s := range []string{"## Summary", "## Test environment", "## Performance metrics", "### CRUD Operations",
		"### CEL Expression Evaluation", "### ResourceGraph Operations", "## Runs", "## Sweeps", "## Performance bottlenecks",
		"## Optimization recommendations", "## Scaling guidelines", "## Monitoring", "## Appendix"} {
		if !strings.Contains("\n"+md, "\n"+s) {
			t.Errorf("report.md lacks the section %q", s)
		}
	}
	for _, m := range []string{"instance_reconcile_total", "instance_reconcile_duration_seconds", "instance_reconcile_errors_total",
		"cel_expr_eval_total", "cel_expr_eval_duration_seconds", "dynamic_controller_requeue_total", "rest_client_request_duration_seconds",
		"rest_client_rate_limiter_duration_seconds", "workqueue_depth", "workqueue_queue_duration_seconds", "workqueue_work_duration_seconds"} {
		if !strings.Contains(md, "`"+m) {
			t.Errorf("the monitoring section lacks kro's metric %s", m)
		}
	}
	summary := md[strings.Index(md, "## Summary"):strings.Index(md, "## Test environment")]
	if n := strings.Count(summary, "published"); n < 4 {
		t.Errorf("the summary cites published numbers %d times, want every headline beside its published number:\n%s", n, summary)
	}
	if !regexp.MustCompile(`\(\d[\d.]*x\)`).MatchString(summary) {
		t.Error("the summary gives no ratio to the published numbers")
	}
	if !strings.Contains(md, "--client-qps and --client-burst have no effect") {
		t.Error("the recommendations do not say kro's client QPS flags are inert")
	}
}

// TestHTMLSelfContained: the page references nothing outside itself.
func TestHTMLSelfContained(t *testing.T) {
	h := string(report(t).HTML)
	for _, bad := range []string{` src=`, `href="http`, `url(http`, `@import`, `<link rel="stylesheet"`} {
		if strings.Contains(h, bad) {
			t.Errorf("report.html contains %q: it must need no network", bad)
		}
	}
	if n := strings.Count(h, "<svg"); n < 10 {
		t.Errorf("report.html inlines %d SVGs, want every chart and the flame graph", n)
	}
	if strings.Contains(h, "<?xml") {
		t.Error("an inline SVG kept its XML prolog")
	}
}
