// Command gen writes builtin.json.gz: the OpenAPI schemas of the Kubernetes
// built-in kinds, converted from the structured-merge-diff schema embedded in
// the client-go module that go.mod requires.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/krosim/krosim/model/openapi/internal/builtin"
)

func main() {
	out := flag.String("o", "builtin.json.gz", "output file")
	flag.Parse()
	b, err := builtin.Generate()
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}
