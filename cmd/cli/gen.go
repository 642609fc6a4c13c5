package cli

import (
	"fmt"
	"strings"

	"github.com/krosim/krosim/model/synth"
	"github.com/spf13/pflag"
)

type genOptions struct {
	shape      string
	nodes      int
	edges      int
	complexity string
	seed       int64
	name       string
	out        string
}

var genCmd = &command{
	name: "gen",
	examples: `# a layered graph of 50 resources with complex expressions
krosim gen --shape layered --nodes 50 --complexity complex --out big.yaml
# straight into a run
krosim gen --shape fanout --nodes 20 | krosim run --rgd - --instances 100`,
	args:    "",
	summary: "generate an RGD of a given shape, size and expression complexity (YAML on stdout)",
	flags: func(fs *pflag.FlagSet) any {
		o := &genOptions{}
		var shapes, classes []string
		for _, s := range synth.Shapes() {
			shapes = append(shapes, string(s))
		}
		for _, c := range synth.Complexities() {
			classes = append(classes, string(c))
		}
		fs.StringVar(&o.shape, "shape", "layered", "graph shape: "+strings.Join(shapes, ", "))
		fs.IntVar(&o.nodes, "nodes", 30, "number of resources")
		fs.IntVar(&o.edges, "edges", 0, "number of dependency edges (0: the shape's natural count)")
		fs.StringVar(&o.complexity, "complexity", "simple", "expression complexity: "+strings.Join(classes, ", "))
		fs.Int64Var(&o.seed, "seed", 1, "random seed; the same seed gives the same bytes")
		fs.StringVar(&o.name, "name", "", "RGD name (default: derived from the options)")
		fs.StringVar(&o.out, "out", "", "write to this file instead of stdout")
		deprecatedOut(fs, &o.out)
		return o
	},
	run: func(e *env, o any, args []string) error {
		opts := o.(*genOptions)
		if len(args) > 0 {
			return usagef("unexpected arguments %v", args)
		}
		data, err := synth.Generate(synth.Options{Shape: synth.Shape(opts.shape), Nodes: opts.nodes, Edges: opts.edges,
			Complexity: synth.Complexity(opts.complexity), Seed: opts.seed, Name: opts.name})
		if err != nil {
			return usagef("%v", err)
		}
		if opts.out != "" {
			return writeFileAtomic(opts.out, data)
		}
		_, err = fmt.Fprint(e.stdout, string(data))
		return err
	},
}
