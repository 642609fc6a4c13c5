package cli

import (
	"fmt"
	"os"
	"strings"

	pprofile "github.com/google/pprof/profile"
	"github.com/krosim/krosim/profile/flame"
	"github.com/spf13/pflag"
)

type flameOptions struct {
	format      string
	out         string
	html        bool
	folded      bool
	diff        string
	sampleIndex string
	title       string
}

var flameCmd = &command{
	name: "flame",
	examples: `# krosim's virtual-time profile as an SVG flame graph
krosim flame out/profile/wall.pb.gz --out wall.svg
# krosim's own CPU on this host, zoomable in a browser
krosim flame -o html --out cpu.html out/profile/host.cpu.pb.gz
# what changed between two runs: red grew, blue shrank
krosim flame --diff before/wall.pb.gz after/wall.pb.gz --out diff.svg`,
	args:    "PROFILE...",
	summary: "draw a flame graph (SVG, zoomable HTML or folded stacks) of pprof profiles, krosim's or Go's, or of their difference from --diff",
	flags: func(fs *pflag.FlagSet) any {
		o := &flameOptions{}
		fs.StringVarP(&o.format, "output", "o", "svg", "output format: svg, html (the SVG inline: click a frame to zoom, search to highlight) or folded (frame;frame;frame value)")
		fs.StringVar(&o.out, "out", "", `file to write, "-" for stdout (default flame.svg, flame.html or flame.folded)`)
		fs.BoolVar(&o.html, "html", false, "the same as -o html")
		fs.BoolVar(&o.folded, "folded", false, "the same as -o folded")
		_ = fs.MarkDeprecated("html", "use -o html")
		_ = fs.MarkDeprecated("folded", "use -o folded")
		fs.StringVar(&o.diff, "diff", "", "base profile: draw the change from it, red where the profiles grew, blue where they shrank")
		fs.StringVar(&o.sampleIndex, "sample-index", "", "sample type to draw, by name or index (default: the profile's default, else its last, as go tool pprof)")
		fs.StringVar(&o.title, "title", "", "title of the graph (default: the files and the sample type)")
		return o
	},
	run: func(e *env, o any, args []string) error { return runFlame(e, o.(*flameOptions), args) },
}

func runFlame(e *env, o *flameOptions, args []string) error {
	if len(args) == 0 {
		return usagef("no profiles given")
	}
	if err := o.resolveFormat(e); err != nil {
		return err
	}
	g, err := flameGraph(args, o.sampleIndex)
	if err != nil {
		return err
	}
	title := o.title
	if title == "" {
		title = fmt.Sprintf("%s: %s", strings.Join(args, " + "), g.Type)
	}
	if o.diff != "" {
		base, err := flameGraph([]string{o.diff}, o.sampleIndex)
		if err != nil {
			return err
		}
		if g, err = flame.Diff(base, g); err != nil {
			return err
		}
		if o.title == "" {
			title = fmt.Sprintf("%s vs base %s: %s", strings.Join(args, " + "), o.diff, g.Type)
		}
	}
	g.Title = title

	var data []byte
	switch o.format {
	case "html":
		data = g.HTML()
	case "folded":
		data = g.Folded()
	default:
		data = g.SVG()
	}
	name := orDefault(o.out, "flame."+o.format)
	if name == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := writeFileAtomic(name, data); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", name)
	return nil
}

// resolveFormat settles the format from -o and the deprecated --html and
// --folded. An -o that is no format is taken for the file it used to name.
func (o *flameOptions) resolveFormat(e *env) error {
	if o.html && o.folded {
		return usagef("--html and --folded exclude each other")
	}
	if f := o.format; f != "svg" && f != "html" && f != "folded" {
		if o.out != "" {
			return usagef("-o/--output must be svg, html or folded, not %q", f)
		}
		fmt.Fprintf(e.stderr, "krosim flame: -o FILE is deprecated: use --out %s (-o/--output is the format: svg, html or folded)\n", f)
		o.format, o.out = "svg", f
	}
	switch {
	case o.html:
		o.format = "html"
	case o.folded:
		o.format = "folded"
	}
	return nil
}

// flameGraph reads and merges profiles and builds the graph of one sample type.
func flameGraph(files []string, sampleIndex string) (*flame.Graph, error) {
	var ps []*pprofile.Profile
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		p, err := pprofile.ParseData(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		ps = append(ps, p)
	}
	p := ps[0]
	if len(ps) > 1 {
		var err error
		if p, err = pprofile.Merge(ps); err != nil {
			return nil, fmt.Errorf("merge %s: %w", strings.Join(files, ", "), err)
		}
	}
	idx, err := flame.SampleIndex(p, sampleIndex)
	if err != nil {
		return nil, err
	}
	g, err := flame.New(p, idx)
	if err != nil {
		return nil, err
	}
	g.Notes = append(g.Notes, p.Comments...)
	return g, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
