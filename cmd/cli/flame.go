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
	output      string
	html        bool
	folded      bool
	diff        string
	sampleIndex string
	title       string
}

var flameCmd = &command{
	name:    "flame",
	args:    "PROFILE...",
	summary: "draw a flame graph (SVG, zoomable HTML or folded stacks) of pprof profiles, krosim's or Go's, or of their difference from --diff",
	flags: func(fs *pflag.FlagSet) any {
		o := &flameOptions{}
		fs.StringVarP(&o.output, "output", "o", "", `file to write, "-" for stdout (default flame.svg, flame.html with --html, flame.folded with --folded)`)
		fs.BoolVar(&o.html, "html", false, "write HTML with the SVG inline: click a frame to zoom, search to highlight")
		fs.BoolVar(&o.folded, "folded", false, "write folded stacks (frame;frame;frame value) instead of a drawing")
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
	if o.html && o.folded {
		return usagef("--html and --folded exclude each other")
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
	name := o.output
	switch {
	case o.html:
		data, name = g.HTML(), orDefault(name, "flame.html")
	case o.folded:
		data, name = g.Folded(), orDefault(name, "flame.folded")
	default:
		data, name = g.SVG(), orDefault(name, "flame.svg")
	}
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
