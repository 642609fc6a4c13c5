package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
)

var versionCmd = &command{
	name:     "version",
	examples: `krosim version`,
	summary:  "print krosim's module version, the commit it was built from, and the Go version",
	flags:    func(fs *pflag.FlagSet) any { return nil },
	run: func(e *env, _ any, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %v", args)
		}
		fmt.Fprintln(e.stdout, version())
		return nil
	},
}

// version is "krosim VERSION (commit REV[, modified]) GOVERSION", from the
// build information Go records in every binary.
func version() string {
	v, rev, dirty := "(devel)", "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				rev = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = ", modified"
			}
		}
	}
	return fmt.Sprintf("krosim %s (commit %s%s) %s", v, rev, dirty, runtime.Version())
}
