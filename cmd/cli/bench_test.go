package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchWritesItsThreeFiles(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"bench", "--suite", "crud", "--instances", "5", "--count", "1", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"results.json", "bench.txt", "tables.md"} {
		data, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	js, _ := os.ReadFile(filepath.Join(out, "results.json"))
	if !strings.Contains(string(js), `"format": "krosim/bench/v1"`) {
		t.Error("results.json has no format")
	}
	if code := Main([]string{"bench", "--suite", "nope"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("unknown suite: exit %d", code)
	}
}
