package study

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
	"gopkg.in/yaml.v3"
)

// Dimension names, in the fixed order a grid is expanded in (the first varies slowest).
const (
	QPS          = "qps"           // client-side QPS limit, a what-if; 0 means none, as kro runs (-1 in sweep.json)
	Burst        = "burst"         // client-side burst (default 1.5 x qps)
	Workers      = "workers"       // instance workers
	CPUs         = "cpus"          // vCPUs of the target
	Instances    = "instances"     // instances in the workload
	LatencyScale = "latency-scale" // multiplies every API latency percentile
)

// Dimensions lists every dimension a study can vary, in grid order.
var Dimensions = []string{QPS, Burst, Workers, CPUs, Instances, LatencyScale}

// Study is a what-if study: a base run (RGDs, target, workload) and the
// dimensions to vary over it. It is plain data, so a study is a versioned file.
type Study struct {
	Name     string            `json:"name,omitempty" yaml:"name,omitempty"`
	RGDs     []string          `json:"rgds" yaml:"rgds"`
	Target   string            `json:"target" yaml:"target"` // built-in name or target file
	Workload workload.Workload `json:"workload" yaml:"workload"`
	// Dimensions maps a dimension name to the values it takes.
	Dimensions map[string][]float64 `json:"dimensions" yaml:"dimensions"`
	// Seeds run every grid point once per seed; several give spread bars.
	Seeds   []uint64        `json:"seeds" yaml:"seeds"`
	MaxTime target.Duration `json:"max_time" yaml:"max_time"`
}

// Defaults of a study's optional fields.
const (
	DefaultTarget    = "kro-defaults"
	DefaultInstances = 100
	DefaultMaxTime   = target.Duration(4 * time.Hour)
)

// MaxPoints bounds a grid, so a typo cannot ask for a million runs.
const MaxPoints = 10000

// SetDefaults fills the optional fields left empty.
func (s *Study) SetDefaults() {
	if s.Target == "" {
		s.Target = DefaultTarget
	}
	d := workload.Default(DefaultInstances)
	if s.Workload.Instances == 0 {
		s.Workload.Instances = d.Instances
	}
	if s.Workload.Arrival == "" {
		s.Workload.Arrival = d.Arrival
	}
	if s.Workload.Namespace == "" {
		s.Workload.Namespace = d.Namespace
	}
	if len(s.Seeds) == 0 {
		s.Seeds = []uint64{1}
	}
	if s.MaxTime == 0 {
		s.MaxTime = DefaultMaxTime
	}
}

// Load reads a study file. Relative RGD and target paths are taken relative
// to the file, so a study runs the same from any directory.
func Load(path string) (*Study, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	for i, f := range s.RGDs {
		if !filepath.IsAbs(f) {
			s.RGDs[i] = filepath.Join(dir, f)
		}
	}
	if !slices.Contains(target.Builtins(), s.Target) && !filepath.IsAbs(s.Target) {
		s.Target = filepath.Join(dir, s.Target)
	}
	return s, nil
}

