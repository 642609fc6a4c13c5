package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestUnknownCommandsSuggestAndFail(t *testing.T) {
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"rnu"}, `krosim: unknown command "rnu"; did you mean run?`, exitUsage},
		{[]string{"swep", "--rgd", "x"}, `krosim: unknown command "swep"; did you mean sweep?`, exitUsage},
		{[]string{"zzzzzz"}, `krosim: unknown command "zzzzzz"` + "\n", exitUsage},
		{[]string{"help", "nosuch"}, `krosim help: unknown command "nosuch"`, exitUsage},
		{[]string{"help", "valdate"}, `did you mean validate?`, exitUsage},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Main(tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) || stdout.Len() != 0 {
			t.Errorf("krosim %s: exit %d, stderr %q, stdout %q; want exit %d and %q",
				strings.Join(tt.args, " "), code, stderr.String(), stdout.String(), tt.code, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"version"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "krosim ") || !strings.Contains(stdout.String(), "(commit ") || !strings.Contains(stdout.String(), " go1.") {
		t.Errorf("version printed %q", stdout.String())
	}
	if code := Main([]string{"version", "extra"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("version with an argument: exit %d, want %d", code, exitUsage)
	}
}

// krosim --version answers as krosim version does.
func TestVersionFlag(t *testing.T) {
	var stdout, stderr, want bytes.Buffer
	if code := Main([]string{"--version"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("krosim --version: exit %d: %s", code, stderr.String())
	}
	Main([]string{"version"}, &want, &stderr)
	if stdout.String() != want.String() || !strings.HasPrefix(stdout.String(), "krosim ") {
		t.Errorf("krosim --version printed %q, want %q", stdout.String(), want.String())
	}
}
