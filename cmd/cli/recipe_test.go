package cli

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestCIRecipe: every krosim command line of the example workflow names a
// command and flags krosim has, so the recipe works when copied.
func TestCIRecipe(t *testing.T) {
	data, err := os.ReadFile("../../.ci/examples/krosim-pr.yml")
	if err != nil {
		t.Fatal(err)
	}
	lines := regexp.MustCompile(`(?m)^\s*krosim (\w+)(.*)$`).FindAllStringSubmatch(string(data), -1)
	if len(lines) < 3 {
		t.Fatalf("found %d krosim command lines, want run (base and new) and analyze", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		c := lookup(l[1])
		if c == nil {
			t.Errorf("the recipe runs an unknown command: krosim %s", l[1])
			continue
		}
		seen[c.name] = true
		fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.flags(fs)
		for _, f := range regexp.MustCompile(`\s(--[a-z-]+|-[a-z])\b`).FindAllStringSubmatch(l[2], -1) {
			name := strings.TrimLeft(f[1], "-")
			if fs.Lookup(name) == nil && fs.ShorthandLookup(name) == nil {
				t.Errorf("krosim %s has no flag %s", c.name, f[1])
			}
		}
	}
	if !seen["run"] || !seen["analyze"] {
		t.Errorf("the recipe runs %v, want run and analyze", seen)
	}
	if !strings.Contains(string(data), "-o markdown") {
		t.Error("the recipe does not post analyze's Markdown")
	}
}
