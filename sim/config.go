package sim

import (
	"fmt"

	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

// Config is everything a run depends on besides the RGDs themselves. It is
// plain data and is written into results.json, so a run can be repeated.
type Config struct {
	RGDFiles []string          `json:"rgd_files"`
	Target   *target.Target    `json:"target"`
	Workload workload.Workload `json:"workload"`
	Seed     uint64            `json:"seed"`
	// MaxTime bounds virtual time; the run stops there, incomplete.
	MaxTime target.Duration `json:"max_time"`
}

// Validate checks the config.
func (c *Config) Validate() error {
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
