// Package model loads kro ResourceGraphDefinitions, compiles their CEL and builds their dependency graph.
package model
