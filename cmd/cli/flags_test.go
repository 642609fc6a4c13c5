package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestOneMeaningPerFlag checks that a flag name means one thing in every
// command: -o/--output an output format, --out a file or directory.
func TestOneMeaningPerFlag(t *testing.T) {
	for _, c := range commands {
		fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
		c.flags(fs)
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Deprecated != "" {
				return
			}
			switch {
			case f.Shorthand == "o" && f.Name != "output":
				t.Errorf("%s: -o is --%s, want --output", c.name, f.Name)
			case f.Name == "output" && !strings.HasPrefix(f.Usage, "output format: "):
				t.Errorf("%s: --output is not an output format: %q", c.name, f.Usage)
			case f.Name == "out" && strings.Contains(f.Usage, "format"):
				t.Errorf("%s: --out is a format: %q", c.name, f.Usage)
			case strings.Contains(f.Usage, "output format") && f.Name != "output":
				t.Errorf("%s: the output format is --%s, want -o/--output", c.name, f.Name)
			}
		})
	}
}

// TestDeprecatedSpellings checks that the old spellings of --out and
// --output still work, with a warning on stderr and nothing else changed.
func TestDeprecatedSpellings(t *testing.T) {
	dir := t.TempDir()
	newFile, oldFile := filepath.Join(dir, "new.yaml"), filepath.Join(dir, "old.yaml")
	for _, tt := range []struct {
		name     string
		old, new []string
		warning  string
		files    [2]string // written by old and new, compared; empty: compare stdout
	}{
		{"gen -o", []string{"gen", "-o", oldFile}, []string{"gen", "--out", newFile}, "Flag --output has been deprecated, use --out FILE", [2]string{oldFile, newFile}},
		{"gen --output", []string{"gen", "--output", oldFile}, []string{"gen", "--out", newFile}, "Flag --output has been deprecated", [2]string{oldFile, newFile}},
		{"compare --format", []string{"compare", "--format", "markdown-header"}, []string{"compare", "-o", "markdown-header"}, "Flag --format has been deprecated, use -o/--output", [2]string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, oldOut, oldErr := run(tt.old...)
			if code != exitOK || !strings.Contains(oldErr, tt.warning) {
				t.Fatalf("krosim %s: exit %d, stderr %q, want a warning %q", strings.Join(tt.old, " "), code, oldErr, tt.warning)
			}
			code, newOut, newErr := run(tt.new...)
			if code != exitOK || newErr != "" {
				t.Fatalf("krosim %s: exit %d, stderr %q", strings.Join(tt.new, " "), code, newErr)
			}
			if tt.files[0] != "" {
				oldOut, newOut = readString(t, tt.files[0]), readString(t, tt.files[1])
			}
			if oldOut != newOut || newOut == "" {
				t.Errorf("old and new spellings differ or wrote nothing:\n%.200s\n---\n%.200s", oldOut, newOut)
			}
		})
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
