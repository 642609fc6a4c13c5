package cli

import (
	"strings"
	"testing"
)

// Every command's help shows its examples once.
func TestHelpShowsExamplesOnce(t *testing.T) {
	for _, c := range commands {
		if n := strings.Count(c.help(), "Examples:"); c.examples != "" && n != 1 {
			t.Errorf("krosim %s --help shows Examples %d times", c.name, n)
		}
	}
}
