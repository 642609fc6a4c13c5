package target

import (
	"math"
	"strings"
	"testing"
)

// TestValidateServerProcessorsAndSlowdown wants server.cpus and
// object_slowdown rejected when negative or not a finite number: a NaN
// slowdown would otherwise pass a "< 0" check and make every request's work
// NaN.
func TestValidateServerProcessorsAndSlowdown(t *testing.T) {
	base, err := Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		cpus     int
		slowdown float64
		ok       bool
	}{
		{"unlimited", 0, 0, true},
		{"set", 2, 0.0002, true},
		{"negative cpus", -1, 0, false},
		{"negative slowdown", 0, -0.1, false},
		{"NaN slowdown", 0, math.NaN(), false},
		{"infinite slowdown", 0, math.Inf(1), false},
	} {
		tg := base.Clone()
		tg.Server.CPUs, tg.Server.ObjectSlowdown = tc.cpus, tc.slowdown
		err := tg.Validate()
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		field := "server.object_slowdown"
		if tc.cpus < 0 {
			field = "server.cpus"
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), field)) {
			t.Errorf("%s: Validate() = %v, want an error naming %s", tc.name, err, field)
		}
	}
}
