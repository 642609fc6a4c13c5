package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, stdout, stderr := run(args...)
		if code != exitOK || stderr != "" {
			t.Errorf("krosim %s: exit %d, stderr %q", args[0], code, stderr)
		}
		for _, c := range commands {
			if !regexp.MustCompile(`(?m)^  ` + c.name + ` +` + regexp.QuoteMeta(c.summary) + `$`).MatchString(stdout) {
				t.Errorf("krosim %s does not list %q with its summary:\n%s", args[0], c.name, stdout)
			}
		}
	}
}

func TestCommandHelpListsEveryFlag(t *testing.T) {
	if len(commands) == 0 {
		t.Fatal("no commands")
	}
	var all []*command
	for _, c := range commands {
		all = append(append(all, c), c.subs...)
	}
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			if c.summary == "" {
				t.Errorf("command %q has no summary", c.name)
			}
			fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
			c.flags(fs)
			words := strings.Fields(c.name)
			for _, args := range [][]string{append([]string{"help"}, words...), slices.Concat(words, []string{"--help"}), slices.Concat(words, []string{"-h"})} {
				code, help, stderr := run(args...)
				if code != exitOK || stderr != "" {
					t.Errorf("krosim %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
				}
				if !strings.HasPrefix(help, "Usage: krosim "+c.name) {
					t.Errorf("krosim %s does not start with a usage line:\n%s", strings.Join(args, " "), help)
				}
				fs.VisitAll(func(f *pflag.Flag) {
					if f.Deprecated != "" {
						if strings.Contains(help, "--"+f.Name+" ") {
							t.Errorf("krosim %s lists the deprecated --%s:\n%s", strings.Join(args, " "), f.Name, help)
						}
						return
					}
					if strings.TrimSpace(f.Usage) == "" {
						t.Errorf("flag --%s of %s has no usage text", f.Name, c.name)
					}
					if !strings.Contains(help, "--"+f.Name) || !strings.Contains(help, f.Usage) {
						t.Errorf("krosim %s does not list --%s with its usage %q:\n%s", strings.Join(args, " "), f.Name, f.Usage, help)
					}
					if f.Shorthand != "" && !strings.Contains(help, "-"+f.Shorthand+", --"+f.Name) {
						t.Errorf("help of %s does not show -%s for --%s", c.name, f.Shorthand, f.Name)
					}
				})
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	good := filepath.Join("..", "..", "testdata", "rgd", "webapp.yaml")
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{name: "no arguments", args: nil, want: "Usage:"},
		{name: "unknown command", args: []string{"frobnicate"}, want: `krosim: unknown command "frobnicate"`},
		{name: "unknown flag", args: []string{"validate", "--frob", good}, want: "krosim validate: unknown flag: --frob"},
		{name: "missing flag value", args: []string{"validate", good, "-o"}, want: "krosim validate: flag needs an argument"},
		{name: "bad output format", args: []string{"validate", "-o", "yaml", good}, want: `krosim validate: --output must be text or json, not "yaml"`},
		{name: "no files", args: []string{"validate"}, want: "krosim validate: no files given"},
		{name: "bad bool", args: []string{"validate", "--timings=maybe", good}, want: "krosim validate: invalid argument"},
		{name: "standins without a server", args: []string{"standins"}, want: "krosim standins: a cluster is required"},
		{name: "standins with a missing target", args: []string{"standins", "--kubeconfig", good, "--target", "nowhere.yaml"}, want: `krosim standins: target "nowhere.yaml" is neither built in`},
		// checked before measuring: calibrate --kubeconfig measures for minutes
		{name: "calibrate into a missing directory", args: []string{"calibrate", "--out", filepath.Join("no", "such", "t.yaml")}, want: "krosim calibrate: --out no/such/t.yaml: its directory no/such: no such file or directory"},
		{name: "calibrate over a directory", args: []string{"calibrate", "--out", "."}, want: "krosim calibrate: --out .: is a directory, not a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, stderr)
			}
		})
	}
}

