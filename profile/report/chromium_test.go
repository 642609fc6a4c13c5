package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/profile/flame"
)

// chromium finds a Chromium to run headless (flame.Chromium):
// $CHROMIUM, else Debian's; under KROSIM_CI=1 a missing browser fails.
func chromium(t *testing.T) string {
	if p, ok := flame.Chromium(); ok {
		return p
	}
	if os.Getenv("KROSIM_CI") == "1" {
		t.Fatal("KROSIM_CI=1 but there is no chromium: .ci/run installs Debian's package chromium")
	}
	t.Skip("no chromium: set CHROMIUM or install Debian's package chromium")
	return ""
}

// browse runs headless Chromium on page with extra flags and returns its
// stdout and stderr.
func browse(t *testing.T, bin, dir, page string, extra ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir=" + filepath.Join(dir, "chromium"), "--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=5000"}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

var consoleLine = regexp.MustCompile(`:CONSOLE[:(]`)

// measure is a script the test adds to a copy of the page (its CSP relaxed
// for it alone) that records where each figure's chart is drawn.
const measure = `<script>
const out = {height: document.documentElement.scrollHeight, figures: [],
  resources: performance.getEntriesByType('resource').map(e => e.name)};
for (const f of document.querySelectorAll('figure[data-chart]')) {
  const r = f.querySelector('svg').getBoundingClientRect();
  out.figures.push({name: f.dataset.chart, x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height});
}
document.body.setAttribute('data-layout', JSON.stringify(out));
</script>`

type layout struct {
	Height float64 `json:"height"`
	// Resources are every URL the page fetched (resource timing): none.
	Resources []string `json:"resources"`
	Figures   []struct {
		Name string  `json:"name"`
		X    float64 `json:"x"`
		Y    float64 `json:"y"`
		W    float64 `json:"w"`
		H    float64 `json:"h"`
	} `json:"figures"`
}

// TestHTMLInChromium renders report.html in headless Chromium: no console
// message (its Content-Security-Policy turns any request into one), no
// resource fetched (the page's resource timing), and a screenshot of the
// whole page in which every chart's region is drawn, not blank.
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	h := report(t).HTML
	if err := os.WriteFile(page, h, 0o644); err != nil {
		t.Fatal(err)
	}
	const width = 1200
	_, stderr := browse(t, bin, dir, page, "--dump-dom")
	for _, line := range strings.Split(stderr, "\n") {
		if consoleLine.MatchString(line) {
			t.Errorf("console message: %s", line)
		}
	}

	// Where the charts are: a copy of the page with the measuring script.
	probe := filepath.Join(dir, "probe.html")
	ph := bytes.Replace(h, []byte("default-src 'none';"), []byte("default-src 'none'; script-src 'unsafe-inline';"), 1)
	ph = bytes.Replace(ph, []byte("</body>"), []byte(measure+"</body>"), 1)
	if err := os.WriteFile(probe, ph, 0o644); err != nil {
		t.Fatal(err)
	}
	dom, _ := browse(t, bin, dir, probe, "--dump-dom", fmt.Sprintf("--window-size=%d,900", width))
	m := regexp.MustCompile(`data-layout="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatal("the measuring script left no layout")
	}
	var lay layout
	if err := json.Unmarshal([]byte(strings.NewReplacer("&quot;", `"`, "&amp;", "&").Replace(m[1])), &lay); err != nil {
		t.Fatal(err)
	}
	if len(lay.Resources) > 0 {
		t.Errorf("the page fetched %v: it must need no network", lay.Resources)
	}
	if want := strings.Count(string(h), "<figure"); len(lay.Figures) != want || want < 10 {
		t.Fatalf("measured %d figures, the page has %d", len(lay.Figures), want)
	}

	shot := filepath.Join(dir, "shot.png")
	browse(t, bin, dir, page, "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", width, int(lay.Height)+10))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, fig := range lay.Figures {
		r := image.Rect(int(fig.X), int(fig.Y), int(fig.X+fig.W), int(fig.Y+fig.H)).Intersect(img.Bounds())
		if r.Dx() < 100 || r.Dy() < 50 {
			t.Errorf("%s: drawn in %v, too small or off the page (screenshot %v)", fig.Name, r, img.Bounds())
			continue
		}
		ink, colors := 0, map[[3]uint32]bool{}
		for y := r.Min.Y; y < r.Max.Y; y += 2 {
			for x := r.Min.X; x < r.Max.X; x += 2 {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				if cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
					ink++
				}
				if len(colors) < 64 {
					colors[[3]uint32{cr >> 12, cg >> 12, cb >> 12}] = true
				}
			}
		}
		share := float64(ink) / float64(r.Dx()*r.Dy()/4)
		if share < 0.01 || len(colors) < 3 {
			t.Errorf("%s: its region %v is blank (%.2f%% ink, %d colors)", fig.Name, r, 100*share, len(colors))
		}
	}
}
