package study

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/target"
)

// Shard is one share of a grid: the points whose index mod Of is Index.
// Taking every Of-th point spreads each dimension's costly end (the most
// instances, the slowest API) over all shards instead of giving it to one.
type Shard struct{ Index, Of int }

// JobIndexEnv is the variable Kubernetes sets to each pod's index in an
// Indexed Job; the shard "auto/N" takes its index from it.
const JobIndexEnv = "JOB_COMPLETION_INDEX"

// MaxShards bounds a split: more shards than MaxPoints could only be empty.
const MaxShards = MaxPoints

// ParseShard reads "I/N" (shard I of N, 0 <= I < N), or "auto/N", whose I is
// the value of JobIndexEnv as getenv returns it.
func ParseShard(spec string, getenv func(string) (string, bool)) (Shard, error) {
	i, n, ok := strings.Cut(spec, "/")
	if !ok {
		return Shard{}, fmt.Errorf("--shard %q: want I/N (shard I of N, 0 <= I < N) or auto/N (I from $%s)", spec, JobIndexEnv)
	}
	of, err := strconv.Atoi(n)
	if err != nil || of < 1 || of > MaxShards {
		return Shard{}, fmt.Errorf("--shard %q: N must be an integer from 1 to %d", spec, MaxShards)
	}
	from := ""
	if i == "auto" {
		v, set := getenv(JobIndexEnv)
		if !set {
			return Shard{}, fmt.Errorf("--shard %q: $%s is not set (Kubernetes sets it in an Indexed Job's pods; elsewhere give I/N)", spec, JobIndexEnv)
		}
		i, from = v, fmt.Sprintf(" ($%s=%q)", JobIndexEnv, v)
	}
	index, err := strconv.Atoi(i)
	if err != nil || index < 0 || index >= of {
		return Shard{}, fmt.Errorf("--shard %q%s: I must be an integer from 0 to %d", spec, from, of-1)
	}
	return Shard{Index: index, Of: of}, nil
}

func (sh Shard) String() string { return fmt.Sprintf("%d/%d", sh.Index, sh.Of) }

// Owns reports whether point i is the shard's.
func (sh Shard) Owns(i int) bool { return i%sh.Of == sh.Index }

// File is the name of the shard's file: shard-I-of-N.json.
func (sh Shard) File() string { return fmt.Sprintf("shard-%d-of-%d.json", sh.Index, sh.Of) }

// Points lists the indices of the shard's points in a grid of total points.
func (sh Shard) Points(total int) []int {
	var out []int
	for i := sh.Index; i < total; i += sh.Of {
		out = append(out, i)
	}
	return out
}

// Input is a file a sweep read, by its SHA-256.
type Input struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Digest reads each file and records its SHA-256.
func Digest(files []string) ([]Input, error) {
	out := make([]Input, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out = append(out, Input{File: f, SHA256: hex.EncodeToString(sum[:])})
	}
	return out, nil
}

// Files are the files the study reads: its RGDs and its target, unless built in.
func (s *Study) Files() []string {
	files := slices.Clone(s.RGDs)
	if !slices.Contains(target.Builtins(), s.Target) {
		files = append(files, s.Target)
	}
	return files
}

// Identity is everything a sweep's outputs depend on besides its points:
// shards merge only when their identities are equal.
type Identity struct {
	Study    *Study         `json:"study"`
	Target   *target.Target `json:"target"` // the base target, as sweep.json's
	RGDNames []string       `json:"rgd_names"`
	// Inputs are the RGD, CRD and target files read, by content.
	Inputs []Input `json:"inputs"`
	// Krosim is the version of krosim that ran the shard.
	Krosim string `json:"krosim"`
}

// Provenance is what the caller knows of a shard's inputs beyond the study:
// the files it read and the krosim reading them.
type Provenance struct {
	Inputs []Input
	Krosim string
}

// ShardFile is a shard's results: every point it finished, in full, and the
// identity of its study. Its JSON form is shard-I-of-N.json; like sweep.json
// it says qps none as NoQPSLimit.
type ShardFile struct {
	Format      string   `json:"format"`
	Shard       int      `json:"shard"`
	Shards      int      `json:"shards"`
	StudySHA256 string   `json:"study_sha256"` // of Identity's JSON
	Identity    Identity `json:"identity"`
	PointsTotal int      `json:"points_total"` // of the whole grid
	// Complete says the shard finished every point it owns.
	Complete     bool   `json:"complete"`
	Incomplete   string `json:"incomplete,omitempty"`
	PointsSHA256 string `json:"points_sha256"` // of Points' JSON
	Points       []Row  `json:"points"`

	// Path is the file it was read from, for messages.
	Path string `json:"-"`
}

const shardFormat = "krosim/sweep-shard/v1"

// RunShard runs the points of study s that shard sh owns, as Run would run
// them, and returns them with the study's identity for Merge.
func RunShard(ctx context.Context, s *Study, rgds []*model.RGD, sh Shard, prov Provenance, opts Options) (*ShardFile, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	base, g, cfgs, err := s.Configs()
	if err != nil {
		return nil, err
	}
	owned := sh.Points(len(g.Points))
	rows, err := runPoints(ctx, g, cfgs, owned, rgds, opts)
	if err != nil {
		return nil, err
	}
	f := &ShardFile{Format: shardFormat, Shard: sh.Index, Shards: sh.Of, PointsTotal: len(g.Points),
		Identity: Identity{Study: s, Target: base, RGDNames: rgdNames(rgds), Inputs: prov.Inputs, Krosim: prov.Krosim},
		Complete: len(rows) == len(owned), Points: rows}
	if !f.Complete {
		f.Incomplete = interruption(ctx, len(rows), len(owned))
		if f.Incomplete == "" {
			f.Incomplete = fmt.Sprintf("interrupted: %d of %d points finished", len(rows), len(owned))
		}
	}
	return f, nil
}

// JSON is shard-I-of-N.json, with its checksums.
func (f *ShardFile) JSON() ([]byte, error) {
	out := *f
	sw := (&Sweep{Study: f.Identity.Study, Points: f.Points}).withQPS(toNoQPSLimit)
	out.Identity.Study, out.Points = sw.Study, sw.Points
	if out.Points == nil {
		out.Points = []Row{}
	}
	var err error
	if out.StudySHA256, err = digestJSON(out.Identity); err != nil {
		return nil, err
	}
	if out.PointsSHA256, err = digestJSON(out.Points); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// digestJSON is the SHA-256 of v's compact JSON.
func digestJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Short is a shard's study hash as messages show it.
func (f *ShardFile) Short() string { return f.StudySHA256[:min(12, len(f.StudySHA256))] }
