package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"runtime/pprof"
	"slices"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/profile"
	"github.com/krosim/krosim/profile/flame"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/study"
	"github.com/spf13/pflag"
)

// profileOptions are run's flags plus the attribution's.
type profileOptions struct {
	*runOptions
	top int
}

// defaultProfileDir is where krosim profile writes unless told otherwise.
const defaultProfileDir = "out/profile"

var profileCmd = &command{
	name: "profile",
	examples: `# every profile of 300 instances into out/profile, then open the virtual-time profile
krosim profile --rgd testdata/rgd/webapp.yaml --instances 300 --out out/profile
go tool pprof -http=: out/profile/wall.pb.gz`,
	args:    "",
	summary: "run, then write flame graphs, folded stacks, an attribution table and host profiles into --out",
	interrupt: "the simulation stops at the next event; every output (results.json with complete: false,\n" +
		"the flame graphs, the attribution, the host profiles) covers the virtual time reached, and krosim exits 1",
	flags: func(fs *pflag.FlagSet) any {
		o := &profileOptions{runOptions: declareRunFlags(fs)}
		out := fs.Lookup("out")
		out.Usage = "directory for every output file (results.json, wall.pb.gz, flame.svg, attribution.txt, host.* ...)"
		out.DefValue = defaultProfileDir
		_ = out.Value.Set(defaultProfileDir)
		fs.IntVar(&o.top, "top", 10, "rows in the top resources and top expressions tables")
		return o
	},
	run: func(e *env, o any, args []string) error { return runProfile(e, o.(*profileOptions), args) },
}

// runProfile is run with every profile: load (labeled compile) -> simulate
// (labeled sim, eval, traversal, api) -> attribute and render (labeled
// output) -> host measurements -> write.
func runProfile(e *env, o *profileOptions, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %v (RGDs go in --rgd)", args)
	}
	if o.top < 1 {
		return usagef("--top must be at least 1")
	}
	if o.out == "" {
		return usagef("--out must name a directory")
	}
	cfg, err := o.config()
	if err != nil {
		return err
	}
	h := startHost()
	defer h.abandon()
	if h.cpuErr != nil {
		fmt.Fprintf(e.stderr, "krosim: profile: no host CPU profile (%v); everything else is written\n", h.cpuErr)
	}

	res, err := h.simulate(e, o.runOptions, cfg)
	if err != nil {
		return err
	}
	var files outputs
	h.stage("output", func(context.Context) { files, err = profileOutputs(res, o.top) })
	if err != nil {
		return err
	}
	host, err := h.finish()
	if err != nil {
		return err
	}
	for name, data := range host.files {
		files[name] = data
	}

	if _, err := writeOutputs(o.runOptions, res, files); err != nil {
		return err
	}
	if !o.quiet {
		printSummary(e.stdout, res, "", nil)
		printProfile(e.stdout, o.out, files, host)
	}
	return finished(o.out, res)
}

// profileOutputs renders every deterministic profile output of res.
func profileOutputs(res *sim.Result, top int) (outputs, error) {
	wall := profile.Wall(res)
	if err := wall.CheckValid(); err != nil {
		return nil, fmt.Errorf("wall profile: %w", err)
	}
	idx, err := flame.SampleIndex(wall, profile.SampleWall)
	if err != nil {
		return nil, err
	}
	g, err := flame.New(wall, idx)
	if err != nil {
		return nil, err
	}
	att := profile.Attribute(res, top)
	g.Title = "kro controller time (virtual): " + att.Title
	g.Notes = []string{fmt.Sprintf("%s x %.3fs virtual, %.3fs busy (%.1f%%); idle time is not drawn; instance queue wait is in wall.pb.gz as sample type queue_wait",
		study.Plural(att.Workers, "worker"), att.Duration.Seconds(), att.Busy.Seconds(), 100*float64(att.Busy)/float64(max(1, att.WorkerTime)))}
	if c := res.Summary.ConvergeSeconds; c != nil && att.Duration.Seconds() > *c {
		g.Notes = append(g.Notes, fmt.Sprintf("every instance was ready at %.3fs; the graph covers the whole run: %s", *c, afterReady(res)))
	}
	text := att.Text() + "\nThe real CPU of krosim on this host (not the target), by phase: host.json and host.cpu.pb.gz.\n"
	return outputs{
		"flame.svg":       g.SVG(),
		"flame.html":      g.HTML(),
		"wall.folded":     g.Folded(),
		"attribution.txt": []byte(text),
	}, nil
}

func printProfile(w io.Writer, dir string, files outputs, host *hostResult) {
	all := outputs{"results.json": nil, "metrics.prom": nil, "metrics.om": nil, "wall.pb.gz": nil}
	for name, data := range files {
		all[name] = data
	}
	fmt.Fprintf(w, "\nWrote %s:\n", dir)
	for _, name := range slices.Sorted(maps.Keys(all)) {
		fmt.Fprintf(w, "  %s\n", filepath.Join(dir, name))
	}
	fmt.Fprintf(w, "\n%s", files["attribution.txt"])
	fmt.Fprintf(w, "\n%s", host.text())
}

// hostLabels labels the host CPU profile by phase. Processes of the
// simulation run one at a time and may nest regions (eval inside
// traversal), so the labels in force are kept as a stack: cur is the
// region of the process now running. A process can park inside an API call;
// the region is then left at the base ("sim") for the process that runs
// next, and restored when the call returns.
type hostLabels struct {
	ctx map[string]context.Context
	cur string
}

// newHostLabels labels regions on top of sim, the context of the whole
// simulation (phase=sim).
func newHostLabels(sim context.Context) *hostLabels {
	h := &hostLabels{ctx: map[string]context.Context{"sim": sim}, cur: "sim"}
	for _, p := range []string{"eval", "traversal", "api"} {
		h.ctx[p] = pprof.WithLabels(sim, pprof.Labels("phase", p))
	}
	return h
}

// Enter labels what runs now phase, and returns the region it was in.
func (h *hostLabels) Enter(phase string) (outer string) {
	ctx, ok := h.ctx[phase]
	if !ok {
		ctx = pprof.WithLabels(h.ctx["sim"], pprof.Labels("phase", phase))
		h.ctx[phase] = ctx
	}
	outer = h.cur
	h.cur = phase
	if phase == "api" {
		h.cur = "sim"
	}
	pprof.SetGoroutineLabels(ctx)
	return outer
}

// Leave returns to the region outer, which Enter returned.
func (h *hostLabels) Leave(outer string) {
	h.cur = outer
	pprof.SetGoroutineLabels(h.ctx[outer])
}

// simulate loads the RGDs (labeled compile) and runs the simulation
// (labeled sim, with eval, traversal and api inside), as simulate does for run.
func (h *hostMeter) simulate(e *env, o *runOptions, cfg result.Config) (*sim.Result, error) {
	var rgds []*model.RGD
	var err error
	h.stage("compile", func(context.Context) { rgds, err = loadRGDs(e, limits(cfg), o.rgds, o.crds) })
	if err != nil {
		return nil, err
	}
	opts, release := o.simOptions(e, cfg)
	defer release()
	var res *sim.Result
	h.stage("sim", func(ctx context.Context) {
		opts.HostLabels = newHostLabels(ctx)
		res, err = sim.Run(cfg, rgds, opts)
	})
	return res, err
}
