package profile

import (
	"sort"

	"github.com/google/pprof/profile"
)

// Share is one label value's part of a profile.
type Share struct {
	Value    string  `json:"value"` // the label's value, or "(none)"
	Total    int64   `json:"total"` // in the sample type's unit
	Fraction float64 `json:"fraction"`
}

// ByLabel sums sample type index of p by the value of label key, largest
// first (ties by value). Samples without the label count as "(none)".
func ByLabel(p *profile.Profile, key string, index int) []Share {
	sums := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		if index >= len(s.Value) {
			continue
		}
		v := s.Value[index]
		name := "(none)"
		if l := s.Label[key]; len(l) > 0 {
			name = l[0]
		}
		sums[name] += v
		total += v
	}
	out := make([]Share, 0, len(sums))
	for name, v := range sums {
		f := 0.0
		if total != 0 {
			f = float64(v) / float64(total)
		}
		out = append(out, Share{Value: name, Total: v, Fraction: f})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Value < out[j].Value
	})
	return out
}
