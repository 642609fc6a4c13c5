package analysis

import (
	"sort"

	"github.com/google/pprof/profile"
)

// Cost is a share of a virtual-time profile: a stack's leaf or a label's
// value, its seconds and its share of the profile's whole.
type Cost struct {
	Name     string  `json:"name"`
	Resource string  `json:"resource,omitempty"`
	Seconds  float64 `json:"seconds"`
	Share    float64 `json:"share"` // of the profile's busy time
}

// Profile labels and sample index of krosim's wall.pb.gz (profile.Wall).
const (
	labelPhase    = "phase"
	labelResource = "resource"
	labelVerb     = "verb"
	labelPass     = "pass"
	wallIndex     = 0
)

func label(s *profile.Sample, key string) string {
	if v := s.Label[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// leaf is the innermost frame's function name: the detail of a krosim stack
// (an expression's source for eval, a request for api_wait).
func leaf(s *profile.Sample) string {
	if len(s.Location) == 0 || len(s.Location[0].Line) == 0 || s.Location[0].Line[0].Function == nil {
		return ""
	}
	return s.Location[0].Line[0].Function.Name
}

// costs sums the profile's wall time of the samples in phase (every phase
// when empty) by key, largest first, ties by name; shares are of all the
// profile's wall time.
func costs(p *profile.Profile, phase string, key func(*profile.Sample) (name, resource string)) []Cost {
	type k struct{ name, res string }
	sums := map[k]int64{}
	var total int64
	for _, s := range p.Sample {
		if wallIndex >= len(s.Value) {
			continue
		}
		total += s.Value[wallIndex]
		if phase != "" && label(s, labelPhase) != phase {
			continue
		}
		n, r := key(s)
		if n == "" {
			continue
		}
		sums[k{n, r}] += s.Value[wallIndex]
	}
	var out []Cost
	for key, ns := range sums {
		c := Cost{Name: key.name, Resource: key.res, Seconds: float64(ns) / 1e9}
		if total > 0 {
			c.Share = float64(ns) / float64(total)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Seconds != out[j].Seconds {
			return out[i].Seconds > out[j].Seconds
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Resource < out[j].Resource
	})
	return out
}

// Expressions are the CEL expressions by eval time, with their resource.
func Expressions(p *profile.Profile) []Cost {
	return costs(p, "eval", func(s *profile.Sample) (string, string) { return leaf(s), label(s, labelResource) })
}

// ByLabel is the wall time in phase (every phase when empty) by a label's value.
func ByLabel(p *profile.Profile, phase, key string) []Cost {
	return costs(p, phase, func(s *profile.Sample) (string, string) { return label(s, key), "" })
}
