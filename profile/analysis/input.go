package analysis

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/pprof/profile"
	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/study"
)

// Kind is what an output directory holds.
type Kind string

// The kinds of krosim output directories.
const (
	Run     Kind = "run"     // krosim run: results.json (krosim/results/v1)
	Profile Kind = "profile" // krosim profile: a run plus wall.pb.gz and flame graphs
	Sweep   Kind = "sweep"   // krosim sweep: sweep.json
	Bench   Kind = "bench"   // krosim bench: results.json (krosim/bench/v1)
)

// Input is one output directory, loaded.
type Input struct {
	Dir  string
	Kind Kind
	// Exactly one of Result, Sweep and Bench is set.
	Result *result.Result
	Sweep  *study.Sweep
	Bench  *bench.Report
	// Wall is a profile directory's virtual-time profile (wall.pb.gz).
	Wall *profile.Profile
}

// Name is how reports refer to the input: its directory.
func (in *Input) Name() string { return in.Dir }

// Real reports whether the input was measured on a real cluster.
func (in *Input) Real() bool {
	switch {
	case in.Result != nil:
		return in.Result.Config.IsReal()
	case in.Bench != nil:
		return in.Bench.Config.Mode == "real"
	}
	return false
}

// Files of the directories Load reads.
const (
	sweepFile       = "sweep.json"
	wallFile        = "wall.pb.gz"
	attributionFile = "attribution.txt" // written by profile only
)

// Load reads the output directory dir: sweep.json makes it a sweep,
// results.json a run (a profile when attribution.txt is beside it; wall.pb.gz is read when present) or a bench
// report, told apart by its format.
func Load(dir string) (*Input, error) {
	in := &Input{Dir: dir}
	data, err := os.ReadFile(filepath.Join(dir, sweepFile))
	switch {
	case err == nil:
		s, err := study.DecodeSweep(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, sweepFile), err)
		}
		in.Kind, in.Sweep = Sweep, s
		return in, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	path := filepath.Join(dir, result.File)
	data, err = os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s or %s: not a krosim output directory (run, profile, sweep or bench)", dir, result.File, sweepFile)
	}
	if err != nil {
		return nil, err
	}
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch head.Format {
	case result.Format:
		r, err := result.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		in.Kind, in.Result = Run, r
		if err := in.loadWall(); err != nil {
			return nil, err
		}
	case bench.Format:
		var r bench.Report
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		in.Kind, in.Bench = Bench, &r
	default:
		return nil, fmt.Errorf("%s: format %q, want %q or %q", path, head.Format, result.Format, bench.Format)
	}
	return in, nil
}

func (in *Input) loadWall() error {
	path := filepath.Join(in.Dir, wallFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	in.Wall = p
	if _, err := os.Stat(filepath.Join(in.Dir, attributionFile)); err == nil {
		in.Kind = Profile
	}
	return nil
}

// LoadAll loads every directory, collecting every problem before failing.
func LoadAll(dirs []string) ([]*Input, error) {
	var ins []*Input
	var errs []error
	for _, d := range dirs {
		in, err := Load(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ins = append(ins, in)
	}
	return ins, errors.Join(errs...)
}
