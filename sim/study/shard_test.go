package study

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shardStudy is 6 points, qps none among them (sweep.json's -1), two seeds,
// each a run of 5 instances: small enough to run many times.
func shardStudy() *Study {
	s := &Study{RGDs: []string{chain}, Seeds: []uint64{1, 2},
		Dimensions: map[string][]float64{QPS: {0, 20, 200}, LatencyScale: {10}}}
	s.Workload.Instances = 5
	s.SetDefaults()
	return s
}

// rendered is every output of a sweep: sweep.json, sweep.csv and the text.
func rendered(t *testing.T, sw *Sweep) string {
	t.Helper()
	js, err := sw.JSON()
	if err != nil {
		t.Fatal(err)
	}
	csv, err := sw.CSV()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := sw.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	return string(js) + "\n-- csv --\n" + string(csv) + "\n-- text --\n" + text.String()
}

// runShards runs every shard of n into dir through its JSON file, and reads them back.
func runShards(t *testing.T, s *Study, n int, dir string, prov Provenance) []*ShardFile {
	t.Helper()
	rgds := loadChain(t)
	var files []*ShardFile
	for i := range n {
		sh := Shard{Index: i, Of: n}
		f, err := RunShard(context.Background(), s, rgds, sh, prov, Options{Parallel: 2})
		if err != nil {
			t.Fatal(err)
		}
		if want := len(sh.Points(f.PointsTotal)); !f.Complete || len(f.Points) != want {
			t.Fatalf("shard %s: complete %v with %d points, want %d", sh, f.Complete, len(f.Points), want)
		}
		js, err := f.JSON()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, sh.File())
		if err := os.WriteFile(path, js, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := ReadShard(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, back)
	}
	return files
}

func TestMergedShardsEqualSequentialSweep(t *testing.T) {
	sw, err := Run(context.Background(), shardStudy(), loadChain(t), Options{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := rendered(t, sw)
	if !strings.Contains(want, `"qps": -1`) {
		t.Fatal("the study does not exercise qps none")
	}
	for _, n := range []int{1, 3, 8} { // 8 shards of 6 points: two are empty
		files := runShards(t, shardStudy(), n, t.TempDir(), Provenance{Krosim: "test"})
		merged, err := Merge(files)
		if err != nil {
			t.Fatalf("%d shards: %v", n, err)
		}
		if got := rendered(t, merged); got != want {
			t.Errorf("%d shards merged differ from the sequential sweep:\n%s\n-- want --\n%s", n, got, want)
		}
	}
}

func TestMergeReportsMissingPoints(t *testing.T) {
	files := runShards(t, shardStudy(), 4, t.TempDir(), Provenance{})
	// Shard 1 never ran; shard 0 was interrupted after its first point (of 2).
	cut := *files[0]
	cut.Points, cut.Complete, cut.Incomplete = cut.Points[:1], false, "interrupted by SIGTERM: 1 of 2 points finished"
	_, err := Merge([]*ShardFile{files[3], &cut, files[2]})
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want a *MissingError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"3 of 6 points missing, so nothing was merged",
		"shard 0/4 (" + cut.Path + ": interrupted by SIGTERM: 1 of 2 points finished): point 4\n",
		"shard 1/4 (no shard-1-of-4.json): points 1, 5\n",
		"--shard 0/4, --shard 1/4",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q:\n%s", want, msg)
		}
	}
	if len(me.Missing) != 2 || me.Missing[0].Index != 0 || me.Missing[1].Index != 1 {
		t.Errorf("missing %+v, want point 4 of shard 0 and points 1 and 5 of shard 1", me.Missing)
	}
}

func TestMergeRefuses(t *testing.T) {
	dir := t.TempDir()
	files := runShards(t, shardStudy(), 2, dir, Provenance{Krosim: "v1"})
	other := shardStudy()
	other.Workload.Instances = 6
	others := runShards(t, other, 2, t.TempDir(), Provenance{Krosim: "v1"})
	wrongN := runShards(t, shardStudy(), 3, t.TempDir(), Provenance{Krosim: "v1"})
	newer := runShards(t, shardStudy(), 2, t.TempDir(), Provenance{Krosim: "v2"})
	disagree := *files[1]
	disagree.Path = "elsewhere/" + disagree.Path
	disagree.Points = append([]Row(nil), disagree.Points...)
	disagree.Points[0].Reconciles++

	tests := []struct {
		name  string
		files []*ShardFile
		want  string
	}{
		{"different studies", []*ShardFile{files[0], others[1]}, "are not shards of one sweep"},
		{"different study names the part", []*ShardFile{files[0], others[1]}, "their study differ"},
		{"different krosim", []*ShardFile{files[0], newer[1]}, "their krosim versions differ"},
		{"different splits", []*ShardFile{files[0], wrongN[1]}, "merge the shards of one split"},
		{"duplicates that disagree", []*ShardFile{files[0], files[1], &disagree}, "point 1 differs between " + files[1].Path + " and elsewhere/"},
		{"nothing", nil, "no shard files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw, err := Merge(tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) || sw != nil {
				t.Errorf("err = %v, want %q and no sweep", err, tt.want)
			}
		})
	}
	// The same shard twice (a retried pod) is no conflict.
	if _, err := Merge([]*ShardFile{files[0], files[1], files[1]}); err != nil {
		t.Errorf("a duplicate shard that agrees: %v", err)
	}
}

func TestReadShardRefusesCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(runShards(t, shardStudy(), 2, dir, Provenance{})[1].Path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(good)
	tests := []struct {
		name, file, data, want string
	}{
		{"truncated", "shard-1-of-2.json", text[:len(text)/2], "not a readable shard file"},
		{"not JSON", "shard-1-of-2.json", "hello", "not a readable shard file"},
		{"unknown field", "shard-1-of-2.json", strings.Replace(text, `"format"`, `"colour": 1, "format"`, 1), `unknown field "colour"`},
		{"other format", "shard-1-of-2.json", strings.Replace(text, shardFormat, "krosim/sweep/v1", 1), `format "krosim/sweep/v1"`},
		{"a number changed", "shard-1-of-2.json", strings.Replace(text, `"reconciles": `, `"reconciles": 1`, 1), "points do not match their points_sha256"},
		{"the study changed", "shard-1-of-2.json", strings.Replace(text, `"instances": 5`, `"instances": 6`, 1), "identity does not match its study_sha256"},
		{"renamed", "shard-0-of-2.json", text, "holds shard 1/2, its name says shard 0/2"},
		{"trailing data", "shard-1-of-2.json", text + "{}", "data after its JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.data == text && tt.name != "renamed" {
				t.Fatal("the corruption did not change the file")
			}
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := ReadShard(path)
			if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tt.want) || f != nil {
				t.Errorf("err = %v, want one naming %s and saying %q", err, path, tt.want)
			}
		})
	}
}

func TestParseShard(t *testing.T) {
	env := func(v string, set bool) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k != JobIndexEnv {
				t.Errorf("looked up $%s", k)
			}
			return v, set
		}
	}
	tests := []struct {
		spec   string
		getenv func(string) (string, bool)
		want   Shard
		err    string
	}{
		{"0/1", env("", false), Shard{0, 1}, ""},
		{"2/3", env("0", true), Shard{2, 3}, ""}, // an explicit index wins
		{"auto/4", env("3", true), Shard{3, 4}, ""},
		{"3/3", env("", false), Shard{}, "I must be an integer from 0 to 2"},
		{"-1/3", env("", false), Shard{}, "I must be an integer from 0 to 2"},
		{"1/0", env("", false), Shard{}, "N must be an integer from 1"},
		{"4", env("", false), Shard{}, "want I/N"},
		{"auto/4", env("", false), Shard{}, "$JOB_COMPLETION_INDEX is not set"},
		{"auto/4", env("4", true), Shard{}, `($JOB_COMPLETION_INDEX="4"): I must be an integer from 0 to 3`},
		{"auto/4", env("x", true), Shard{}, "I must be"},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.spec, tt.getenv)
		if tt.err == "" && (err != nil || got != tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.spec, got, err, tt.want)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: err = %v, want %q", tt.spec, err, tt.err)
		}
	}
}

func TestShardsCoverTheGridOnce(t *testing.T) {
	for _, n := range []int{1, 2, 5, 13} {
		seen := make([]int, 10)
		for i := range n {
			sh := Shard{Index: i, Of: n}
			for _, p := range sh.Points(len(seen)) {
				if !sh.Owns(p) {
					t.Errorf("shard %s lists point %d it does not own", sh, p)
				}
				seen[p]++
			}
		}
		for p, k := range seen {
			if k != 1 {
				t.Errorf("%d shards: point %d in %d shards", n, p, k)
			}
		}
	}
}
