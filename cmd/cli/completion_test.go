package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			code, script, stderr := run("completion", shell)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			// Every script completes by asking krosim itself.
			if !strings.Contains(script, "__complete") || !strings.Contains(script, "krosim") {
				t.Errorf("%s script does not call krosim __complete:\n%.500s", shell, script)
			}
			if shell != "bash" {
				return
			}
			path := filepath.Join(t.TempDir(), "krosim.bash")
			if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Fatalf("no bash to check the script: %v", err)
			}
			if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, out)
			}
		})
	}
	// What the scripts ask: the commands, a command's flags, a flag's values.
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", ""}, commandNames()},
		{[]string{"__complete", "ru"}, []string{"run"}},
		{[]string{"__complete", "run", "--ins"}, []string{"--instances"}},
		{[]string{"__complete", "run", "--target", ""}, []string{"kro-defaults", "report-8vcpu"}},
		{[]string{"__complete", "help", ""}, []string{"validate", "sweep"}},
	} {
		code, stdout, stderr := run(tt.args...)
		if code != exitOK {
			t.Errorf("krosim %s: exit %d: %s", strings.Join(tt.args, " "), code, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout, "\n"+w+"\t") && !strings.HasPrefix(stdout, w+"\t") && !strings.Contains(stdout, "\n"+w+"\n") && !strings.HasPrefix(stdout, w+"\n") {
				t.Errorf("krosim %s does not offer %s:\n%s", strings.Join(tt.args, " "), w, stdout)
			}
		}
	}
	for _, tt := range [][]string{{"completion"}, {"completion", "powershell"}, {"completion", "bash", "zsh"}} {
		if code, _, _ := run(tt...); code != exitUsage {
			t.Errorf("krosim %s: exit %d, want %d", strings.Join(tt, " "), code, exitUsage)
		}
	}
}

// TestExamples checks that every command's help shows examples, and that
// every krosim command line among them names the command and parses: an
// example never shows a flag that does not exist (or is deprecated).
func TestExamples(t *testing.T) {
	for _, c := range commands {
		if strings.TrimSpace(c.examples) == "" {
			t.Errorf("command %s has no examples: give it an examples field", c.name)
			continue
		}
		_, help, _ := run(c.name, "--help")
		if !strings.Contains(help, "\nExamples:\n  ") {
			t.Errorf("krosim %s --help shows no examples:\n%s", c.name, help)
		}
		for _, line := range strings.Split(c.examples, "\n") {
			line = strings.TrimSpace(line)
			// The krosim command of a line, up to a pipe or a redirection.
			if i := strings.Index(line, "krosim "); i >= 0 {
				line = line[i:]
			} else {
				continue
			}
			line, _, _ = strings.Cut(line, "|")
			line, _, _ = strings.Cut(line, ">")
			line = strings.TrimRight(line, ") ")
			fields := strings.Fields(line)
			if len(fields) < 2 {
				t.Errorf("%s: example %q names no command", c.name, line)
				continue
			}
			ec := lookup(fields[1])
			if ec == nil {
				t.Errorf("%s: example %q: no command %s", c.name, line, fields[1])
				continue
			}
			fs := pflag.NewFlagSet(ec.name, pflag.ContinueOnError)
			ec.flags(fs)
			if err := fs.Parse(fields[2:]); err != nil {
				t.Errorf("%s: example %q: %v", c.name, line, err)
			}
			fs.Visit(func(f *pflag.Flag) {
				if f.Deprecated != "" {
					t.Errorf("%s: example %q uses the deprecated --%s", c.name, line, f.Name)
				}
			})
		}
	}
}
