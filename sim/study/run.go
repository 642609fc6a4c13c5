package study

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/target"
)

// Options are the host-side settings of a sweep; they never change its results.
type Options struct {
	// Parallel is how many points run at once (default: GOMAXPROCS).
	Parallel int
	// Progress, when set, is called once per finished point, from one goroutine at a time.
	Progress func(Progress)
}

// Progress reports one finished point.
type Progress struct {
	Done, Total int
	Row         *Row
}

// Configs resolves the base target and builds the run config of every point
// of the grid, without running any: an error here is the study's, not a run's.
func (s *Study) Configs() (*target.Target, *Grid, []result.Config, error) {
	base, err := target.Lookup(s.Target)
	if err != nil {
		return nil, nil, nil, err
	}
	g := s.Grid()
	cfgs := make([]result.Config, len(g.Points))
	for i, p := range g.Points {
		if cfgs[i], err = s.Config(g, p, base); err != nil {
			return nil, nil, nil, err
		}
	}
	return base, g, cfgs, nil
}

// Run runs every point of the study over rgds and summarizes them. Points run
// in parallel, each in its own simulation; rows are placed by index, so the
// sweep is the same whatever the parallelism. When ctx is cancelled no new
// point starts; the running ones finish and the sweep is marked incomplete.
func Run(ctx context.Context, s *Study, rgds []*model.RGD, opts Options) (*Sweep, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	base, g, cfgs, err := s.Configs()
	if err != nil {
		return nil, err
	}
	all := make([]int, len(g.Points))
	for i := range all {
		all[i] = i
	}
	finished, err := runPoints(ctx, g, cfgs, all, rgds, opts)
	if err != nil {
		return nil, err
	}
	sw := summarize(s, base, g, finished)
	if why := interruption(ctx, len(finished), len(g.Points)); !sw.Complete && why != "" {
		sw.Incomplete = why
	}
	sw.RGDNames = rgdNames(rgds)
	return sw, nil
}

// interruption says why a run stopped after done of total points, when the
// caller cancelled ctx with a cause ("interrupted by SIGTERM: ..."), or "".
func interruption(ctx context.Context, done, total int) string {
	cause := context.Cause(ctx)
	if cause == nil || cause == context.Canceled {
		return ""
	}
	return fmt.Sprintf("%v: %d of %d points finished", cause, done, total)
}

func rgdNames(rgds []*model.RGD) []string {
	var names []string
	for _, r := range rgds {
		names = append(names, r.Name)
	}
	return names
}

