package krosim_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/krosim/krosim/cmd/cli"
)

// TestFormatsDocumented runs a small run, a small sweep, a shard of one and a
// small bench, walks every key path of their results.json, sweep.json,
// shard-I-of-N.json and bench results.json, and fails for each path sim/result/formats.md does not document
// (a line starting with the path in backticks). Arrays are walked element by
// element and written [], e.g. `points[].config.qps`; maps whose keys are
// data (verbs, resources, phases, ...) are written with a placeholder, e.g.
// `api.verbs.<verb>.calls`.
func TestFormatsDocumented(t *testing.T) {
	documented := documentedPaths(t)
	dir := t.TempDir()
	runs := []struct {
		file, section, target, args string
	}{
		{"run/results.json", "results.json", "config.target", "run --rgd testdata/rgd/webapp.yaml --instances 5 --update 0.5 --delete --out " + filepath.Join(dir, "run")},
		{"sweep/sweep.json", "sweep.json", "target", "sweep --rgd testdata/rgd/webapp.yaml --instances 5 --vary workers=1,2 --quiet --out " + filepath.Join(dir, "sweep")},
		{"shard/shard-1-of-2.json", "shard", "identity.target", "sweep --rgd testdata/rgd/webapp.yaml --instances 5 --vary qps=10,none --vary workers=1,2 --shard 1/2 --quiet --out " + filepath.Join(dir, "shard")},
		{"bench/results.json", "bench", "config.target", "bench --suite crud,cel,usage --count 1 --instances 10 --usage-instances 10,20 --host-seconds 0.001 --out " + filepath.Join(dir, "bench")},
	}
	for _, r := range runs {
		var stdout, stderr bytes.Buffer
		if code := cli.Main(strings.Fields(r.args), &stdout, &stderr); code != 0 {
			t.Fatalf("krosim %s: exit %d\n%s", r.args, code, stderr.String())
		}
		b, err := os.ReadFile(filepath.Join(dir, r.file))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", r.file, err)
		}
		paths := map[string]bool{}
		walkKeys(v, "", paths)
		var missing []string
		for p := range paths {
			// The target is one object wherever it is embedded, documented
			// once, in its own section, as target.FIELD.
			if p == r.target || strings.HasPrefix(p, r.target+".") {
				if q := "target" + strings.TrimPrefix(p, r.target); !documented["target"][q] {
					t.Errorf("%s: key path `%s` is not documented in sim/result/formats.md (section \"The target\", as `%s`)", r.file, p, q)
				}
				continue
			}
			// A shard's study and points are sweep.json's, documented there.
			if q, ok := strings.CutPrefix(p, "identity."); ok && r.section == "shard" && (q == "study" || strings.HasPrefix(q, "study.")) && documented["sweep.json"][q] {
				continue
			}
			if strings.HasPrefix(p, "points[].") && r.section == "shard" && documented["sweep.json"][p] {
				continue
			}
			if !documented[r.section][p] {
				missing = append(missing, p)
			}
		}
		sort.Strings(missing)
		for _, p := range missing {
			t.Errorf("%s: key path `%s` is not documented in sim/result/formats.md (section %q)", r.file, p, r.section)
		}
	}
}

// documentedPaths reads sim/result/formats.md: each "## " heading opens a section
// ("shard" if it says shard, "bench" if it says bench, else "sweep.json", "results.json" or "target",
// whichever it names first), and each line starting with a path in
// backticks (or a list item that does) documents that path in its section.
func documentedPaths(t *testing.T) map[string]map[string]bool {
	doc, err := os.ReadFile("sim/result/formats.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	section := ""
	line := regexp.MustCompile("^(?:- )?`([^`]+)`")
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "## ") {
			switch h := strings.ToLower(l); {
			case strings.Contains(h, "shard"):
				section = "shard"
			case strings.Contains(h, "bench"):
				section = "bench"
			case strings.Contains(h, "sweep.json"):
				section = "sweep.json"
			case strings.Contains(h, "results.json"):
				section = "results.json"
			case strings.Contains(h, "target"):
				section = "target"
			default:
				section = ""
			}
			continue
		}
		if m := line.FindStringSubmatch(l); m != nil && section != "" {
			if out[section] == nil {
				out[section] = map[string]bool{}
			}
			out[section][m[1]] = true
		}
	}
	return out
}

// varKeys are the maps whose keys are data, not field names, by the key
// path of the map (placeholders included), and the placeholder their keys
// become. The target's maps are listed as the run embeds it.
var varKeys = map[string]string{
	"api.verbs":                                "<verb>",
	"attribution":                              "<phase>",
	"summary.api_calls":                        "<verb>",
	"summary.api_calls_by_resource":            "<resource>",
	"summary.api_calls_by_resource.<resource>": "<verb>",
	"summary.world_api_calls":                  "<verb>",
	"summary.requeues":                         "<reason>",
	"summary.instances_end.failed_reasons":     "<reason>",
	"config.target.latency":                    "<verb>",
	"config.target.faults":                     "<verb>",
	"config.target.readiness":                  "<kind>",
	"target.latency":                           "<verb>",
	"target.faults":                            "<verb>",
	"target.readiness":                         "<kind>",
	"points[].attribution_shares":              "<phase>",
	"groups[].params":                          "<dimension>",
	"knees[].fixed":                            "<dimension>",
	"study.dimensions":                         "<dimension>",
	"identity.study.dimensions":                "<dimension>",
	"identity.target.latency":                  "<verb>",
	"identity.target.faults":                   "<verb>",
	"identity.target.readiness":                "<kind>",
	"benchmarks[].metrics":                     "<metric>",
	"host.benchmarks[].metrics":                "<metric>",
}

// placeholder names the key k of the map at path when the map's keys are
// data rather than field names: a verb, a resource, a phase, ...
func placeholder(path, k string) string {
	if p, ok := varKeys[path]; ok {
		return p
	}
	return k
}

func walkKeys(v any, path string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := placeholder(path, k)
			if path != "" {
				p = path + "." + p
			}
			out[p] = true
			walkKeys(e, p, out)
		}
	case []any:
		for _, e := range x {
			walkKeys(e, path+"[]", out)
		}
	}
}
