package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestValidateGolden runs `krosim validate` on every testdata RGD and compares
// its output with testdata/golden/validate. Run with -update to rewrite them.
func TestValidateGolden(t *testing.T) {
	t.Chdir("../..") // so the paths in the output are relative to the repository
	const dir = "testdata/golden/validate"
	used := map[string]bool{}
	files, _ := filepath.Glob("testdata/rgd/*.yaml")
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				ext  string
				args []string
			}{
				{".json", []string{"validate", "-o", "json", file}},
				{".txt", []string{"validate", "--timings=false", file}},
			} {
				var stdout, stderr bytes.Buffer
				code := Main(c.args, &stdout, &stderr)
				// Notes (kinds no schema types) are all stderr may hold.
				notes := strings.Count(stderr.String(), "krosim: validate: note: ") == strings.Count(stderr.String(), "\n")
				if code != 0 || !notes {
					t.Errorf("krosim %s: exit %d, stderr:\n%s", strings.Join(c.args, " "), code, stderr.String())
				}
				golden := filepath.Join(dir, name+c.ext)
				used[golden] = true
				compareGolden(t, golden, stdout.Bytes())
			}
		})
	}
	invalid, _ := filepath.Glob("testdata/rgd/invalid/*.yaml")
	for _, file := range invalid {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run("invalid/"+name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main([]string{"validate", file}, &stdout, &stderr); code != 1 || stdout.Len() > 0 {
				t.Errorf("krosim validate %s: exit %d (want 1), stdout:\n%s", file, code, stdout.String())
			}
			if !strings.HasPrefix(stderr.String(), file+":") {
				t.Errorf("stderr does not start with %s:line:col:\n%s", file, stderr.String())
			}
			golden := filepath.Join(dir, "invalid", name+".txt")
			used[golden] = true
			compareGolden(t, golden, stderr.Bytes())
		})
	}
	// A golden file whose input is gone would otherwise go stale unnoticed.
	all, _ := filepath.Glob(filepath.Join(dir, "*.*"))
	more, _ := filepath.Glob(filepath.Join(dir, "invalid", "*.*"))
	for _, g := range append(all, more...) {
		if used[g] {
			continue
		}
		if *update {
			os.Remove(g)
			continue
		}
		t.Errorf("golden file %s has no input in testdata/rgd; run with -update to remove it", g)
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
