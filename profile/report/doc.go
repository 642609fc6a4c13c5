// Package report writes the performance report: one self-contained HTML
// file (inline SVG charts and flame graph) and its Markdown twin, every
// number computed from krosim's outputs, the published numbers beside them.
package report
