// Package study runs what-if sweeps over a grid of kro settings and diagnoses what binds each point.
package study
