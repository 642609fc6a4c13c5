package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runStdin runs krosim with stdin as its standard input.
func runStdin(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = execute(args, strings.NewReader(stdin), &out, &errb, notifySignals)
	return code, out.String(), errb.String()
}

// listOf writes RGD files as the items of a kind: List.
func listOf(t *testing.T, files ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rgd", f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			switch {
			case strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "":
				continue
			case i == 0 || strings.HasPrefix(line, "apiVersion: kro.run"):
				b.WriteString("- " + line + "\n")
			default:
				b.WriteString("  " + line + "\n")
			}
		}
	}
	return b.String()
}

func TestStdin(t *testing.T) {
	chain := filepath.Join("..", "..", "testdata", "rgd", "chain.yaml")
	list := listOf(t, "chain.yaml", "webapp.yaml")

	t.Run("validate - of a List is validate of the files", func(t *testing.T) {
		code, fromStdin, stderr := runStdin(list, "validate", "-o", "json", "-")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		_, fromFiles, _ := run("validate", "-o", "json", chain, filepath.Join("..", "..", "testdata", "rgd", "webapp.yaml"))
		stdinJSON := `\u003cstdin\u003e` // encoding/json escapes < and >
		want := strings.ReplaceAll(strings.ReplaceAll(fromFiles, chain, stdinJSON), filepath.Join("..", "..", "testdata", "rgd", "webapp.yaml"), stdinJSON)
		if fromStdin != want {
			t.Errorf("validate - differs from validate of the files:\n%s\nwant:\n%s", fromStdin, want)
		}
	})
	t.Run("run --rgd - is run --rgd FILE", func(t *testing.T) {
		data, _ := os.ReadFile(chain)
		code, fromStdin, stderr := runStdin(string(data), "run", "--rgd", "-", "--instances", "5")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		_, fromFile, _ := run("run", "--rgd", chain, "--instances", "5")
		if fromStdin != fromFile {
			t.Errorf("run --rgd - differs:\n%s\nwant:\n%s", fromStdin, fromFile)
		}
	})
	t.Run("a problem in a List item names <stdin> and its line", func(t *testing.T) {
		bad := strings.Replace(list, "${settings.data.greeting}", "${nothere}", 1)
		code, stdout, stderr := runStdin(bad, "validate", "-")
		line := 1 + strings.Count(bad[:strings.Index(bad, "${nothere}")], "\n")
		want := "<stdin>:" + strconv.Itoa(line) + ":"
		if code != exitRun || stdout != "" || !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "token: ${nothere}") {
			t.Errorf("exit %d, stderr:\n%s\nwant it to start with %s and show the line", code, stderr, want)
		}
	})
	t.Run("stdin twice", func(t *testing.T) {
		code, _, stderr := runStdin(list, "run", "--rgd", "-", "--crd", "-")
		if code != exitUsage || !strings.Contains(stderr, "standard input (-) is given 2 times") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})
}
