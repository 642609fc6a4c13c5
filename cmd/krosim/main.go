// Command krosim simulates and profiles kro, the Kube Resource Orchestrator, without a cluster.
package main

import (
	"os"
	"runtime/debug"

	"github.com/krosim/krosim/cmd/cli"
	"github.com/krosim/krosim/sim"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(sim.GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		followLiveHeap()
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
