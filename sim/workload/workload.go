package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Workload says which instances exist and when. It is plain data.
type Workload struct {
	Instances int     `json:"instances" yaml:"instances"`
	Arrival   string  `json:"arrival" yaml:"arrival"` // all, rate or poisson
	Rate      float64 `json:"rate,omitempty" yaml:"rate,omitempty"`
	// Namespace of the instances; a '*' is replaced by the instance number,
	// so templates that name children after spec defaults do not collide.
	Namespace string `json:"namespace" yaml:"namespace"`
	// Update is churn: the fraction of instances whose spec changes once all
	// are ready; the run then waits until kro has reconciled every change.
	Update float64 `json:"update,omitempty" yaml:"update,omitempty"`
	Delete bool    `json:"delete" yaml:"delete"` // delete every instance once all are ready (and updated)
	// Parallel is how many of its requests (creates, changes, deletes)
	// the workload's user keeps in flight; 0 means DefaultParallel.
	Parallel int `json:"parallel,omitempty" yaml:"parallel,omitempty"`
}

// DefaultParallel is the requests the workload's user keeps in flight when
// nothing is said: krosim's real runs' default.
const DefaultParallel = 8

// MaxParallel bounds the requests the user keeps in flight.
const MaxParallel = 1000

// InFlight is how many requests the workload's user keeps in flight.
func (w Workload) InFlight() int {
	if w.Parallel > 0 {
		return w.Parallel
	}
	return DefaultParallel
}

// Default is the workload when nothing is said: n instances, all at once.
func Default(n int) Workload {
	return Workload{Instances: n, Arrival: "all", Namespace: "krosim-*"}
}

// Bounds of a workload: each instance costs memory for its objects and
// events, and every arrival must fit in a time.Duration.
const (
	MaxInstances = 1000000
	// MaxArrivalSpan bounds instances/rate, when the last instance arrives.
	MaxArrivalSpan = 100 * 365 * 24 * time.Hour
)

// Validate checks the workload.
func (w Workload) Validate() error {
	switch {
	case w.Instances < 1 || w.Instances > MaxInstances:
		return fmt.Errorf("workload: instances must be in [1, %d], got %d", MaxInstances, w.Instances)
	case w.Arrival != "all" && w.Arrival != "rate" && w.Arrival != "poisson":
		return fmt.Errorf("workload: arrival must be all, rate or poisson, got %q", w.Arrival)
	case math.IsNaN(w.Rate) || math.IsInf(w.Rate, 0) || w.Rate < 0:
		return fmt.Errorf("workload: rate must be a finite number, at least 0, got %g", w.Rate)
	case w.Arrival != "all" && w.Rate <= 0:
		return fmt.Errorf("workload: arrival %s needs a positive rate", w.Arrival)
	case w.Arrival != "all" && float64(w.Instances)/w.Rate > MaxArrivalSpan.Seconds():
		return fmt.Errorf("workload: rate %g is too low for %d instances: want instances/rate at most %.0f s (100 years)",
			w.Rate, w.Instances, MaxArrivalSpan.Seconds())
	case w.Namespace == "":
		return fmt.Errorf("workload: namespace is required")
	case !(w.Update >= 0 && w.Update <= 1): // NaN too
		return fmt.Errorf("workload: update must be a fraction in [0, 1], got %g", w.Update)
	case w.Parallel < 0 || w.Parallel > MaxParallel:
		return fmt.Errorf("workload: parallel must be in [0, %d] (0: %d), got %d", MaxParallel, DefaultParallel, w.Parallel)
	}
	return nil
}

// Arrivals returns when each instance is created, relative to the start.
func (w Workload) Arrivals(rng *rand.Rand) []time.Duration {
	out := make([]time.Duration, w.Instances)
	var t float64
	for i := range out {
		switch w.Arrival {
		case "rate":
			t = float64(i) / w.Rate
		case "poisson":
			if i > 0 {
				t += rng.ExpFloat64() / w.Rate
			}
		}
		// A Poisson tail may pass MaxArrivalSpan; a float beyond int64
		// would convert to a negative Duration.
		out[i] = time.Duration(min(t*float64(time.Second), float64(2*MaxArrivalSpan)))
	}
	return out
}

