// Package calibration fits a target's parameters to measurements: this host's CPU cost per unit of work, a real API server's latency, and the latency and work a real kro run saw.
package calibration
