package cli

import (
	"github.com/krosim/krosim/profile"
	"github.com/krosim/krosim/sim"
)

// wallProfile is the virtual-time profile of res, gzip-compressed, the same
// bytes for the same run.
func wallProfile(res *sim.Result) ([]byte, error) { return profile.Encode(profile.Wall(res)) }
