package cli

import (
	"errors"
	"time"

	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

// Bounds of number flags with no bound elsewhere: beyond them a what-if
// models no real client.
const (
	maxQPS   = 1e6 // --qps and --rate
	maxBurst = 1e6 // --burst
	// Against a real server: requests or objects krosim keeps in flight
	// (--parallel, --concurrency) and requests timed per verb (--objects).
	maxInFlight = 1000
	maxObjects  = 100000
)

// intFlag is a usage error unless v is in [lo, hi].
func intFlag(name string, v, lo, hi int) error {
	if v < lo || v > hi {
		return usagef("%s must be in [%d, %d], got %d", name, lo, hi, v)
	}
	return nil
}

// floatFlag is a usage error unless v is a finite number in [lo, hi].
func floatFlag(name string, v, lo, hi float64) error {
	if !(v >= lo && v <= hi) { // NaN fails both
		return usagef("%s must be a number in [%g, %g], got %g", name, lo, hi, v)
	}
	return nil
}

// positiveFlag is a usage error unless d is positive.
func positiveFlag(name string, d time.Duration) error {
	if d <= 0 {
		return usagef("%s must be positive, got %s", name, d)
	}
	return nil
}

// checkNumbers checks every number flag of run and profile before anything
// loads or runs; 0 keeps the target's value where a flag overrides one.
func (o *runOptions) checkNumbers() error {
	return errors.Join(
		intFlag("--instances", o.instances, 1, workload.MaxInstances),
		floatFlag("--qps", o.qps, 0, maxQPS),
		intFlag("--burst", o.burst, 0, maxBurst),
		intFlag("--workers", o.workers, 0, target.MaxWorkers),
		intFlag("--cpus", o.cpus, 0, target.MaxCPUs),
		floatFlag("--rate", o.rate, 0, maxQPS),
		floatFlag("--update", o.update, 0, 1),
		positiveFlag("--max-time", o.maxTime),
		positiveFlag("--wall-limit", o.wallLimit),
		scrapeFlag(o.scrape),
	)
}

// scrapeFlag checks --scrape-interval: a second or more, as Prometheus
// scrapes, so that a long run's metrics.om stays a reasonable size.
func scrapeFlag(d time.Duration) error {
	if d < time.Second {
		return usagef("--scrape-interval must be at least 1s, got %s", d)
	}
	return nil
}
