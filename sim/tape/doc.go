// Package tape records long streams of integers compactly: the logs a run keeps to its end.
package tape
