package sim

import (
	"fmt"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kro"
	"github.com/krosim/krosim/sim/result"
)

// RunInspect is Run that also checks the store at the end against what the
// RGDs imply and returns every violation: a child whose instance is gone (an
// orphan), or a ready instance missing one of its resources (a loss).
func RunInspect(cfg result.Config, rgds []*model.RGD) (*Result, []string, error) {
	var bad []string
	res, err := run(cfg, rgds, Options{}, func(c *cluster) { bad = c.invariants() })
	return res, bad, err
}

func (d *cluster) invariants() []string {
	var bad []string
	store := d.srv.Store
	children := map[api.Key]map[string]int{} // instance -> node id -> objects
	for _, k := range store.Keys() {
		obj, _ := store.Get(k)
		l := obj.GetLabels()
		if d.ctrl.IsInstance(k) || l[kro.LabelOwned] != "true" {
			continue
		}
		var g *model.RGD
		for _, r := range d.rgds {
			if r.Name == l[kro.LabelRGD] {
				g = r
			}
		}
		if g == nil {
			bad = append(bad, fmt.Sprintf("%s: labeled for unknown RGD %q", k, l[kro.LabelRGD]))
			continue
		}
		parent := api.Key{GVR: kro.InstanceGVR(g), Namespace: l[kro.LabelInstanceNS], Name: l[kro.LabelInstance]}
		if _, err := store.Get(parent); err != nil {
			bad = append(bad, fmt.Sprintf("%s: orphan: its instance %s is gone", k, parent))
			continue
		}
		if children[parent] == nil {
			children[parent] = map[string]int{}
		}
		children[parent][l[kro.LabelNode]]++
	}
	for _, in := range d.instances {
		obj, err := store.Get(in.Key())
		if err != nil || !in.IsReady() || obj.GetDeletionTimestamp() != nil {
			continue
		}
		for _, r := range in.RGD().Resources {
			if r.External || r.Collection() || len(r.IncludeWhen) > 0 {
				continue
			}
			if children[in.Key()][r.ID] != 1 {
				bad = append(bad, fmt.Sprintf("%s: ready, but holds %d objects of resource %s, want 1", in.Key(), children[in.Key()][r.ID], r.ID))
			}
		}
	}
	return bad
}