// Parse reads a study from YAML (or JSON), fills defaults and validates it.
// Unknown fields are errors, so a typo never silently drops a dimension.
func Parse(name string, data []byte) (*Study, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Study
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	s.SetDefaults()
	// sweep.json's study says qps none as -1; inside krosim it is 0.
	if qs, ok := s.Dimensions[QPS]; ok {
		for i, q := range qs {
			if q == NoQPSLimit {
				qs[i] = 0
			}
		}
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

// YAML renders the study as a study file.
func (s *Study) YAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Validate reports every problem of the study at once.
func (s *Study) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if len(s.RGDs) == 0 {
		bad("rgds: at least one RGD file is required")
	}
	if err := s.Workload.Validate(); err != nil {
		bad("%v", err)
	}
	if s.MaxTime <= 0 {
		bad("max_time must be positive")
	}
	names := make([]string, 0, len(s.Dimensions))
	for name := range s.Dimensions {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		vals := s.Dimensions[name]
		if !slices.Contains(Dimensions, name) {
			bad("dimensions: unknown dimension %q (want one of %s)", name, strings.Join(Dimensions, ", "))
			continue
		}
		if len(vals) == 0 {
			bad("dimensions.%s: no values", name)
		}
		seen := map[float64]bool{}
		for _, v := range vals {
			if err := checkValue(name, v); err != nil {
				bad("dimensions.%s: %v", name, err)
			}
			if seen[v] {
				bad("dimensions.%s: %s appears twice", name, FormatValue(name, v))
			}
			seen[v] = true
		}
	}
	if _, ok := s.Dimensions[Burst]; ok {
		if qs, ok := s.Dimensions[QPS]; ok && slices.Contains(qs, 0) {
			bad("dimensions: burst cannot be varied with qps 0 (no client-side limiter, so no burst)")
		}
	}
	points := float64(max(1, len(s.Seeds)))
	for _, vals := range s.Dimensions {
		points *= float64(max(1, len(vals)))
	}
	if points > MaxPoints {
		bad("the grid has %.0f points (dimensions x seeds); at most %d", points, MaxPoints)
	}
	seen := map[uint64]bool{}
	for _, seed := range s.Seeds {
		if seen[seed] {
			bad("seeds: %d appears twice", seed)
		}
		seen[seed] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid study:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

func checkValue(dim string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%v is not a number", v)
	}
	switch dim {
	case QPS:
		if v < 0 && v != NoQPSLimit {
			return fmt.Errorf("qps must be >= 0, or none (0 or -1), got %g", v)
		}
	case LatencyScale:
		if v <= 0 {
			return fmt.Errorf("latency-scale must be positive, got %g", v)
		}
	default:
		if v < 1 || v != math.Trunc(v) {
			return fmt.Errorf("%s must be a positive integer, got %g", dim, v)
		}
	}
	return nil
}

// ParseValues parses "5,10,20" as a dimension's values; for qps, "none" (or
// -1, as sweep.json writes it) means 0.
func ParseValues(dim, list string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if dim == QPS && f == "none" {
			out = append(out, 0)
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", dim, f)
		}
		if err := checkValue(dim, v); err != nil {
			return nil, err
		}
		if dim == QPS && v == NoQPSLimit {
			v = 0
		}
		out = append(out, v)
	}
	return out, nil
}

// FormatValue renders a dimension's value: qps 0 is "none".
func FormatValue(dim string, v float64) string {
	if dim == QPS && v == 0 {
		return "none"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Grid is a study expanded into points.
type Grid struct {
	// Dims are the varied dimensions, in grid order.
	Dims []string
	// Values are each varied dimension's values, sorted by Less.
	Values [][]float64
	Points []Point
}

// Point is one run of a grid: a value for every varied dimension, and a seed.
type Point struct {
	Index  int
	Values []float64 // aligned with Grid.Dims
	Seed   uint64
}

// Less orders a dimension's values from the tightest setting to the loosest:
// qps 0 (no limit) comes after every limit.
func Less(dim string, a, b float64) bool {
	if dim == QPS {
		if a == 0 || b == 0 {
			return a != 0 && b == 0
		}
	}
	return a < b
}

// Grid expands the study into the cartesian product of its dimensions, in
// the fixed order of Dimensions (values ascending by Less), seeds innermost.
func (s *Study) Grid() *Grid {
	g := &Grid{}
	for _, d := range Dimensions {
		vals, ok := s.Dimensions[d]
		if !ok {
			continue
		}
		vals = slices.Clone(vals)
		sort.SliceStable(vals, func(i, j int) bool { return Less(d, vals[i], vals[j]) })
		g.Dims = append(g.Dims, d)
		g.Values = append(g.Values, vals)
	}
	idx := make([]int, len(g.Dims))
	for {
		vals := make([]float64, len(g.Dims))
		for i, j := range idx {
			vals[i] = g.Values[i][j]
		}
		for _, seed := range s.Seeds {
			g.Points = append(g.Points, Point{Index: len(g.Points), Values: vals, Seed: seed})
		}
		// Advance the odometer, last dimension fastest.
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(g.Values[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return g
		}
	}
}

// Value returns the point's value of dimension dim and whether it is varied.
func (g *Grid) Value(p Point, dim string) (float64, bool) {
	for i, d := range g.Dims {
		if d == dim {
			return p.Values[i], true
		}
	}
	return 0, false
}

// Config is the run config of point p over the base target: the target
// cloned, then the point's what-ifs applied.
func (s *Study) Config(g *Grid, p Point, base *target.Target) (result.Config, error) {
	t := base.Clone()
	wl := s.Workload
	if v, ok := g.Value(p, QPS); ok {
		t.Client.QPS = v
		t.Client.Burst = 0
		if v > 0 {
			t.Client.Burst = max(1, int(v*1.5))
		}
	}
	if v, ok := g.Value(p, Burst); ok {
		if t.Client.QPS == 0 {
			return result.Config{}, fmt.Errorf("point %d: burst %g needs a qps limit (vary qps, or use a target with client.qps)", p.Index, v)
		}
		t.Client.Burst = int(v)
	}
	if v, ok := g.Value(p, Workers); ok {
		t.Controller.Workers = int(v)
	}
	if v, ok := g.Value(p, CPUs); ok {
		t.VCPUs = int(v)
	}
	if v, ok := g.Value(p, Instances); ok {
		wl.Instances = int(v)
	}
	if v, ok := g.Value(p, LatencyScale); ok {
		for verb, l := range t.Latency {
			l.P50 = scale(l.P50, v)
			l.P95 = scale(l.P95, v)
			l.P99 = scale(l.P99, v)
			l.PerObject = scale(l.PerObject, v)
			t.Latency[verb] = l
		}
	}
	cfg := result.Config{RGDFiles: slices.Clone(s.RGDs), Target: t, Workload: wl, Seed: p.Seed, MaxTime: s.MaxTime}
	if err := sim.Validate(cfg); err != nil {
		return result.Config{}, fmt.Errorf("point %d: %w", p.Index, err)
	}
	return cfg, nil
}

func scale(d target.Duration, f float64) target.Duration {
	return target.Duration(math.Round(float64(d) * f))
}

// params are the effective values of every dimension in a run's config.
func params(cfg result.Config, latencyScale float64) map[string]float64 {
	return map[string]float64{
		QPS:          cfg.Target.Client.QPS,
		Burst:        float64(cfg.Target.Client.Burst),
		Workers:      float64(cfg.Target.Controller.Workers),
		CPUs:         float64(cfg.Target.VCPUs),
		Instances:    float64(cfg.Workload.Instances),
		LatencyScale: latencyScale,
	}
}
