package flame

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium finds a Chromium to run headless: $CHROMIUM, else Debian's. In CI
// (KROSIM_CI=1) a missing browser fails the test instead of skipping it.
func chromium(t *testing.T) string {
	if p, ok := Chromium(); ok {
		return p
	}
	if os.Getenv("KROSIM_CI") == "1" {
		t.Fatal("KROSIM_CI=1 but there is no chromium: .ci/run installs Debian's package chromium")
	}
	t.Skip("no chromium: set CHROMIUM or install Debian's package chromium")
	return ""
}

// consoleLine is how Chromium logs a page's console message to stderr.
var consoleLine = regexp.MustCompile(`:CONSOLE[:(]`)

// TestHTMLInChromium opens the zoomable HTML in headless Chromium: the page
// must log nothing to the console, and its script must pass its self-check
// (zoom into a frame and back, search and clear), which marks the document
// data-flame="ready".
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	g, err := New(wallProfile(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	g.Title = `zoom test: <b>"quoted"</b> & 'more'`
	dir := t.TempDir()
	page := filepath.Join(dir, "flame.html")
	if err := os.WriteFile(page, g.HTML(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "chromium"), "--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=5000", "--dump-dom", "file://"+page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if consoleLine.MatchString(line) {
			t.Errorf("console message: %s", line)
		}
	}
	dom := stdout.String()
	if !strings.Contains(dom, `data-flame="ready"`) {
		t.Errorf("the page's script did not pass its self-check (want data-flame=\"ready\"); DOM starts:\n%.600s", dom)
	}
	if n := strings.Count(dom, `class="f`); n != 27 {
		t.Errorf("the rendered DOM has %d frames, want 27", n)
	}
}
