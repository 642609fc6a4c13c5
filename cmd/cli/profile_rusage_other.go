//go:build !unix

package cli

import "time"

// rusage is the process's CPU time so far and its peak resident memory;
// zero where getrusage does not exist.
type rusage struct {
	user, sys time.Duration
	maxRSS    int64
}

func getRusage() rusage { return rusage{} }
