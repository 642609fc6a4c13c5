package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/krosim/krosim/sim/target"
	"github.com/spf13/cobra"
)

// newRoot builds krosim's cobra tree from the command table. Cobra parses
// the flags, dispatches and completes; the messages, the help and the exit
// codes stay krosim's own (execute turns errors into them).
func newRoot(stdin io.Reader, stdout, stderr io.Writer, signals interrupts) *cobra.Command {
	root := &cobra.Command{
		Use:   "krosim",
		Short: "simulate and profile kro, the Kube Resource Orchestrator, without a cluster",
		// Every argument reaches RunE: it is called only when no command matched.
		Args:               cobra.ArbitraryArgs,
		DisableFlagParsing: true,
		SilenceErrors:      true,
		SilenceUsage:       true,
		CompletionOptions:  cobra.CompletionOptions{DisableDefaultCmd: true},
		RunE: func(cc *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				fmt.Fprint(stderr, usage())
			case args[0] == "-h" || args[0] == "--help":
				fmt.Fprint(stdout, usage())
				return nil
			case args[0] == "--version" && len(args) == 1: // as cobra's root commands answer it
				fmt.Fprintln(stdout, version())
				return nil
			default:
				fmt.Fprintf(stderr, "krosim: unknown command %q%s\n\n%s", args[0], suggest(args[0]), usage())
			}
			return &printedError{exitUsage}
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetHelpFunc(func(cc *cobra.Command, _ []string) {
		if c := lookupPath(cc.CommandPath()); c != nil {
			fmt.Fprint(stdout, c.help())
			return
		}
		fmt.Fprint(stdout, usage())
	})
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "print the help of krosim or of one command",
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return commandNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				fmt.Fprint(stdout, usage())
				return nil
			}
			c := lookup(args[0])
			if c == nil {
				fmt.Fprintf(stderr, "krosim help: unknown command %q%s\n\n%s", args[0], suggest(args[0]), usage())
				return &printedError{exitUsage}
			}
			if len(args) > 1 {
				if sc := c.sub(args[1]); sc != nil {
					c = sc
				}
			}
			fmt.Fprint(stdout, c.help())
			return nil
		},
	})
	for _, c := range commands {
		root.AddCommand(c.cobra(root, stdin, stdout, stderr, signals))
	}
	return root
}

// cobra is c as a cobra command whose RunE runs c with an env, under the
// signal watch when c says what it does on an interrupt.
func (c *command) cobra(root *cobra.Command, stdin io.Reader, stdout, stderr io.Writer, signals interrupts) *cobra.Command {
	words := strings.Fields(c.name) // a subcommand's name is "command sub"
	cc := &cobra.Command{
		Use:           strings.TrimSpace(words[len(words)-1] + " [flags] " + c.args),
		Short:         c.summary,
		Example:       indent(c.examples),
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	fs := cc.Flags()
	fs.SortFlags = false
	fs.SetOutput(stderr) // deprecation warnings; cobra would print them on stdout
	opts := c.flags(fs)
	if fs.Lookup("target") != nil {
		_ = cc.RegisterFlagCompletionFunc("target", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			// A built-in name or a target file.
			return target.Builtins(), cobra.ShellCompDirectiveDefault
		})
	}
	cc.RunE = func(_ *cobra.Command, args []string) error {
		e := &env{stdin: stdin, stdout: stdout, stderr: stderr, cmd: c.name, ctx: context.Background(), root: root}
		if c.interrupt != "" {
			ctx, stop := signals(stderr)
			defer stop()
			e.ctx = ctx
		}
		err := c.run(e, opts, args)
		if err == nil && e.ctx.Err() != nil && !c.untilInterrupted {
			err = fmt.Errorf("%w once the work was done; its outputs are complete", context.Cause(e.ctx))
		}
		return err
	}
	for _, sc := range c.subs {
		cc.AddCommand(sc.cobra(root, stdin, stdout, stderr, signals))
	}
	return cc
}

// lookupPath finds a command by its cobra path ("krosim sweep merge"), nil
// for one that is not the table's.
func lookupPath(path string) *command {
	words := strings.Fields(path)
	if len(words) < 2 {
		return nil
	}
	c := lookup(words[1])
	if c != nil && len(words) > 2 {
		c = c.sub(words[2])
	}
	return c
}

// commandNames are the names of the table's commands, for completion.
func commandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}
