//go:build !linux

package cluster

import "time"

// threadCPU cannot be read here: a run records no probe of its host.
func threadCPU() (time.Duration, bool) { return 0, false }
