// Package analysis reads krosim's output directories (run, profile, sweep,
// bench; simulated or real), summarizes their metrics, compares them with a
// baseline and derives recommendations that cite the numbers they come from.
package analysis
