// Package synth generates ResourceGraphDefinitions of a given shape, size and expression complexity.
package synth
