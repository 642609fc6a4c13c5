package krosim_test

import (
	"go/build"
	"os/exec"
	"strings"
	"testing"
)

// allowed states which of krosim's packages each package may import: data
// flows model -> sim -> profile -> cmd, and nothing imports backwards. A new
// package must be added here, deliberately.
var allowed = map[string][]string{
	"model":         {"model/openapi", "model/synth"}, // its benchmarks generate RGDs
	"model/synth":   {},
	"model/openapi": {"model/openapi/internal/builtin"}, // its test regenerates the built-in schemas
	// go generate: builtin.json.gz from client-go's module
	"model/openapi/internal/smd":     {"model/openapi"},
	"model/openapi/internal/builtin": {"model/openapi", "model/openapi/internal/smd"},
	"model/openapi/gen":              {"model/openapi/internal/builtin"},
	"sim/kernel":                     {},
	"sim/verb":                       {},
	"sim/target":                     {"sim/verb"},
	"sim/span":                       {"sim/verb"},
	"sim/tape":                       {},
	"sim/queue":                      {"sim/kernel", "sim/tape"},
	"sim/api":                        {"sim/kernel", "sim/tape", "sim/target", "sim/verb"},
	"sim/world":                      {"model", "sim/api", "sim/kernel", "sim/target", "sim/verb"},
	"sim/workload":                   {"model"},
	"sim/result":                     {"model", "sim/span", "sim/target", "sim/verb", "sim/workload"},
	"sim/kro":                        {"model", "sim/api", "sim/kernel", "sim/queue", "sim/span", "sim/tape", "sim/target", "sim/verb"},
	"sim/kro/krotest":                {"sim/kro"}, // tests' TestMain, checking untracked CEL costs
	"sim":                            {"model", "model/synth", "sim/api", "sim/kernel", "sim/kro", "sim/kro/krotest", "sim/queue", "sim/result", "sim/span", "sim/tape", "sim/target", "sim/verb", "sim/workload", "sim/world"},
	// The stand-in controller of a real run writes the simulated world's
	// statuses (sim/world's rules, shared so the two cannot drift).
	"sim/cluster":     {"model", "sim/result", "sim/target", "sim/verb", "sim/workload", "sim/world"},
	"sim/calibration": {"model", "model/synth", "sim", "sim/cluster", "sim/result", "sim/target", "sim/verb"},
	"sim/study":       {"model", "sim", "sim/result", "sim/span", "sim/target", "sim/verb", "sim/workload"},
	"sim/study/job":   {"sim/study"},
	"profile/flame":   {},
	"profile":         {"model", "profile/flame", "sim", "sim/result", "sim/span", "sim/target", "sim/verb", "sim/workload"},
	// bench runs simulations (sim), runs and maps real ones (sim/cluster,
	// sim/result) and generates graphs (model/synth).
	"profile/bench": {"model", "model/synth", "sim", "sim/cluster", "sim/result", "sim/span", "sim/target", "sim/verb", "sim/workload"},
	"profile/chart": {"profile/analysis", "profile/bench", "sim", "sim/result", "sim/span", "sim/study", "sim/target", "sim/verb"},
	// analysis reads every output directory: runs, sweeps, bench reports.
	"profile/analysis": {"profile/bench", "sim/result", "sim/span", "sim/study", "sim/target", "sim/verb"},
	"profile/report":   {"profile/analysis", "profile/bench", "profile/chart", "profile/flame", "sim/result", "sim/study", "sim/target", "sim/verb"},
	"cmd/cli":          {"*"},
	"cmd/krosim":       {"cmd/cli", "sim"},
}

const module = "github.com/krosim/krosim/"

func TestImportPolicy(t *testing.T) {
	out, err := exec.Command("go", "list", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, path := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(path, module)
		if rel == "github.com/krosim/krosim" {
			continue // this test
		}
		allow, ok := allowed[rel]
		if !ok {
			t.Errorf("package %s is not in the import policy: add it to allowed", rel)
			continue
		}
		pkg, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		// Tests count too: a test that imports a later package is a backwards edge.
		imports := append(append(append([]string{}, pkg.Imports...), pkg.TestImports...), pkg.XTestImports...)
		for _, imp := range imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if dep == rel {
				continue // an external test package importing its own package
			}
			if !contains(allow, dep) && !contains(allow, "*") {
				t.Errorf("%s imports %s, which the policy does not allow (allowed: %v)", rel, dep, allow)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
