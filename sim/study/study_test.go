package study

import (
	"reflect"
	"strings"
	"testing"

	"github.com/krosim/krosim/sim/target"
)

func TestGridExpandsInFixedOrder(t *testing.T) {
	s := &Study{RGDs: []string{"x.yaml"}, Seeds: []uint64{7, 8},
		// Map order and value order do not matter: the grid sorts both.
		Dimensions: map[string][]float64{Workers: {2, 1}, QPS: {0, 50, 5}}}
	s.SetDefaults()
	g := s.Grid()
	if want := []string{QPS, Workers}; !reflect.DeepEqual(g.Dims, want) {
		t.Fatalf("dims = %v, want %v (fixed order)", g.Dims, want)
	}
	if want := [][]float64{{5, 50, 0}, {1, 2}}; !reflect.DeepEqual(g.Values, want) {
		t.Fatalf("values = %v, want %v (ascending, qps none last)", g.Values, want)
	}
	var got []string
	for i, p := range g.Points {
		if p.Index != i {
			t.Errorf("point %d has index %d", i, p.Index)
		}
		got = append(got, FormatValue(QPS, p.Values[0])+"/"+FormatValue(Workers, p.Values[1])+"/"+FormatValue("", float64(p.Seed)))
	}
	want := []string{"5/1/7", "5/1/8", "5/2/7", "5/2/8", "50/1/7", "50/1/8", "50/2/7", "50/2/8",
		"none/1/7", "none/1/8", "none/2/7", "none/2/8"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("points (qps/workers/seed) =\n%v\nwant\n%v", got, want)
	}
}

func TestGridWithoutDimensionsIsOnePointPerSeed(t *testing.T) {
	s := &Study{RGDs: []string{"x.yaml"}, Seeds: []uint64{1, 2, 3}}
	s.SetDefaults()
	if g := s.Grid(); len(g.Dims) != 0 || len(g.Points) != 3 {
		t.Errorf("grid = %d dims, %d points; want 0 and 3", len(g.Dims), len(g.Points))
	}
}

