// Package result owns results.json, a run's output for both a simulation and a real cluster: its types, its format version, reading and writing it, and the percentiles it reports.
package result
