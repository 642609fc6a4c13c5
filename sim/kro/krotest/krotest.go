// Package krotest sets up the tests of packages that run kro's simulation.
package krotest

import (
	"flag"
	"os"
	"testing"

	"github.com/krosim/krosim/sim/kro"
)

// Main runs m's tests with kro.CheckFixedCost set, so every untracked CEL
// evaluation's value and cost are checked against cel-go's tracked one;
// benchmarks run without it and measure the untracked path alone.
func Main(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		kro.CheckFixedCost = true
	}
	os.Exit(m.Run())
}
