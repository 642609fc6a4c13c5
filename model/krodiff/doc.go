// Package krodiff holds krosim's differential test against kro v0.9.4's own
// graph builder and CEL environment; it is its own module so that kro's
// dependencies never enter krosim's go.mod.
package krodiff
