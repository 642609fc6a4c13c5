package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/spf13/pflag"
)

type validateOptions struct {
	crds    []string
	output  string
	timings bool
	celCost uint64
	costs   string
}

var validateCmd = &command{
	name: "validate",
	examples: `# check an RGD: its CEL, its graph, kro's order and deletion waves
krosim validate testdata/rgd/webapp.yaml
# several files, as JSON for scripts
krosim validate -o json testdata/rgd/webapp.yaml testdata/rgd/chain.yaml
# the RGDs of a cluster (kind: List), from stdin
kubectl get resourcegraphdefinitions -o yaml | krosim validate -`,
	args:    "FILE...",
	summary: "load RGD files, compile their CEL and print each graph in kro's order",
	flags: func(fs *pflag.FlagSet) any {
		o := &validateOptions{}
		fs.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
		fs.StringArrayVar(&o.crds, "crd", nil, crdHelp)
		fs.BoolVar(&o.timings, "timings", true, "show host compile times in text output (not deterministic)")
		fs.Uint64Var(&o.celCost, "cel-cost-limit", model.DefaultLimits.CELCost, "warn about expressions whose estimated CEL cost may pass this (0: no warnings)")
		fs.StringVar(&o.costs, "cost-warnings", "certain", "which expressions over --cel-cost-limit to warn about: certain (every evaluation fails), possible (also those unbounded or over it on data of 1000 items) or none")
		return o
	},
	run: runValidate,
}

// validateJSON is the output contract of `validate -o json`.
type validateJSON struct {
	RGDs []rgdJSON `json:"rgds"`
}

type rgdJSON struct {
	File        string      `json:"file"`
	Name        string      `json:"name"`
	Kind        string      `json:"kind"`
	Order       []string    `json:"order"`
	Edges       [][2]string `json:"edges"`
	Expressions int         `json:"expressions"`
	Waves       [][]string  `json:"waves"`
	// UntypedKinds are the kinds ("apiVersion/Kind") no schema types.
	UntypedKinds []string `json:"untyped_kinds"`
}

func runValidate(e *env, o any, args []string) error {
	opts := o.(*validateOptions)
	if opts.output != "text" && opts.output != "json" {
		return usagef("--output must be text or json, not %q", opts.output)
	}
	if len(args) == 0 {
		return usagef("no files given (- reads standard input)")
	}
	if err := stdinOnce(args, opts.crds); err != nil {
		return err
	}
	if opts.costs != "certain" && opts.costs != "possible" && opts.costs != "none" {
		return usagef("--cost-warnings must be certain, possible or none, not %q", opts.costs)
	}
	lim := model.DefaultLimits
	lim.CELCost = opts.celCost
	rgds, failed := loadAll(e, lim, args, opts.crds)
	// kro v0.9.4 sets no cost limit and accepts these: warn, do not fail.
	for _, g := range rgds {
		for _, w := range g.CostWarnings {
			if opts.costs == "possible" || opts.costs == "certain" && w.Certain {
				fmt.Fprintln(e.stderr, w.Detail())
			}
		}
	}
	for _, g := range rgds {
		if len(g.Untyped) > 0 {
			// kro would type these from the cluster; krosim has no schema for them.
			fmt.Fprintf(e.stderr, "krosim: validate: note: %s: %s: no schema for %s; their fields stay dyn (give CRDs with --crd)\n",
				g.File, g.Name, strings.Join(g.Untyped, ", "))
		}
	}
	if opts.output == "json" {
		if failed {
			return reportedError // no partial document on stdout
		}
		out := validateJSON{RGDs: []rgdJSON{}}
		for _, g := range rgds {
			out.RGDs = append(out.RGDs, describe(g))
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else {
		for _, g := range rgds {
			fmt.Fprint(e.stdout, textGraph(g, opts.timings))
		}
	}
	if failed {
		return reportedError
	}
	return nil
}

func describe(g *model.RGD) rgdJSON {
	ids := func(idx []int) []string {
		out := make([]string, len(idx))
		for i, x := range idx {
			out[i] = g.Resources[x].ID
		}
		return out
	}
	r := rgdJSON{File: g.File, Name: g.Name, Kind: g.Kind, Order: ids(g.Order),
		Edges: g.Edges(), Expressions: g.Exprs, UntypedKinds: g.Untyped}
	if r.UntypedKinds == nil {
		r.UntypedKinds = []string{}
	}
	if r.Edges == nil {
		r.Edges = [][2]string{}
	}
	for _, w := range g.Waves {
		r.Waves = append(r.Waves, ids(w))
	}
	if r.Waves == nil {
		r.Waves = [][]string{}
	}
	return r
}

func textGraph(g *model.RGD, timings bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (%s.%s/%s)\n", g.File, g.Name, g.Kind, g.Group, g.APIVersion)
	fmt.Fprintf(&b, "  %d resources, %d edges, %d expressions", len(g.Resources), len(g.Edges()), g.Exprs)
	if timings {
		fmt.Fprintf(&b, ", compiled in %s", g.CompileTime.Round(10*time.Microsecond))
	}
	b.WriteString("\n")
	width := 2
	for _, r := range g.Resources {
		width = max(width, len(r.ID))
	}
	for n, i := range g.Order {
		r := g.Resources[i]
		deps := make([]string, len(r.Deps))
		for k, d := range r.Deps {
			deps[k] = g.Resources[d].ID
		}
		dep := "-"
		if len(deps) > 0 {
			dep = strings.Join(deps, ", ")
		}
		var notes []string
		if r.External {
			notes = append(notes, "external")
		}
		if r.Collection() {
			notes = append(notes, "forEach")
		}
		if len(r.IncludeWhen) > 0 {
			notes = append(notes, "includeWhen")
		}
		if len(r.ReadyWhen) > 0 {
			notes = append(notes, "readyWhen")
		}
		note := ""
		if len(notes) > 0 {
			note = "  [" + strings.Join(notes, " ") + "]"
		}
		fmt.Fprintf(&b, "  %3d. %-*s %-22s level %d  exprs %-3d deps: %s%s\n", n+1, width, r.ID,
			r.Kind, r.Level, len(r.Exprs()), dep, note)
	}
	if len(g.Status) > 0 {
		fmt.Fprintf(&b, "  status: %d expressions\n", len(g.Status))
	}
	if len(g.Conditions) > 0 {
		fmt.Fprintf(&b, "  status.conditions: %d expressions\n", len(g.Conditions))
	}
	b.WriteString("  deletion waves:")
	for _, w := range g.Waves {
		ids := make([]string, len(w))
		for k, x := range w {
			ids[k] = g.Resources[x].ID
		}
		fmt.Fprintf(&b, " [%s]", strings.Join(ids, " "))
	}
	b.WriteString("\n")
	return b.String()
}
