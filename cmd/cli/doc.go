// Package cli implements krosim's command line: one table of subcommands, each a pipeline of named stages.
package cli
