package workload_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/workload"
)

// evalCostLimit bounds one evaluation in CEL cost units, so an expression
// that builds huge lists or strings fails instead of running on.
const evalCostLimit = 1000000

// FuzzInstance goes past loading: an RGD that loads must give schema
// defaults, an instance whose spec holds every required field, and
// expressions that evaluate for that instance (to a value or an error) under
// a cost limit. Seeds are the testdata RGDs; findings go to
// testdata/fuzz/FuzzInstance.
func FuzzInstance(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "rgd", "*.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	fuzzing := flag.Lookup("test.fuzz").Value.String() != ""
	f.Fuzz(func(t *testing.T, data []byte) {
		if fuzzing {
			// A hang is a finding: panicking off the test goroutine kills
			// the worker, so the fuzzer records the input.
			watchdog := time.AfterFunc(20*time.Second, func() {
				panic(fmt.Sprintf("FuzzInstance ran for over 20s on %q", data))
			})
			defer watchdog.Stop()
		}
		rgds, err := model.Load("fuzz.yaml", data)
		if err != nil {
			return // FuzzLoad checks the problems
		}
		g := rgds[0]
		inst := workload.Instance(g, "ns-*", 7, rand.New(rand.NewPCG(1, 2)))
		spec, _ := inst.Object["spec"].(map[string]any)
		checkRequired(t, g.Spec, spec, "spec")

		// Every resource is visible as its template, as kro would see it
		// once created: enough to evaluate references to it.
		vars := map[string]any{"schema": inst.Object}
		for _, r := range g.Resources {
			vars[r.ID] = model.Clone(r.Template)
		}
		var exprs []*model.Expr
		for _, r := range g.Resources {
			exprs = append(exprs, r.Exprs()...)
		}
		for _, v := range g.Status {
			exprs = append(exprs, v.Expr)
		}
		for _, e := range exprs {
			prg, err := g.Env().Program(e.AST, cel.CostLimit(evalCostLimit))
			if err != nil {
				t.Fatalf("%v: %s compiled at load but not with a cost limit: %v", e.Pos, e.Text, err)
			}
			out, _, err := prg.Eval(vars)
			if err != nil {
				continue // a missing field, an iterator, a type mismatch, the cost limit
			}
			_, _ = model.Native(out)
		}
	})
}

// checkRequired fails t unless v holds every required field of object type typ.
func checkRequired(t *testing.T, typ *model.Type, v map[string]any, path string) {
	t.Helper()
	for _, f := range typ.Fields {
		x, ok := v[f.Name]
		if f.Required && !ok {
			t.Fatalf("instance %s has no required field %s", path, f.Name)
		}
		if sub, isMap := x.(map[string]any); isMap && f.Type.Kind == model.Object {
			checkRequired(t, f.Type, sub, path+"."+f.Name)
		}
	}
}
