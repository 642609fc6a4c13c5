package sim

import (
	"fmt"

	"github.com/krosim/krosim/sim/result"
)

// Validate checks a simulation's config.
func Validate(c result.Config) error {
	if c.Target == nil {
		return fmt.Errorf("config: no target")
	}
	if err := c.Target.Validate(); err != nil {
		return err
	}
	if err := c.Workload.Validate(); err != nil {
		return err
	}
	if c.MaxTime <= 0 {
		return fmt.Errorf("config: max_time must be positive")
	}
	return nil
}
