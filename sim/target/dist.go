package target

import (
	"math"
	"time"
)

// Standard normal quantiles of the percentiles a target gives.
const (
	z95 = 1.6448536269514722
	z99 = 2.3263478740408408
	// zMax caps the tail, so one unlucky sample cannot stall a run for hours.
	zMax = 5.0
)

// quantile maps a standard normal deviate z to a duration whose distribution
// has exactly the given p50, p95 and p99: log-normal pieces joined at the
// percentiles (the body below p95 takes the p50..p95 spread, the tail the p95..p99 one).
func quantile(p50, p95, p99 time.Duration, z float64) time.Duration {
	if p50 <= 0 {
		return 0
	}
	z = math.Max(-zMax, math.Min(zMax, z))
	l50 := math.Log(float64(p50))
	l95 := math.Log(float64(max(p95, p50)))
	l99 := math.Log(float64(max(p99, p95, p50)))
	var l float64
	switch {
	case z <= z95:
		l = l50 + z*(l95-l50)/z95
	case z <= z99:
		l = l95 + (z-z95)*(l99-l95)/(z99-z95)
	default:
		l = l99 + (z-z99)*(l99-l95)/(z99-z95)
	}
	// The tail extrapolates the p95..p99 spread: keep it inside a Duration
	// (converting a larger float is undefined) for any valid percentiles.
	return time.Duration(math.Exp(min(l, maxLogNS)))
}

// maxLogNS is the log of the longest sample, about 146 years in nanoseconds.
var maxLogNS = math.Log(float64(math.MaxInt64 / 2))

// Sample maps a standard normal deviate to a request latency for n objects.
func (l Latency) Sample(z float64, n int) time.Duration {
	return quantile(l.P50.D(), l.P95.D(), l.P99.D(), z) + time.Duration(n)*l.PerObject.D()
}

// Sample maps a standard normal deviate to a readiness delay.
func (r Readiness) Sample(z float64) time.Duration {
	return quantile(r.P50.D(), r.P95.D(), r.P99.D(), z)
}
