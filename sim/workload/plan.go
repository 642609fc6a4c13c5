package workload

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/krosim/krosim/model"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Plan is a workload drawn from its seed, once, for a simulated cluster and
// a real one alike: every instance with its spec, the objects its
// externalRefs point to and its arrival, in creation order.
type Plan struct {
	Workload Workload
	Items    []Item
}

// Item is one instance of a plan.
type Item struct {
	Index    int
	RGD      *model.RGD
	Instance *unstructured.Unstructured
	// Externals are the objects the instance's externalRefs point to; they
	// are created, unless present, just before it.
	Externals []*unstructured.Unstructured
	Arrival   time.Duration // since the workload started
}

// stream is the seed's random stream the plan draws from; the simulation's
// other streams (latency, kind controllers) are independent of it.
const stream = 3

// NewPlan draws w's instances of rgds (round robin) from seed.
func NewPlan(w Workload, rgds []*model.RGD, seed uint64) (*Plan, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if len(rgds) == 0 {
		return nil, fmt.Errorf("workload: no RGDs")
	}
	rng := rand.New(rand.NewPCG(seed, stream))
	arrivals := w.Arrivals(rng)
	p := &Plan{Workload: w, Items: make([]Item, w.Instances)}
	for i := range p.Items {
		g := rgds[i%len(rgds)]
		inst := Instance(g, w.Namespace, i, rng)
		ext, err := External(g, inst)
		if err != nil {
			return nil, fmt.Errorf("workload: instance %s: %w", inst.GetName(), err)
		}
		p.Items[i] = Item{Index: i, RGD: g, Instance: inst, Externals: ext, Arrival: arrivals[i]}
	}
	return p, nil
}

// Updates is how many instances the update phase changes.
func (p *Plan) Updates() int { return int(p.Workload.Update*float64(len(p.Items)) + 0.5) }