func TestConfigAppliesWhatIfs(t *testing.T) {
	base, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := base.YAML()
	s := &Study{RGDs: []string{"x.yaml"}, Dimensions: map[string][]float64{
		QPS: {20}, Workers: {3}, CPUs: {2}, Instances: {40}, LatencyScale: {2}}}
	s.SetDefaults()
	g := s.Grid()
	cfg, err := s.Config(g, g.Points[0], base)
	if err != nil {
		t.Fatal(err)
	}
	tg := cfg.Target
	if tg.Client.QPS != 20 || tg.Client.Burst != 30 || tg.Controller.Workers != 3 || tg.VCPUs != 2 || cfg.Workload.Instances != 40 {
		t.Errorf("config: qps %g burst %d workers %d vcpus %d instances %d; want 20 30 3 2 40",
			tg.Client.QPS, tg.Client.Burst, tg.Controller.Workers, tg.VCPUs, cfg.Workload.Instances)
	}
	for verb, l := range base.Latency {
		got := tg.Latency[verb]
		if got.P50 != 2*l.P50 || got.P95 != 2*l.P95 || got.P99 != 2*l.P99 || got.PerObject != 2*l.PerObject {
			t.Errorf("latency.%s = %+v, want twice %+v", verb, got, l)
		}
	}
	if after, _ := base.YAML(); string(after) != string(before) {
		t.Error("Config changed the base target")
	}

	s.Dimensions = map[string][]float64{QPS: {10}, Burst: {4}}
	g = s.Grid()
	if cfg, err = s.Config(g, g.Points[0], base); err != nil || cfg.Target.Client.Burst != 4 {
		t.Errorf("burst 4: got burst %d, err %v", cfg.Target.Client.Burst, err)
	}
	s.Dimensions = map[string][]float64{Burst: {4}}
	g = s.Grid()
	if _, err = s.Config(g, g.Points[0], base); err == nil || !strings.Contains(err.Error(), "needs a qps limit") {
		t.Errorf("burst without qps on an unlimited target: err = %v, want 'needs a qps limit'", err)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // all in the error
	}{
		{name: "no rgds", yaml: "dimensions: {qps: [5]}", want: []string{"rgds: at least one"}},
		{name: "unknown dimension", yaml: "rgds: [a.yaml]\ndimensions: {qsp: [5]}", want: []string{`unknown dimension "qsp"`, "latency-scale"}},
		{name: "fractional workers", yaml: "rgds: [a.yaml]\ndimensions: {workers: [1.5]}", want: []string{"workers must be a positive integer, got 1.5"}},
		{name: "negative qps", yaml: "rgds: [a.yaml]\ndimensions: {qps: [-2]}", want: []string{"qps must be >= 0"}},
		{name: "none twice", yaml: "rgds: [a.yaml]\ndimensions: {qps: [0, -1]}", want: []string{"none appears twice"}},
		{name: "zero latency scale", yaml: "rgds: [a.yaml]\ndimensions: {latency-scale: [0]}", want: []string{"latency-scale must be positive"}},
		{name: "duplicate value", yaml: "rgds: [a.yaml]\ndimensions: {qps: [0, 0]}", want: []string{"none appears twice"}},
		{name: "burst with no limit", yaml: "rgds: [a.yaml]\ndimensions: {qps: [0, 5], burst: [10]}", want: []string{"burst cannot be varied with qps 0"}},
		{name: "duplicate seed", yaml: "rgds: [a.yaml]\nseeds: [1, 1]", want: []string{"seeds: 1 appears twice"}},
		{name: "unknown field", yaml: "rgds: [a.yaml]\nworkers: 4", want: []string{"field workers not found"}},
		{name: "too many points", yaml: "rgds: [a.yaml]\nseeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\ndimensions: {qps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], workers: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], cpus: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}", want: []string{"11000 points", "at most 10000"}},
		{name: "several at once", yaml: "dimensions: {qps: [-2], cpus: [0]}", want: []string{"rgds:", "qps must be", "cpus must be"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("study.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseFillsDefaultsAndRoundTrips(t *testing.T) {
	s, err := Parse("study.yaml", []byte("rgds: [a.yaml]\ndimensions: {qps: [5, 0]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Target != DefaultTarget || s.Workload.Instances != DefaultInstances || !reflect.DeepEqual(s.Seeds, []uint64{1}) || s.MaxTime != DefaultMaxTime {
		t.Errorf("defaults not filled: %+v", s)
	}
	y, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("again.yaml", y)
	if err != nil {
		t.Fatalf("re-parse of\n%s: %v", y, err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Errorf("round trip changed the study:\n%+v\n%+v", s, back)
	}
}

func TestLoadResolvesPathsAgainstTheFile(t *testing.T) {
	s, err := Load("../../testdata/study/qps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"../../testdata/rgd/chain.yaml"}; !reflect.DeepEqual(s.RGDs, want) {
		t.Errorf("rgds = %v, want %v", s.RGDs, want)
	}
	if s.Target != "kro-defaults" {
		t.Errorf("a built-in target name must stay as is, got %q", s.Target)
	}
	if _, ok := s.Dimensions[QPS]; !ok {
		t.Error("the example study does not vary qps")
	}
}

func TestParseValues(t *testing.T) {
	if v, err := ParseValues(QPS, "5, 50,none"); err != nil || !reflect.DeepEqual(v, []float64{5, 50, 0}) {
		t.Errorf("qps=5, 50,none: %v, %v", v, err)
	}
	for _, bad := range []struct{ dim, list string }{{Workers, "1,x"}, {Workers, "0"}, {CPUs, "none"}, {QPS, "-5"}} {
		if _, err := ParseValues(bad.dim, bad.list); err == nil {
			t.Errorf("%s=%s: no error", bad.dim, bad.list)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("rgds: [a.yaml]\ndimensions: {qps: [5, 0], workers: [1, 2]}\nseeds: [1, 2]\n"))
	f.Add([]byte("rgds: [a.yaml]\nworkload: {instances: 5, arrival: rate, rate: 2}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted a study Validate rejects: %v", err)
		}
		if len(s.Grid().Points) == 0 {
			t.Fatal("a valid study expanded into no points")
		}
	})
}

// TestDecodeSweepRoundTrip: sweep.json read back gives the same bytes.
func TestDecodeSweepRoundTrip(t *testing.T) {
	s := &Sweep{Format: sweepFormat, Study: &Study{Dimensions: map[string][]float64{QPS: {20, 0}}},
		Target: &target.Target{Name: "t"}, Dimensions: []string{QPS}, Values: [][]float64{{20, 0}},
		Groups: []Group{{Params: map[string]float64{QPS: 0}}, {Params: map[string]float64{QPS: 20}}},
		Knees:  []Knee{{Dimension: QPS, Value: 0, Best: 0, Tightest: 20, Loosest: 0, Fixed: map[string]float64{}}}}
	js, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSweep(js)
	if err != nil {
		t.Fatal(err)
	}
	if back.Groups[0].Params[QPS] != 0 || back.Groups[0].Values[0] != 0 || back.Values[0][1] != 0 || back.Knees[0].Value != 0 {
		t.Errorf("qps none did not come back as 0: %+v", back)
	}
	again, err := back.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(js) {
		t.Errorf("round trip changed sweep.json:\n%s\nwant\n%s", again, js)
	}
	if _, err := DecodeSweep([]byte(`{"format":"x"}`)); err == nil {
		t.Error("a wrong format decoded")
	}
}
