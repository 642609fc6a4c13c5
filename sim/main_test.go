package sim_test

import (
	"flag"
	"os"
	"testing"

	"github.com/krosim/krosim/sim/kro"
)

// TestMain has every test check the fixed CEL costs it charges against
// cel-go's tracked cost (benchmarks measure the untracked path alone).
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		kro.CheckFixedCost = true
	}
	os.Exit(m.Run())
}
