// Package span records where simulated time goes: each thread's time by phase, and aggregated stacks for profiles.
package span
