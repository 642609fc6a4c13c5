package cli

import "github.com/krosim/krosim/sim"

func wallProfile(res *sim.Result) ([]byte, error) { return nil, nil }
