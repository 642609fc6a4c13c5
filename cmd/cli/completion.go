package cli

import (
	"github.com/spf13/pflag"
)

var completionCmd = &command{
	name:    "completion",
	args:    "bash|zsh|fish",
	summary: "print a shell completion script for krosim's commands, flags and built-in targets",
	examples: `# bash, this shell:
source <(krosim completion bash)
# bash, every shell (bash-completion installed):
krosim completion bash > ~/.local/share/bash-completion/completions/krosim
# zsh:
krosim completion zsh > "${fpath[1]}/_krosim"
# fish:
krosim completion fish > ~/.config/fish/completions/krosim.fish`,
	flags: func(fs *pflag.FlagSet) any { return nil },
	run: func(e *env, _ any, args []string) error {
		if len(args) != 1 {
			return usagef("want one shell: bash, zsh or fish")
		}
		switch args[0] {
		case "bash":
			return e.root.GenBashCompletionV2(e.stdout, true)
		case "zsh":
			return e.root.GenZshCompletion(e.stdout)
		case "fish":
			return e.root.GenFishCompletion(e.stdout, true)
		}
		return usagef("unknown shell %q: want bash, zsh or fish", args[0])
	},
}
