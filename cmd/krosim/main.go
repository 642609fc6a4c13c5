// Command krosim simulates and profiles kro, the Kube Resource Orchestrator, without a cluster.
package main

import (
	"bufio"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/krosim/krosim/cmd/cli"
	"github.com/krosim/krosim/sim"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(sim.GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit(meminfo()))
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}

// memoryLimit is the soft memory limit: collect harder rather than pass a
// quarter of the machine's memory, and never below 3 GiB. A fixed 3 GiB made
// the collector run back to back once a large run's live heap neared it
// (100,000 instances of a 10-resource chain hold about 3 GiB live).
func memoryLimit(memTotal int64) int64 {
	return max(3<<30, memTotal/4)
}

// meminfo is the machine's memory in bytes from /proc/meminfo, 0 when it
// cannot be read.
func meminfo() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	return memTotal(f)
}

// memTotal reads MemTotal (in kB) from a /proc/meminfo listing.
func memTotal(r io.Reader) int64 {
	s := bufio.NewScanner(r)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
