package cli

import "github.com/spf13/pflag"

// Flag names mean one thing in every command, as in kubectl: -o/--output is
// an output format (text, json, markdown, svg ...), --out a file or
// directory to write.

// deprecatedOut keeps -o/--output FILE, the old spelling of --out in gen
// and calibrate, working for a while: hidden, with a warning when used.
func deprecatedOut(fs *pflag.FlagSet, out *string) {
	fs.StringVarP(out, "output", "o", "", "the file to write: use --out")
	_ = fs.MarkDeprecated("output", "use --out FILE; -o/--output names an output format in krosim's other commands")
}
