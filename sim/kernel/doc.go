// Package kernel runs simulated processes one at a time in virtual time.
package kernel
