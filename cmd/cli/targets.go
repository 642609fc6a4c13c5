package cli

import (
	"fmt"
	"strings"

	"github.com/krosim/krosim/sim/target"
	"github.com/spf13/pflag"
)

var targetsCmd = &command{
	name: "targets",
	examples: `krosim targets
# start a target file of your own from a built-in one
krosim targets kro-defaults > my-target.yaml`,
	args:    "[NAME|FILE]",
	summary: "list the built-in targets, or print one (or a target file) as YAML",
	flags:   func(fs *pflag.FlagSet) any { return nil },
	run: func(e *env, _ any, args []string) error {
		switch len(args) {
		case 0:
			for _, name := range target.Builtins() {
				t, err := target.Lookup(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%-14s %s\n", name, strings.Join(strings.Fields(t.Description), " "))
			}
			return nil
		case 1:
			t, err := target.Lookup(args[0])
			if err != nil {
				return err
			}
			y, err := t.YAML()
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(y)
			return err
		}
		return usagef("want at most one target")
	},
}