// runPoints runs the points of g listed in indices (ascending) and returns
// the finished ones by index. When ctx is cancelled no new point starts.
func runPoints(ctx context.Context, g *Grid, cfgs []result.Config, indices []int, rgds []*model.RGD, opts Options) ([]Row, error) {
	par := opts.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	par = min(par, len(indices))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	go func() {
		defer close(next)
		for _, i := range indices {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	rows := make([]*Row, len(g.Points)) // each index written by one goroutine
	var (
		mu       sync.Mutex // guards n, firstErr and calls to Progress
		n        int
		firstErr error
		wg       sync.WaitGroup
	)
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil {
					continue // cancelled while this index was handed over
				}
				res, err := sim.Run(cfgs[i], rgds, sim.Options{})
				var row Row
				if err == nil {
					row = newRow(g, g.Points[i], res)
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("point %d: %w", i, err)
					}
					cancel()
					mu.Unlock()
					continue
				}
				rows[i] = &row
				n++
				if opts.Progress != nil {
					opts.Progress(Progress{Done: n, Total: len(indices), Row: &row})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	var finished []Row
	for _, r := range rows {
		if r != nil {
			finished = append(finished, *r)
		}
	}
	return finished, nil
}

// Row is one finished point: its parameters, its headline numbers and its diagnosis.
type Row struct {
	Index int `json:"index"`
	// Params are the effective values of every dimension, varied or not.
	Params     map[string]float64 `json:"params"`
	Seed       uint64             `json:"seed"`
	Complete   bool               `json:"complete"`
	Incomplete string             `json:"incomplete,omitempty"`

	ConvergeSeconds *float64           `json:"converge_seconds"`
	TimeToReady     result.Percentiles `json:"time_to_ready_seconds"`
	Reconciles      int                `json:"reconciles"`
	APICalls        int                `json:"api_calls"`
	// ThrottleShare is the share of worker time spent in the client limiter.
	ThrottleShare  float64            `json:"throttle_share"`
	ThrottledCalls int                `json:"throttled_calls"`
	Rejected429    int                `json:"rejected_429"`
	Utilization    result.Utilization `json:"utilization"`
	// Shares are the attribution phases as shares of worker time.
	Shares         map[string]float64 `json:"attribution_shares"`
	QueueMaxDepth  int                `json:"queue_max_depth"`
	QueueMeanDepth float64            `json:"queue_mean_depth"`
	Diagnosis      Diagnosis          `json:"diagnosis"`

	values []float64 // the varied dimensions' values, aligned with Grid.Dims
}

func newRow(g *Grid, p Point, r *sim.Result) Row {
	scale, ok := g.Value(p, LatencyScale)
	if !ok {
		scale = 1
	}
	row := Row{
		Index: p.Index, Params: params(r.Config, scale), Seed: p.Seed,
		Complete: r.Complete, Incomplete: r.Incomplete,
		ConvergeSeconds: r.Summary.ConvergeSeconds, TimeToReady: r.Summary.TimeToReady,
		Reconciles: r.Summary.Reconciles, ThrottledCalls: r.API.ThrottledCalls, Rejected429: r.API.Rejected429,
		Utilization: r.Utilization, Shares: map[string]float64{},
		QueueMaxDepth: r.Queue.MaxDepth, QueueMeanDepth: r.Queue.MeanDepth,
		Diagnosis: Diagnose(r), values: p.Values,
	}
	for _, n := range r.Summary.APICalls {
		row.APICalls += n
	}
	total := r.WorkerSeconds()
	for _, ph := range span.Phases() {
		sh := 0.0
		if total > 0 {
			sh = result.Round(r.Attribution[ph.String()] / total)
		}
		row.Shares[ph.String()] = sh
	}
	row.ThrottleShare = row.Shares[span.ThrottleWait.String()]
	return row
}

// Sweep is the outcome of a study: its points, their groups over seeds, the
// knees along each dimension and what to do. Its JSON form is sweep.json.
type Sweep struct {
	Format string         `json:"format"`
	Study  *Study         `json:"study"`
	Target *target.Target `json:"target"` // the base target, before the what-ifs
	// RGDNames are the names of the RGDs loaded from the study's files.
	RGDNames []string `json:"rgd_names"`
	// Dimensions are the varied dimensions, in grid order, with their values.
	Dimensions  []string    `json:"dimensions"`
	Values      [][]float64 `json:"values"`
	Complete    bool        `json:"complete"`
	Incomplete  string      `json:"incomplete,omitempty"`
	PointsTotal int         `json:"points_total"`
	Points      []Row       `json:"points"`
	Groups      []Group     `json:"groups"`
	Knees       []Knee      `json:"knees"`
	// Recommendations are plain sentences; the last always says a QPS limit is a what-if.
	Recommendations []string `json:"recommendations"`
}

const sweepFormat = "krosim/sweep/v1"

// Group is one combination of the varied dimensions, over every seed run for it.
type Group struct {
	Params    map[string]float64 `json:"params"` // the varied dimensions only
	Seeds     int                `json:"seeds"`
	Converged int                `json:"converged"`
	// ConvergeSeconds is nil unless every seed converged.
	ConvergeSeconds   *Spread    `json:"converge_seconds"`
	TTRP50            Spread     `json:"ttr_p50_seconds"`
	TTRP99            Spread     `json:"ttr_p99_seconds"`
	Reconciles        Spread     `json:"reconciles"`
	APICalls          Spread     `json:"api_calls"`
	ThrottleShare     Spread     `json:"throttle_share"`
	Rejected429       Spread     `json:"rejected_429"`
	WorkerUtilization Spread     `json:"worker_utilization"`
	VCPUUtilization   Spread     `json:"vcpu_utilization"`
	Constraint        Constraint `json:"constraint"` // the most common over seeds

	Values []float64 `json:"-"` // aligned with Sweep.Dimensions
}

// Spread is a number over seeds.
type Spread struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

func spread(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := Spread{Min: xs[0], Max: xs[0]}
	sum := 0.0
	for _, x := range xs {
		sum += x
		s.Min, s.Max = min(s.Min, x), max(s.Max, x)
	}
	s.Mean = result.Round(sum / float64(len(xs)))
	return s
}

// summarize builds a sweep from the finished rows of grid g (ordered by index).
func summarize(s *Study, base *target.Target, g *Grid, rows []Row) *Sweep {
	sw := &Sweep{Format: sweepFormat, Study: s, Target: base, Dimensions: g.Dims, Values: g.Values,
		Complete: len(rows) == len(g.Points), PointsTotal: len(g.Points), Points: rows}
	if sw.Dimensions == nil {
		sw.Dimensions, sw.Values = []string{}, [][]float64{}
	}
	if sw.Points == nil {
		sw.Points = []Row{}
	}
	if !sw.Complete {
		sw.Incomplete = fmt.Sprintf("interrupted: %d of %d points finished", len(rows), len(g.Points))
	}
	sw.Groups = groups(g, rows, len(s.Seeds))
	sw.Knees = Knees(sw.Dimensions, sw.Groups)
	sw.Recommendations = recommend(sw)
	return sw
}

func groups(g *Grid, rows []Row, seeds int) []Group {
	var out []Group
	for i := 0; i < len(rows); {
		gi := rows[i].Index / seeds
		j := i
		for j < len(rows) && rows[j].Index/seeds == gi {
			j++
		}
		out = append(out, group(g, rows[i:j]))
		i = j
	}
	if out == nil {
		out = []Group{}
	}
	return out
}

func group(g *Grid, rows []Row) Group {
	gr := Group{Params: map[string]float64{}, Seeds: len(rows), Values: rows[0].values}
	for i, d := range g.Dims {
		gr.Params[d] = rows[0].values[i]
	}
	var conv, p50, p99, rec, calls, thr, rej, wu, vu []float64
	votes := map[Constraint]int{}
	for _, r := range rows {
		if r.ConvergeSeconds != nil {
			conv = append(conv, *r.ConvergeSeconds)
		}
		p50 = append(p50, r.TimeToReady.P50)
		p99 = append(p99, r.TimeToReady.P99)
		rec = append(rec, float64(r.Reconciles))
		calls = append(calls, float64(r.APICalls))
		thr = append(thr, r.ThrottleShare)
		rej = append(rej, float64(r.Rejected429))
		wu = append(wu, r.Utilization.Workers)
		vu = append(vu, r.Utilization.VCPUs)
		votes[r.Diagnosis.Constraint]++
	}
	gr.Converged = len(conv)
	if len(conv) == len(rows) {
		c := spread(conv)
		gr.ConvergeSeconds = &c
	}
	gr.TTRP50, gr.TTRP99, gr.Reconciles, gr.APICalls = spread(p50), spread(p99), spread(rec), spread(calls)
	gr.ThrottleShare, gr.Rejected429 = spread(thr), spread(rej)
	gr.WorkerUtilization, gr.VCPUUtilization = spread(wu), spread(vu)
	for _, c := range Constraints {
		if votes[c] > votes[gr.Constraint] {
			gr.Constraint = c
		}
	}
	return gr
}
