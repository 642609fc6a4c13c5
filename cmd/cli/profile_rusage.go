//go:build unix

package cli

import (
	"runtime"
	"syscall"
	"time"
)

// rusage is the process's CPU time so far and its peak resident memory.
type rusage struct {
	user, sys time.Duration
	maxRSS    int64 // bytes
}

func getRusage() rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return rusage{}
	}
	rss := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" && runtime.GOOS != "ios" {
		rss *= 1024 // kilobytes everywhere but Apple's systems
	}
	return rusage{user: time.Duration(ru.Utime.Nano()), sys: time.Duration(ru.Stime.Nano()), maxRSS: rss}
}