// Instance builds the i-th instance of g: spec from the schema's defaults,
// with required fields that have no default filled deterministically.
func Instance(g *model.RGD, ns string, i int, rng *rand.Rand) *unstructured.Unstructured {
	spec := g.Spec.Defaults()
	fill(g.Spec, spec, i, rng)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": g.Group + "/" + g.APIVersion,
		"kind":       g.Kind,
		"metadata": map[string]any{"name": fmt.Sprintf("%s-%05d", strings.ToLower(g.Kind), i),
			"namespace": strings.ReplaceAll(ns, "*", fmt.Sprintf("%05d", i))},
		"spec": spec,
	}}
}

func fill(t *model.Type, into map[string]any, i int, rng *rand.Rand) {
	for _, f := range t.Fields {
		if _, ok := into[f.Name]; ok {
			if sub, isMap := into[f.Name].(map[string]any); isMap && f.Type.Kind == model.Object {
				fill(f.Type, sub, i, rng)
			}
			continue
		}
		if !f.Required && f.Type.Kind != model.Object {
			continue
		}
		switch f.Type.Kind {
		case model.String:
			into[f.Name] = fmt.Sprintf("%s-%d", strings.ToLower(f.Name), i)
		case model.Integer:
			into[f.Name] = int64(1 + rng.IntN(3))
		case model.Boolean:
			into[f.Name] = rng.IntN(2) == 0
		case model.Float:
			into[f.Name] = 1 + rng.Float64()
		case model.Object:
			sub := map[string]any{}
			fill(f.Type, sub, i, rng)
			if len(sub) > 0 || f.Required {
				into[f.Name] = sub
			}
		case model.List:
			into[f.Name] = []any{}
		case model.Map, model.Any:
			into[f.Name] = map[string]any{}
		}
	}
}

// External builds the objects an instance's externalRefs point to, with every
// field the RGD's expressions read from them, so kro finds them complete.
func External(g *model.RGD, inst *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	vars := map[string]any{"schema": inst.Object}
	for _, r := range g.Resources {
		if !r.External {
			continue
		}
		obj := &unstructured.Unstructured{Object: model.Clone(r.Template).(map[string]any)}
		for _, f := range r.Fields {
			v, _, err := f.Expr.Program.Eval(vars)
			if err != nil {
				return nil, fmt.Errorf("externalRef %s: %s: %w", r.ID, f.Path, err)
			}
			native, err := f.Expr.Native(v)
			if err != nil {
				return nil, err
			}
			f.Path.Set(obj.Object, native)
		}
		if obj.GetNamespace() == "" {
			obj.SetNamespace(inst.GetNamespace())
		}
		for _, other := range g.Resources {
			for _, e := range other.Exprs() {
				for _, p := range e.SelectPaths(r.ID) {
					if len(p) == 0 || p[0] == "metadata" || p[0] == "apiVersion" || p[0] == "kind" {
						continue
					}
					if _, found, _ := unstructured.NestedFieldNoCopy(obj.Object, p...); !found {
						_ = unstructured.SetNestedField(obj.Object, "external-"+p[len(p)-1], p...)
					}
				}
			}
		}
		out = append(out, obj)
	}
	return out, nil
}

// Change returns inst with its spec changed the way a user edits one: the
// first integer field is incremented, else the first string field gets a
// suffix, else a field is added. The generation moves, so kro reconciles.
func Change(g *model.RGD, inst *unstructured.Unstructured) *unstructured.Unstructured {
	out := &unstructured.Unstructured{Object: model.Clone(inst.Object).(map[string]any)}
	spec, _ := out.Object["spec"].(map[string]any)
	if spec == nil {
		spec = map[string]any{}
		out.Object["spec"] = spec
	}
	for _, kind := range []model.TypeKind{model.Integer, model.String} {
		for _, f := range g.Spec.Fields {
			if f.Type.Kind != kind {
				continue
			}
			switch v := spec[f.Name].(type) {
			case int64:
				spec[f.Name] = v + 1
				return out
			case string:
				spec[f.Name] = v + "-v2"
				return out
			}
		}
	}
	spec["krosimRevision"] = int64(2)
	return out
}
