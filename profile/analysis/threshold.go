package analysis

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DefaultThreshold is the change for the worse tolerated when no
// --threshold names a metric.
const DefaultThreshold = 0.10

// Threshold is one METRIC=PCT rule: a metric's name, or a pattern where *
// stands for any text (api_calls.*, crud/*).
type Threshold struct {
	Pattern string
	Share   float64
}

// ParseThreshold parses METRIC=10% (or METRIC=0.1).
func ParseThreshold(s string) (Threshold, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok || name == "" || val == "" {
		return Threshold{}, fmt.Errorf("threshold %q: want METRIC=PCT, e.g. converge_seconds=10%%", s)
	}
	pct := strings.HasSuffix(val, "%")
	x, err := strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
	if err != nil || x < 0 {
		return Threshold{}, fmt.Errorf("threshold %q: %q is not a non-negative number or percentage", s, val)
	}
	if pct {
		x /= 100
	}
	return Threshold{Pattern: name, Share: x}, nil
}

// thresholdFor is the last rule matching name, else DefaultThreshold.
func thresholdFor(rules []Threshold, name string) float64 {
	t := DefaultThreshold
	for _, r := range rules {
		if glob(r.Pattern, name) {
			t = r.Share
		}
	}
	return t
}

// glob reports whether name matches pattern, * standing for any text.
func glob(pattern, name string) bool {
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
	ok, _ := regexp.MatchString(re, name)
	return ok
}
