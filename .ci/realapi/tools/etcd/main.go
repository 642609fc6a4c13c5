// Command etcd is a plain etcd server built from the Go module proxy, so the
// real-API harness does not depend on a distribution package. All flags are
// etcd's own (see `etcd --help`).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
