// Package chart draws line charts of sweeps as PNG and SVG.
package chart
