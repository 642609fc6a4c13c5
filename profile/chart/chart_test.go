package chart

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/krosim/krosim/sim/study"
	"github.com/krosim/krosim/sim/target"
)

// sweep builds a sweep of qps x workers with two seeds, no simulation needed.
func sweep(t *testing.T) *study.Sweep {
	t.Helper()
	base, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	s := &study.Study{RGDs: []string{"chain.yaml"}, Target: "kro-defaults", Seeds: []uint64{1, 2},
		Dimensions: map[string][]float64{study.QPS: {5, 50, 500, 0}, study.Workers: {1, 2}}}
	s.SetDefaults()
	sw := &study.Sweep{Study: s, Target: base, Dimensions: []string{study.QPS, study.Workers},
		Values: [][]float64{{5, 50, 500, 0}, {1, 2}}}
	for _, q := range []float64{5, 50, 500, 0} {
		for _, w := range []float64{1, 2} {
			conv := 400 / w
			if q > 0 {
				conv += 2000 / q
			}
			sw.Groups = append(sw.Groups, study.Group{
				Params: map[string]float64{study.QPS: q, study.Workers: w}, Values: []float64{q, w}, Seeds: 2, Converged: 2,
				ConvergeSeconds:   &study.Spread{Mean: conv, Min: conv * 0.9, Max: conv * 1.1},
				TTRP99:            study.Spread{Mean: conv, Min: conv, Max: conv},
				ThrottleShare:     study.Spread{Mean: 10 / (10 + q), Min: 10 / (10 + q), Max: 10 / (10 + q)},
				WorkerUtilization: study.Spread{Mean: 1, Min: 1, Max: 1},
				VCPUUtilization:   study.Spread{Mean: 0.01, Min: 0.01, Max: 0.01},
			})
		}
	}
	return sw
}

func TestSweepCharts(t *testing.T) {
	charts := Sweep(sweep(t))
	var names []string
	for _, c := range charts {
		names = append(names, c.Name)
	}
	if want := []string{"converge", "ttr-p99", "throttle", "utilization"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("charts %v, want %v", names, want)
	}
	conv := charts[0]
	if !conv.X.Log {
		t.Error("qps 5..500 should be on a log axis")
	}
	if conv.Y.Log {
		t.Error("converge 200..800s should not need a log axis")
	}
	var labels []string
	for _, s := range conv.Series {
		labels = append(labels, s.Label)
		if !s.Reference && len(s.Points) != 3 {
			t.Errorf("series %q has %d points, want 3 (qps 5, 50, 500)", s.Label, len(s.Points))
		}
	}
	want := []string{"workers=1", "workers=1, no limit (as kro runs)", "workers=2", "workers=2, no limit (as kro runs)"}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("converge series %v, want %v (one line per workers value, qps=none as reference)", labels, want)
	}
	if p := conv.Series[0].Points[0]; p.Low >= p.Y || p.High <= p.Y {
		t.Errorf("seed spread lost: %+v", p)
	}
	if th := charts[2]; th.Y.Min != 0 || th.Y.Max != 1 || len(th.Series) != 2 {
		t.Errorf("throttle chart: y %g..%g with %d series; want 0..1, 2 series and no reference lines", th.Y.Min, th.Y.Max, len(th.Series))
	}
	if u := charts[3]; len(u.Series) != 4 || !u.Series[1].Dashed {
		t.Errorf("utilization chart: %d series, want workers and dashed vCPUs per line", len(u.Series))
	}
}

func TestNoChartsWithoutTwoValues(t *testing.T) {
	sw := sweep(t)
	sw.Dimensions, sw.Values = []string{study.Workers}, [][]float64{{1}}
	if cs := Sweep(sw); cs != nil {
		t.Errorf("got %d charts for a single point", len(cs))
	}
}

func TestFilesRenderValidImages(t *testing.T) {
	files, err := Files(sweep(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 8 {
		t.Errorf("got %d files, want 4 charts x png, svg", len(files))
	}
	for name, data := range files {
		switch {
		case strings.HasSuffix(name, ".svg"):
			checkSVG(t, name, data)
		case strings.HasSuffix(name, ".png"):
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 300 {
				t.Errorf("%s is only %dx%d", name, b.Dx(), b.Dy())
			}
		default:
			t.Errorf("unexpected file %s", name)
		}
	}
	if svg := string(files["converge.svg"]); !strings.Contains(svg, "client QPS limit (a what-if)") || !strings.Contains(svg, "no limit (as kro runs)") {
		t.Error("converge.svg lacks the what-if axis label or the no-limit reference")
	}
}

func checkSVG(t *testing.T, name string, data []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("%s is not well-formed XML: %v", name, err)
			return
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q, want svg", name, root)
	}
}

func TestSVGIsDeterministic(t *testing.T) {
	a, err := Files(sweep(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Files(sweep(t))
	if err != nil {
		t.Fatal(err)
	}
	for name := range a {
		if strings.HasSuffix(name, ".svg") && !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two renderings", name)
		}
	}
}

func TestNeedsLog(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want bool
	}{
		{"wide range", []float64{5, 10, 200}, true},
		{"narrow range", []float64{1, 2, 4}, false},
		{"a zero", []float64{0, 10, 1000}, false},
		{"one value", []float64{5}, false},
	}
	for _, tt := range tests {
		if got := NeedsLog(tt.xs, 10); got != tt.want {
			t.Errorf("%s: NeedsLog(%v) = %v, want %v", tt.name, tt.xs, got, tt.want)
		}
	}
}

func TestLogTicksLabelOneTwoFive(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(3, 60) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"5", "10", "20", "50"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
}

// TestReadableCharts: sans-serif type, high-DPI PNG, knees ringed and what
// binds written on the converge curve.
func TestReadableCharts(t *testing.T) {
	sw := sweep(t)
	for i := range sw.Groups {
		sw.Groups[i].Constraint = study.ClientQPS
		if sw.Groups[i].Params[study.QPS] >= 500 {
			sw.Groups[i].Constraint = study.APILatency
		}
	}
	sw.Knees = []study.Knee{{Dimension: study.QPS, Value: 500, ConvergeSeconds: 404, Fixed: map[string]float64{study.Workers: 1}}}
	conv := Sweep(sw)[0]
	if len(conv.Marks) != 1 || !strings.Contains(conv.Marks[0].Label, "knee: qps=500 at workers=1") {
		t.Errorf("marks %+v, want the knee at qps=500", conv.Marks)
	}
	var labels []string
	for _, p := range conv.Series[0].Points {
		labels = append(labels, p.Label)
	}
	if want := []string{"client-qps", "", "api-latency"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("point labels %q, want what binds where it changes: %q", labels, want)
	}
	svg, err := conv.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "sans-serif") || strings.Contains(string(svg), "Liberation Serif") {
		t.Error("the SVG's type is not sans-serif")
	}
	for _, s := range []string{"knee: qps=500", "client-qps", "api-latency"} {
		if !strings.Contains(string(svg), s) {
			t.Errorf("the SVG does not show %q", s)
		}
	}
	pngData, err := conv.Render("png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	if w, want := img.Bounds().Dx(), 1209; w < want { // 16 cm at 192 DPI
		t.Errorf("PNG %d px wide, want %d (%d DPI)", w, want, DPI)
	}
}