// writeFile writes a file in a fresh directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const goodRGD = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: pairs.kro.run
spec:
  schema:
    apiVersion: v1alpha1
    kind: Pair
    spec:
      name: string | default=pair
  resources:
    - id: second
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${first.metadata.name}-second
    - id: first
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.spec.name}
`

func TestValidateGood(t *testing.T) {
	path := writeFile(t, "good.yaml", goodRGD)
	t.Run("text", func(t *testing.T) {
		code, stdout, stderr := run("validate", "--timings=false", path)
		if code != exitOK || stderr != "" {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		for _, want := range []string{
			path + ": pairs.kro.run (Pair.kro.run/v1alpha1)\n",
			"  2 resources, 1 edges, 2 expressions\n",
			"deletion waves: [second] [first]\n",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout does not contain %q:\n%s", want, stdout)
			}
		}
		if strings.Index(stdout, "1. first") > strings.Index(stdout, "2. second") || !strings.Contains(stdout, "1. first") {
			t.Errorf("first is not ordered before second:\n%s", stdout)
		}
		if strings.Contains(stdout, "compiled in") {
			t.Errorf("--timings=false still prints timings:\n%s", stdout)
		}
	})
	t.Run("timings", func(t *testing.T) {
		code, stdout, _ := run("validate", path)
		if code != exitOK || !strings.Contains(stdout, ", compiled in ") {
			t.Errorf("exit %d, stdout without timings:\n%s", code, stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		code, stdout, stderr := run("validate", "-o", "json", path, path)
		if code != exitOK || stderr != "" {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		var out validateJSON
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
		}
		if len(out.RGDs) != 2 {
			t.Fatalf("%d RGDs for two files, want 2", len(out.RGDs))
		}
		r := out.RGDs[0]
		if r.File != path || r.Name != "pairs.kro.run" || r.Kind != "Pair" || r.Expressions != 2 ||
			strings.Join(r.Order, ",") != "first,second" || len(r.Edges) != 1 || r.Edges[0] != [2]string{"first", "second"} {
			t.Errorf("rgd = %+v", r)
		}
	})
}

const badRGD = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: bad.kro.run
spec:
  schema:
    apiVersion: v1alpha1
    kind: Bad
  resources:
    - id: app
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: x-${nothere.metadata.name}
`

func TestValidateBad(t *testing.T) {
	bad := writeFile(t, "bad.yaml", badRGD)
	good := writeFile(t, "good.yaml", goodRGD)
	wantErr := bad + ":15:21: references unknown identifiers: [nothere]\n 15 |           name: x-${nothere.metadata.name}\n    |                     ^\n"
	for _, tt := range []struct {
		name string
		args []string
	}{
		{name: "text", args: []string{"validate", bad}},
		{name: "json", args: []string{"validate", "-o", "json", bad}},
		{name: "json with a good file too", args: []string{"validate", "-o", "json", good, bad}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(tt.args...)
			if code != exitRun {
				t.Errorf("exit %d, want %d", code, exitRun)
			}
			if stderr != wantErr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, wantErr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
	t.Run("text with a good file too", func(t *testing.T) {
		code, stdout, stderr := run("validate", "--timings=false", good, bad)
		if code != exitRun || stderr != wantErr || !strings.HasPrefix(stdout, good+": pairs.kro.run") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope.yaml")
		code, stdout, stderr := run("validate", missing)
		if code != exitRun || stdout != "" || !strings.HasPrefix(stderr, "krosim: validate: open "+missing) {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	for _, content := range []string{"first", "second"} {
		if err := writeFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("file holds %q, want %q", got, content)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1: a temporary file was left behind", len(entries))
	}
	if err := writeFileAtomic(dir, []byte("x")); err == nil || !strings.HasPrefix(err.Error(), "write "+dir+": ") {
		t.Errorf("writing over a directory: %v, want an error naming it", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("%d files beside the directory, want only it: a temporary file was left behind", len(entries))
	}
	missing := filepath.Join(dir, "no", "such", "dir")
	if err := writeFileAtomic(missing, nil); err == nil || err.Error() != "write "+missing+": no such file or directory" {
		t.Errorf("writing into a missing directory: %v, want an error naming the file", err)
	}
}

// TestUnfinishedRunSaysNo checks the summary of a run stopped before its one
// instance was ready: it says no and why, and counts in the singular.
func TestUnfinishedRunSaysNo(t *testing.T) {
	code, stdout, _ := run("run", "--rgd", "../../testdata/rgd/chain.yaml", "--instances", "1", "--workers", "1", "--max-time", "1s")
	if code != exitRun {
		t.Errorf("exit %d, want %d", code, exitRun)
	}
	for _, want := range []string{
		"krosim: 1 instance of chains.kro.run on kro-defaults (1 worker, 8 vCPUs,",
		"  converged:      no (0 of 1 instances ready, 0 failed, 1 still in progress; INCOMPLETE below says why the run stopped)\n",
		"; 1 instance remains\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the summary does not say %q:\n%s", want, stdout)
		}
	}
	for _, bad := range []string{"not converged virtual", "1 workers", "krosim: 1 instances", "1 instances remain", "(1 instances,"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("the summary says %q:\n%s", bad, stdout)
		}
	}
}
