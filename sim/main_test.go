package sim_test

import (
	"testing"

	"github.com/krosim/krosim/sim/kro/krotest"
)

func TestMain(m *testing.M) { krotest.Main(m) }
