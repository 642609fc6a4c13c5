// Package krosim holds the repository-wide tests; the tool is in cmd/krosim.
package krosim
