package sim

import (
	"reflect"
	"testing"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

// An RGD using kro v0.9.4's newer CEL (random.*, lists.insertAtIndex, and
// status.conditions built with runtime.newCondition) simulates to the end:
// every expression really evaluates, and the instance's conditions are the
// author's, with runtime.condition(schema, ...) reading kro's built-ins.
func TestAuthorConditions(t *testing.T) {
	const src = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: conds.kro.run
spec:
  schema:
    apiVersion: v1alpha1
    kind: Cond
    spec:
      name: string | default=web
    status:
      suffix: ${cfg.data.suffix}
      conditions:
        - "${runtime.newCondition({type: 'CfgReady', status: has(cfg.data.suffix) ? 'True' : 'False', reason: 'Data', message: cfg.data.tags})}"
        - "${runtime.newCondition({type: 'Ready', status: runtime.condition(schema, 'ResourcesReady').status, reason: 'Health'})}"
  resources:
    - id: cfg
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.metadata.name}-${random.seededString(6, schema.spec.name)}
        data:
          suffix: ${random.seededString(8, schema.spec.name)}
          port: ${string(random.seededInt(30000, 32768, schema.spec.name))}
          tags: ${lists.insertAtIndex(["a"], 0, "b").join(",")}
`
	rgds, err := model.Load("conds.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	cfg := result.Config{Target: tg.Clone(), Workload: workload.Default(2), Seed: 1, MaxTime: target.Duration(time.Hour)}
	var statuses []map[string]any
	res, err := run(cfg, rgds, Options{}, func(d *cluster) {
		for _, k := range d.srv.Store.Keys() {
			if obj, _ := d.srv.Store.Get(k); d.ctrl.IsInstance(k) {
				st, _ := obj.Object["status"].(map[string]any)
				statuses = append(statuses, st)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.InstancesReady != 2 {
		t.Fatalf("%d of 2 instances ready: %s", res.Summary.InstancesReady, res.Summary.FailedExample)
	}
	if len(statuses) != 2 {
		t.Fatalf("%d instance statuses, want 2", len(statuses))
	}
	for _, st := range statuses {
		if st["suffix"] != "m5u18wmm" { // random.seededString(8, "web"), kro's value
			t.Errorf("status.suffix = %v", st["suffix"])
		}
		var got []map[string]any
		for _, c := range st["conditions"].([]any) {
			c := c.(map[string]any)
			got = append(got, map[string]any{"type": c["type"], "status": c["status"], "message": c["message"]})
		}
		want := []map[string]any{
			{"type": "CfgReady", "status": "True", "message": "b,a"},
			{"type": "Ready", "status": "True", "message": ""},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("conditions = %v, want %v", got, want)
		}
	}
}
