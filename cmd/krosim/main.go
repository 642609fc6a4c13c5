// Command krosim simulates and profiles kro, the Kube Resource Orchestrator, without a cluster.
package main

import (
	"os"

	"github.com/krosim/krosim/cmd/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
