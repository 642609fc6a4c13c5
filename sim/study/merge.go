package study

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ReadShard reads and checks a shard file: its format, its checksums, and
// that each point belongs to the shard and matches the study's grid. Every
// error names the file.
func ReadShard(path string) (*ShardFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := parseShard(path, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

var shardName = regexp.MustCompile(`^shard-(\d+)-of-(\d+)\.json$`)

func parseShard(path string, data []byte) (*ShardFile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f ShardFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a readable shard file: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a readable shard file: data after its JSON object")
	}
	if f.Format != shardFormat {
		return nil, fmt.Errorf("format %q, want %q", f.Format, shardFormat)
	}
	if f.Shards < 1 || f.Shards > MaxShards || f.Shard < 0 || f.Shard >= f.Shards {
		return nil, fmt.Errorf("shard %d of %d is out of range", f.Shard, f.Shards)
	}
	sh := Shard{Index: f.Shard, Of: f.Shards}
	if m := shardName.FindStringSubmatch(filepath.Base(path)); m != nil && filepath.Base(path) != sh.File() {
		return nil, fmt.Errorf("the file holds shard %s, its name says shard %s/%s", sh, m[1], m[2])
	}
	if sum, err := digestJSON(f.Identity); err != nil || sum != f.StudySHA256 {
		return nil, errors.New("corrupt: its identity does not match its study_sha256")
	}
	if f.Points == nil {
		return nil, errors.New("corrupt: no points array")
	}
	if sum, err := digestJSON(f.Points); err != nil || sum != f.PointsSHA256 {
		return nil, errors.New("corrupt: its points do not match their points_sha256")
	}
	if f.Identity.Study == nil || f.Identity.Target == nil {
		return nil, errors.New("corrupt: no study or no target")
	}
	sw := (&Sweep{Study: f.Identity.Study, Points: f.Points}).withQPS(fromNoQPSLimit)
	f.Identity.Study, f.Points = sw.Study, sw.Points
	if err := f.Identity.Study.Validate(); err != nil {
		return nil, err
	}
	g := f.Identity.Study.Grid()
	if len(g.Points) != f.PointsTotal {
		return nil, fmt.Errorf("corrupt: points_total %d, but its study has %d points", f.PointsTotal, len(g.Points))
	}
	if err := checkRows(g, sh, f.Points); err != nil {
		return nil, err
	}
	if owned := len(sh.Points(len(g.Points))); f.Complete != (len(f.Points) == owned) {
		return nil, fmt.Errorf("corrupt: complete is %v with %d of its %d points", f.Complete, len(f.Points), owned)
	}
	return &f, nil
}

// checkRows checks that rows are shard sh's points of grid g, in order, and
// restores what their JSON leaves out.
func checkRows(g *Grid, sh Shard, rows []Row) error {
	last := -1
	for i := range rows {
		r := &rows[i]
		switch {
		case r.Index <= last || r.Index >= len(g.Points):
			return fmt.Errorf("point %d: out of order or outside the grid of %d points", r.Index, len(g.Points))
		case !sh.Owns(r.Index):
			return fmt.Errorf("point %d: not a point of shard %s", r.Index, sh)
		}
		last = r.Index
		p := g.Points[r.Index]
		if r.Seed != p.Seed {
			return fmt.Errorf("point %d: seed %d, its grid point has seed %d", r.Index, r.Seed, p.Seed)
		}
		for j, d := range g.Dims {
			if v, ok := r.Params[d]; !ok || v != p.Values[j] {
				return fmt.Errorf("point %d: %s is %s, its grid point has %s", r.Index, d, FormatValue(d, v), FormatValue(d, p.Values[j]))
			}
		}
		r.values = p.Values
	}
	return nil
}

// Merge joins shard files of one study into the sweep an unsharded run of it
// gives. It refuses shards of different studies or splits and points that
// two files give differently; when no file holds some points it returns a
// *MissingError listing them, never a sweep without them.
func Merge(files []*ShardFile) (*Sweep, error) {
	if len(files) == 0 {
		return nil, errors.New("no shard files")
	}
	ref := files[0]
	for _, f := range files[1:] {
		if f.StudySHA256 != ref.StudySHA256 {
			return nil, fmt.Errorf("%s and %s are not shards of one sweep (study hashes %s, %s): their %s differ",
				ref.Path, f.Path, ref.Short(), f.Short(), identityDiff(ref.Identity, f.Identity))
		}
		if f.Shards != ref.Shards {
			return nil, fmt.Errorf("%s is shard %d/%d, %s is shard %d/%d: merge the shards of one split",
				ref.Path, ref.Shard, ref.Shards, f.Path, f.Shard, f.Shards)
		}
	}
	s := ref.Identity.Study
	g := s.Grid()
	byIndex := make([]*Row, len(g.Points))
	from := make([]*ShardFile, len(g.Points))
	for _, f := range files {
		for i := range f.Points {
			r := &f.Points[i]
			if prev := byIndex[r.Index]; prev != nil {
				a, _ := json.Marshal(prev)
				b, _ := json.Marshal(r)
				if !bytes.Equal(a, b) {
					return nil, fmt.Errorf("point %d differs between %s and %s: the same study gives the same point, so one of them is wrong",
						r.Index, from[r.Index].Path, f.Path)
				}
				continue
			}
			byIndex[r.Index], from[r.Index] = r, f
		}
	}
	if err := missing(files, byIndex); err != nil {
		return nil, err
	}
	rows := make([]Row, len(byIndex))
	for i, r := range byIndex {
		rows[i] = *r
	}
	sw := summarize(s, ref.Identity.Target, g, rows)
	sw.RGDNames = ref.Identity.RGDNames
	return sw, nil
}

// identityDiff names the parts of two identities that differ.
func identityDiff(a, b Identity) string {
	var diff []string
	for _, part := range []struct {
		name string
		a, b any
	}{
		{"study", a.Study, b.Study}, {"target", a.Target, b.Target}, {"RGD names", a.RGDNames, b.RGDNames},
		{"input files", a.Inputs, b.Inputs}, {"krosim versions", a.Krosim, b.Krosim},
	} {
		x, _ := json.Marshal(part.a)
		y, _ := json.Marshal(part.b)
		if !bytes.Equal(x, y) {
			diff = append(diff, part.name)
		}
	}
	if len(diff) == 0 {
		return "identities"
	}
	return strings.Join(diff, ", ")
}

// MissingError says which points no shard file holds, shard by shard.
type MissingError struct {
	Total   int // points in the grid
	Of      int // shards in the split
	Missing []MissingShard
}

// MissingShard is a shard with points missing: none of its files, or files
// that stopped early.
type MissingShard struct {
	Index  int
	Points []int    // the missing points
	Files  []string // the shard's files read, each with why it stopped early
}

// maxListed bounds the points listed per shard in a message.
const maxListed = 20

func (e *MissingError) Error() string {
	n := 0
	for _, m := range e.Missing {
		n += len(m.Points)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d points missing, so nothing was merged:", n, e.Total)
	var rerun []string
	for _, m := range e.Missing {
		sh := Shard{Index: m.Index, Of: e.Of}
		rerun = append(rerun, sh.String())
		why := "no " + sh.File()
		if len(m.Files) > 0 {
			why = strings.Join(m.Files, "; ")
		}
		word := "points"
		if len(m.Points) == 1 {
			word = "point"
		}
		fmt.Fprintf(&b, "\n  shard %s (%s): %s %s", sh, why, word, FormatIndices(m.Points, maxListed))
	}
	fmt.Fprintf(&b, "\nrun the same sweep with --shard %s, then merge again", strings.Join(rerun, ", --shard "))
	return b.String()
}

// FormatIndices lists point indices, the first most of them and how many more.
func FormatIndices(xs []int, most int) string {
	var parts []string
	for i, x := range xs {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(xs)-most))
			break
		}
		parts = append(parts, strconv.Itoa(x))
	}
	return strings.Join(parts, ", ")
}

// missing returns a *MissingError when some point has no row, or nil.
func missing(files []*ShardFile, byIndex []*Row) error {
	n := files[0].Shards
	var out []MissingShard
	at := map[int]int{} // shard -> its place in out
	for i, r := range byIndex {
		if r != nil {
			continue
		}
		k, ok := at[i%n]
		if !ok {
			k = len(out)
			at[i%n] = k
			out = append(out, MissingShard{Index: i % n})
		}
		out[k].Points = append(out[k].Points, i)
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b MissingShard) int { return a.Index - b.Index })
	for k, m := range out {
		at[m.Index] = k
	}
	for _, f := range files {
		if k, ok := at[f.Shard]; ok {
			out[k].Files = append(out[k].Files, f.Path+": "+f.Incomplete)
		}
	}
	return &MissingError{Total: len(byIndex), Of: n, Missing: out}
}
