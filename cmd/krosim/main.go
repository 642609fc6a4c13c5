// Command krosim simulates and profiles kro, the Kube Resource Orchestrator, without a cluster.
package main

import (
	"os"
	"runtime/debug"

	"github.com/krosim/krosim/cmd/cli"
)

func main() {
	// A simulation keeps a large, long-lived heap (every object of the modeled
	// cluster): collecting less often trades memory for a third less CPU.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(3 << 30) // collect harder rather than pass 3 GiB
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
