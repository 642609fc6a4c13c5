package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK    = 0
	exitRun   = 1 // the input was bad or the run failed
	exitUsage = 2 // the command line was bad
)

// command is one subcommand. Help is generated from this table.
type command struct {
	name    string
	args    string // synopsis of positional arguments
	summary string
	flags   func(fs *pflag.FlagSet) any // declares flags, returns the options they fill
	run     func(env *env, opts any, args []string) error
	// subs are its subcommands, named "command sub": krosim command sub [flags] [args].
	subs []*command
	// examples, for help: command lines, each with a comment line.
	examples string
	// interrupt says, for help, what the command does on SIGINT or SIGTERM,
	// which cancel env.ctx. Empty: it dies at the first signal, as programs
	// do by default.
	interrupt string
	// untilInterrupted says the command runs until a signal ends it: the
	// first one is its normal end, not an interruption of its work.
	untilInterrupted bool
}

// env is what a command sees of the world.
type env struct {
	stdout, stderr io.Writer
	cmd            string          // the command running, for messages
	ctx            context.Context // cancelled by SIGINT or SIGTERM (commands with an interrupt text only), with an *interrupted cause
}

// usageError is a problem with the command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// reportedError means the command already printed its problems: exit 1, say nothing more.
var reportedError = errors.New("problems reported")

var commands []*command

func init() {
	commands = []*command{validateCmd, genCmd, runCmd, profileCmd, flameCmd, sweepCmd, targetsCmd, calibrateCmd, compareCmd, benchCmd, analyzeCmd, visualizeCmd, reportCmd, standinsCmd, versionCmd}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Main runs krosim with args (without the program name) and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return dispatch(args, stdout, stderr, notifySignals)
}

// dispatch is Main with the source of interrupts as a parameter.
func dispatch(args []string, stdout, stderr io.Writer, signals interrupts) int {
	e := &env{stdout: stdout, stderr: stderr, ctx: context.Background()}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "--help":
		if len(args) > 1 {
			c := lookup(args[1])
			if c == nil {
				fmt.Fprintf(stderr, "krosim help: unknown command %q%s\n\n%s", args[1], suggest(args[1]), usage())
				return exitUsage
			}
			if len(args) > 2 {
				if sc := c.sub(args[2]); sc != nil {
					c = sc
				}
			}
			fmt.Fprint(stdout, c.help())
			return exitOK
		}
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "krosim: unknown command %q%s\n\n%s", args[0], suggest(args[0]), usage())
		return exitUsage
	}
	if len(args) > 1 {
		if sc := c.sub(args[1]); sc != nil {
			c, args = sc, args[1:]
		}
	}
	e.cmd = c.name
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	opts := c.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, c.help())
			return exitOK
		}
		fmt.Fprintf(stderr, "krosim %s: %v\n\n%s", c.name, err, c.help())
		return exitUsage
	}
	if c.interrupt != "" {
		ctx, stop := signals(stderr)
		defer stop()
		e.ctx = ctx
	}
	err := c.run(e, opts, fs.Args())
	if err == nil && e.ctx.Err() != nil && !c.untilInterrupted {
		err = fmt.Errorf("%w once the work was done; its outputs are complete", context.Cause(e.ctx))
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "krosim %s: %v\n\n%s", c.name, err, c.help())
		return exitUsage
	case errors.Is(err, reportedError):
		return exitRun
	default:
		fmt.Fprintf(stderr, "krosim: %s: %v\n", c.name, err)
		return exitRun
	}
}

// sub returns the subcommand of c named name, or nil.
func (c *command) sub(name string) *command {
	for _, sc := range c.subs {
		if sc.name == c.name+" "+name {
			return sc
		}
	}
	return nil
}

func usage() string {
	var b strings.Builder
	b.WriteString("krosim simulates and profiles kro, the Kube Resource Orchestrator, without a cluster.\n\nUsage:\n  krosim <command> [flags] [args]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'krosim help <command>' for a command's flags.\n")
	return b.String()
}

func (c *command) help() string {
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SortFlags = false
	c.flags(fs)
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: krosim %s [flags] %s\n\n%s\n", c.name, c.args, c.summary)
	if fs.HasFlags() {
		b.WriteString("\nFlags:\n")
		b.WriteString(fs.FlagUsages())
	}
	if len(c.subs) > 0 {
		b.WriteString("\nSubcommands:\n")
		for _, sc := range c.subs {
			fmt.Fprintf(&b, "  krosim %s [flags] %s\n      %s\n", sc.name, sc.args, sc.summary)
		}
	}
	if c.examples != "" {
		fmt.Fprintf(&b, "\nExamples:\n%s", c.examples)
	}
	if c.interrupt != "" {
		fmt.Fprintf(&b, "\nOn SIGINT or SIGTERM: %s.\nA second signal quits at once (exit 130 or 143, as a shell reports); each file is then as it was or complete.\n", c.interrupt)
	}
	return b.String()
}

// temps are the temporary files writeFileAtomic has open, for quit to remove.
var temps = struct {
	sync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

// writeFileAtomic writes data to path through a temporary file and a rename,
// so a reader never sees a partial file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	temps.Lock()
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		temps.Unlock()
		return err
	}
	tmp := f.Name()
	temps.names[tmp] = true
	temps.Unlock()
	defer func() {
		temps.Lock()
		delete(temps.names, tmp)
		temps.Unlock()
	}()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(0o644)
	}
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp)
		return errors.Join(werr, cerr)
	}
	return os.Rename(tmp, path)
}

// quit exits the process at once with code, first removing the temporary
// files of writes in flight: every output is then either as it was or
// complete. It holds the lock to the end, so no write starts meanwhile.
func quit(code int) {
	temps.Lock()
	for name := range temps.names {
		os.Remove(name)
	}
	os.Exit(code)
}

// suggest names the commands within two edits of name, as kubectl's "did
// you mean" does, or says nothing.
func suggest(name string) string {
	var close []string
	for _, c := range commands {
		if distance(name, c.name) <= 2 || (len(name) > 1 && strings.HasPrefix(c.name, name)) {
			close = append(close, c.name)
		}
	}
	if len(close) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(close, " or ") + "?"
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
