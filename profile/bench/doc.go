// Package bench measures the kro performance report's suites (CRUD, workers,
// CEL, graph, usage): simulated in virtual time, or on this host where marked.
package bench
