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

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK    = 0
	exitRun   = 1 // the input was bad or the run failed
	exitUsage = 2 // the command line was bad
)

// command is one subcommand: the single place a command is declared. The
// cobra tree, the help and the shell completion are built from this table.
type command struct {
	name    string
	args    string // synopsis of positional arguments
	summary string
	// examples are command lines with "#" comments, one a line, for the
	// help's Examples section (cobra's Example).
	examples string
	flags    func(fs *pflag.FlagSet) any // declares flags, returns the options they fill
	run      func(env *env, opts any, args []string) error
	// subs are its subcommands, named "command sub": krosim command sub [flags] [args].
	subs []*command
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
	stdin          io.Reader // read by "-" in place of an input file
	stdout, stderr io.Writer
	cmd            string          // the command running, for messages
	ctx            context.Context // cancelled by SIGINT or SIGTERM (commands with an interrupt text only), with an *interrupted cause
	root           *cobra.Command  // the command tree, for completion scripts
}

// usageError is a problem with the command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// reportedError means the command already printed its problems: exit 1, say nothing more.
var reportedError = errors.New("problems reported")

// printedError is a problem already printed, ending in its exit code.
type printedError struct{ code int }

func (e *printedError) Error() string { return fmt.Sprintf("exit %d", e.code) }

var commands []*command

func init() {
	commands = []*command{validateCmd, genCmd, runCmd, profileCmd, flameCmd, sweepCmd, targetsCmd, calibrateCmd, compareCmd, benchCmd, analyzeCmd, visualizeCmd, reportCmd, standinsCmd, versionCmd, completionCmd}
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
	return execute(args, os.Stdin, stdout, stderr, notifySignals)
}

// dispatch is Main with the source of interrupts as a parameter and nothing on stdin.
func dispatch(args []string, stdout, stderr io.Writer, signals interrupts) int {
	return execute(args, strings.NewReader(""), stdout, stderr, signals)
}

// execute builds the command tree, runs the command args name and turns
// its error into a message and an exit code.
func execute(args []string, stdin io.Reader, stdout, stderr io.Writer, signals interrupts) int {
	root := newRoot(stdin, stdout, stderr, signals)
	root.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
	found, err := root.ExecuteC()
	var (
		ue *usageError
		pe *printedError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &pe):
		return pe.code
	case errors.Is(err, reportedError):
		return exitRun
	}
	if found == nil {
		found = root
	}
	c := lookupPath(found.CommandPath())
	switch {
	case c == nil: // not one of the table's: cobra's own, such as __complete
		fmt.Fprintf(stderr, "krosim %s: %v\n", found.Name(), err)
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "krosim %s: %v\n\n%s", c.name, err, c.help())
		return exitUsage
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
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'krosim help <command>' or 'krosim <command> --help' for a command's flags and examples.\n")
	return b.String()
}

func (c *command) help() string {
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SortFlags = false
	c.flags(fs)
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: krosim %s\n\n%s\n", strings.TrimSpace(c.name+" [flags] "+c.args), c.summary)
	if c.examples != "" {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", indent(c.examples))
	}
	if fs.HasAvailableFlags() {
		b.WriteString("\nFlags:\n")
		b.WriteString(fs.FlagUsages())
	}
	if len(c.subs) > 0 {
		b.WriteString("\nSubcommands:\n")
		for _, sc := range c.subs {
			fmt.Fprintf(&b, "  krosim %s [flags] %s\n      %s\n", sc.name, sc.args, sc.summary)
		}
	}
	if c.interrupt != "" {
		fmt.Fprintf(&b, "\nOn SIGINT or SIGTERM: %s.\nA second signal quits at once (exit 130 or 143, as a shell reports); each file is then as it was or complete.\n", c.interrupt)
	}
	return b.String()
}

// indent puts two spaces before every line of text, as cobra's Example is shown.
func indent(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
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
		return writeError(path, err)
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
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return writeError(path, err)
	}
	return nil
}

// writeError is err of writing path through a temporary file, said of
// path: the temporary file's name says nothing to a user.
func writeError(path string, err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("write %s: %w", path, err)
}

// outFileDir checks, before any work, that the directory of an output
// file given to flag exists, so a long measurement does not end in a failed
// write.
func outFileDir(flag, path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usagef("%s %s: is a directory, not a file", flag, path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return usagef("%s %s: its directory %s: %v", flag, path, dir, errors.Unwrap(err))
	case !fi.IsDir():
		return usagef("%s %s: %s is not a directory", flag, path, dir)
	}
	return nil
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
