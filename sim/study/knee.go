package study

import "math"

// KneeTolerance is how close to the best converge time a value must come to
// count as good enough: the knee is the tightest value within it.
const KneeTolerance = 0.05

// Knee is where a dimension stops mattering along one line of the grid (the
// other varied dimensions held fixed): the tightest value whose converge time
// is within KneeTolerance of the line's best.
type Knee struct {
	Dimension string             `json:"dimension"`
	Fixed     map[string]float64 `json:"fixed"` // the other varied dimensions
	Value     float64            `json:"value"`
	// ConvergeSeconds is the mean over seeds at the knee.
	ConvergeSeconds float64 `json:"converge_seconds"`
	Best            float64 `json:"best_value"`
	BestSeconds     float64 `json:"best_converge_seconds"`
	// Tightest and Loosest are the ends of the line, from most to least constrained.
	Tightest float64 `json:"tightest"`
	Loosest  float64 `json:"loosest"`
	// Constraint binds at the loosest value (for a resource: what stops more of
	// it from helping) or at the tightest (for a load: what the load runs into).
	Constraint Constraint `json:"constraint"`
	// BeforeValue is the value just tighter than the knee, and BeforeSeconds
	// its converge time (nil when the knee is the tightest value or, for the
	// time, when that value did not converge).
	BeforeValue   *float64 `json:"before_value,omitempty"`
	BeforeSeconds *float64 `json:"before_converge_seconds,omitempty"`
}

// IsLoad reports whether a larger value of dim makes the job harder (instances,
// latency-scale) rather than giving it more (qps, burst, workers, cpus).
func IsLoad(dim string) bool { return dim == Instances || dim == LatencyScale }

// tighter orders dim's values from the most constrained setting to the least.
func tighter(dim string, a, b float64) bool {
	if IsLoad(dim) {
		return a > b
	}
	return Less(dim, a, b)
}

// Knees finds the knee along every varied dimension, for every line of the
// other dimensions that has at least two values and one converged group.
func Knees(dims []string, groups []Group) []Knee {
	out := []Knee{}
	for di := range dims {
		// Lines in order of first appearance, which follows grid order.
		var keys []string
		lines := map[string][]Group{}
		for _, g := range groups {
			k := lineKey(g.Values, di)
			if _, ok := lines[k]; !ok {
				keys = append(keys, k)
			}
			lines[k] = append(lines[k], g)
		}
		for _, k := range keys {
			if kn, ok := knee(dims, di, lines[k]); ok {
				out = append(out, kn)
			}
		}
	}
	return out
}

func lineKey(vals []float64, skip int) string {
	b := make([]byte, 0, 8*len(vals))
	for i, v := range vals {
		if i == skip {
			continue
		}
		u := math.Float64bits(v)
		for s := 0; s < 64; s += 8 {
			b = append(b, byte(u>>s))
		}
	}
	return string(b)
}

func knee(dims []string, di int, line []Group) (Knee, bool) {
	dim := dims[di]
	if len(line) < 2 {
		return Knee{}, false
	}
	// Order the line from tightest to loosest.
	line = append([]Group(nil), line...)
	for i := 1; i < len(line); i++ {
		for j := i; j > 0 && tighter(dim, line[j].Values[di], line[j-1].Values[di]); j-- {
			line[j], line[j-1] = line[j-1], line[j]
		}
	}
	best := -1
	for i, g := range line {
		if g.ConvergeSeconds == nil {
			continue
		}
		if best < 0 || g.ConvergeSeconds.Mean < line[best].ConvergeSeconds.Mean {
			best = i
		}
	}
	if best < 0 {
		return Knee{}, false
	}
	limit := line[best].ConvergeSeconds.Mean * (1 + KneeTolerance)
	at := best
	for i, g := range line {
		if g.ConvergeSeconds != nil && g.ConvergeSeconds.Mean <= limit {
			at = i
			break
		}
	}
	kn := Knee{
		Dimension: dim, Fixed: map[string]float64{},
		Value: line[at].Values[di], ConvergeSeconds: line[at].ConvergeSeconds.Mean,
		Best: line[best].Values[di], BestSeconds: line[best].ConvergeSeconds.Mean,
		Tightest: line[0].Values[di], Loosest: line[len(line)-1].Values[di],
		Constraint: line[len(line)-1].Constraint,
	}
	if IsLoad(dim) {
		kn.Constraint = line[0].Constraint
	}
	for i, d := range dims {
		if i != di {
			kn.Fixed[d] = line[0].Values[i]
		}
	}
	if at > 0 {
		v := line[at-1].Values[di]
		kn.BeforeValue = &v
		if c := line[at-1].ConvergeSeconds; c != nil {
			s := c.Mean
			kn.BeforeSeconds = &s
		}
	}
	return kn, true
}
