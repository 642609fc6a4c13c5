package kro

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/span"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// rgdYAML is an RGD of ConfigMaps: head, then tail reading it (two
// dependency levels). headExtra goes into head (readyWhen), tailExtra into
// tail (includeWhen), extra after both (more resources).
func rgdYAML(spec, headExtra, tailExtra, extra string) string {
	return `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: demos.kro.run
spec:
  schema:
    apiVersion: v1alpha1
    kind: Demo
    spec:
      name: string | default=demo
` + spec + `
  resources:
    - id: head
` + headExtra + `
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.spec.name}-head
        data:
          value: x
    - id: tail
` + tailExtra + `
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${head.metadata.name}-tail
        data:
          value: ${head.data.value}
` + extra
}

// harness runs single reconciles of one instance against a real kernel and
// API server, recording kro's requests in order.
type harness struct {
	t   *testing.T
	k   *kernel.Kernel
	srv *api.Server
	c   *Controller
	key api.Key
	got []string
}

func newHarness(t *testing.T, yaml string) *harness {
	t.Helper()
	rgds, err := model.Load("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	k := kernel.New()
	t.Cleanup(k.Shutdown)
	srv := api.NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
	c := New(k, tg, srv, kernel.NewCPU(tg.VCPUs), rgds, Options{})
	g := c.byName[rgds[0].Name]
	c.graphs[g.GVR] = g // registered, as the RGD controller would
	h := &harness{t: t, k: k, srv: srv, c: c, key: api.Key{GVR: g.GVR, Namespace: "default", Name: "demo"}}
	c.client.Observe = func(v verb.Verb, k api.Key) {
		h.got = append(h.got, strings.TrimSpace(fmt.Sprintf("%s %s %s", v, k.GVR.Resource, k.Name)))
	}
	inst := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kro.run/v1alpha1", "kind": "Demo",
		"metadata": map[string]any{"name": "demo", "namespace": "default"},
		"spec":     rgds[0].Spec.Defaults(),
	}}
	c.Track(h.key, rgds[0])
	h.create(h.key, inst)
	return h
}

func (h *harness) create(k api.Key, obj *unstructured.Unstructured) {
	h.t.Helper()
	if _, err := h.srv.Store.Create(k, obj); err != nil {
		h.t.Fatal(err)
	}
}

// reconcile runs one reconcile of the instance as a worker would and
// returns how it ended and the requests it made.
func (h *harness) reconcile() (outcome, []string) {
	h.got = nil
	var out outcome
	done := false
	h.k.Go("test-worker", func(p *kernel.Proc) {
		th := &span.Thread{}
		th.Start(h.k.Now(), span.Other)
		w := &work{c: h.c, p: p, th: th, start: h.k.Now()}
		out = w.reconcile(h.key)
		w.flush()
		h.c.doneWatches(w.in, out.err == nil)
		done = true
	})
	if err := h.k.Run(0, func() bool { return done }); err != nil {
		h.t.Fatal(err)
	}
	if !done {
		h.t.Fatal("reconcile did not finish")
	}
	return out, h.got
}

func configMap(ns, name string, data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"data":     data,
	}}
}

// run runs n reconciles.
func (h *harness) run(n int) {
	for i := 0; i < n; i++ {
		h.reconcile()
	}
}

// deleteInstance asks for the instance's deletion, as the workload does.
func (h *harness) deleteInstance() {
	h.t.Helper()
	if err := h.srv.Store.Delete(h.key); err != nil {
		h.t.Fatal(err)
	}
}

const (
	readyWhen = `      readyWhen:
        - ${head.data.?ready.orValue("no") == "yes"}`
	includeWhen = `      includeWhen:
        - ${schema.spec.withTail}`
	collection = `    - id: shards
      forEach:
        - shard: ${["a", "b"]}
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.spec.name}-${shard}
        data:
          value: ${shard}`
	external = `    - id: platform
      externalRef:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: platform
          namespace: default`
)

// applyBoth is a reconcile's requests once head and tail both resolve:
// read the instance and both, SSA the ApplySet kinds, then SSA both.
const applyBoth = `get demos demo
get configmaps demo-head
get configmaps demo-head-tail
patch demos demo
patch configmaps demo-head
patch configmaps demo-head-tail`

func TestReconcileRequests(t *testing.T) {
	const requeue = "requeue"
	tests := []struct {
		name     string
		yaml     string
		prep     func(h *harness) // before the reconcile under test
		want     string           // its requests, in order, one per line
		wantNext string           // how it ends: requeue or ""
	}{
		{
			name: "first create",
			yaml: rgdYAML("", "", "", ""),
			// GET the instance, SSA its finalizer and labels, GET the one
			// resolvable resource, SSA the ApplySet kinds, SSA head, then
			// write the status (GET + PUT). Applying created head: requeue.
			want: `get demos demo
patch demos demo
get configmaps demo-head
patch demos demo
patch configmaps demo-head
get demos demo
update_status demos demo`,
			wantNext: requeue,
		},
		{
			name: "next level",
			yaml: rgdYAML("", "", "", ""),
			prep: func(h *harness) { h.run(1) },
			// head is observed, so tail resolves: both are read and applied.
			// Every resource resolved, so the prune LISTs the managed kind;
			// tail was created (the cluster mutated): requeue.
			want: applyBoth + `
list configmaps
get demos demo
update_status demos demo`,
			wantNext: requeue,
		},
		{
			name: "confirming pass",
			yaml: rgdYAML("", "", "", ""),
			prep: func(h *harness) { h.run(2) },
			// Nothing changes: the status is written once more (ACTIVE since
			// the last pass, ResourcesReady now True), and nothing requeues
			// (readiness changes come as watch events).
			want: applyBoth + `
list configmaps
get demos demo
update_status demos demo`,
		},
		{
			name: "steady",
			yaml: rgdYAML("", "", "", ""),
			prep: func(h *harness) { h.run(3) },
			// The same, but the status is unchanged and not written.
			want: applyBoth + `
list configmaps`,
		},
		{
			name: "readiness wait",
			yaml: rgdYAML("", readyWhen, "", ""),
			prep: func(h *harness) { h.run(1) },
			// head exists but its readyWhen is false, so tail stays pending
			// (not read) and the instance requeues; the status is as before.
			want: `get demos demo
get configmaps demo-head
patch demos demo
patch configmaps demo-head`,
			wantNext: requeue,
		},
		{
			name: "includeWhen false",
			yaml: rgdYAML("      withTail: boolean | default=false\n", "", includeWhen, ""),
			prep: func(h *harness) { h.run(1) },
			// tail is skipped: never read nor applied; with nothing pending
			// the prune LISTs, and the instance is ACTIVE.
			want: `get demos demo
get configmaps demo-head
patch demos demo
patch configmaps demo-head
list configmaps
get demos demo
update_status demos demo`,
		},
		{
			name: "forEach collection",
			yaml: rgdYAML("", "", "", collection),
			// The collection depends only on the schema: it is read with a
			// LIST by label and its items applied with head.
			want: `get demos demo
patch demos demo
get configmaps demo-head
list configmaps
patch demos demo
patch configmaps demo-head
patch configmaps demo-a
patch configmaps demo-b
get demos demo
update_status demos demo`,
			wantNext: requeue,
		},
		{
			name: "externalRef missing",
			yaml: rgdYAML("", "", "", external),
			// kro reads the external object and waits for it to exist; it
			// never applies it.
			want: `get demos demo
patch demos demo
get configmaps demo-head
get configmaps platform
patch demos demo
patch configmaps demo-head
get demos demo
update_status demos demo`,
			wantNext: requeue,
		},
		{
			name: "externalRef present",
			yaml: rgdYAML("", "", "", external),
			prep: func(h *harness) {
				k := api.Key{GVR: h.c.byName["demos.kro.run"].gvrs[0], Namespace: "default", Name: "platform"}
				h.create(k, configMap("default", "platform", nil))
				h.run(2)
			},
			// Observed and ready, the external reference is only read (in
			// topological order, ties by index: after tail); the prune lists
			// only the kinds kro applies.
			want: `get demos demo
get configmaps demo-head
get configmaps demo-head-tail
get configmaps platform
patch demos demo
patch configmaps demo-head
patch configmaps demo-head-tail
list configmaps
get demos demo
update_status demos demo`,
		},
		{
			name: "prune: the last node first, a node's orphans at once",
			// withTail turned off excludes tail and the collection (after
			// tail in topological order): prune deletes the collection's
			// items together, then tail, though tail's name lists first.
			yaml: rgdYAML("      withTail: boolean | default=true\n", "", includeWhen, strings.NewReplacer(
				"- id: shards\n", "- id: shards\n"+includeWhen+"\n",
				"name}-${shard}", "name}-z-${shard}").Replace(collection)),
			prep: func(h *harness) {
				h.run(4)
				inst, err := h.srv.Store.Get(h.key)
				if err != nil {
					h.t.Fatal(err)
				}
				inst.Object["spec"] = map[string]any{"name": "demo", "withTail": false}
				if _, err := h.srv.Store.Update(h.key, inst, false); err != nil {
					h.t.Fatal(err)
				}
			},
			want: `get demos demo
get configmaps demo-head
patch demos demo
patch configmaps demo-head
list configmaps
delete configmaps demo-z-a
delete configmaps demo-z-b
delete configmaps demo-head-tail
patch demos demo
get demos demo
update_status demos demo`,
			wantNext: requeue,
		},
		{
			name: "deletion: first wave",
			yaml: rgdYAML("", "", "", ""),
			prep: func(h *harness) { h.run(4); h.deleteInstance() },
			// LIST the managed kinds, delete the highest remaining wave
			// (tail: nothing depends on it), write DELETING, requeue.
			want: `get demos demo
list configmaps
delete configmaps demo-head-tail
get demos demo
update_status demos demo`,
			wantNext: requeue,
		},
		{
			name: "deletion: second wave",
			yaml: rgdYAML("", "", "", ""),
			prep: func(h *harness) { h.run(4); h.deleteInstance(); h.run(1) },
			want: `get demos demo
list configmaps
delete configmaps demo-head`,
			wantNext: requeue,
		},
		{
			name: "deletion: a wave in the order its LISTs return",
			// Nothing depends on tail (a ConfigMap) or key (a Secret): the
			// first wave. A Secret written after the instance's deletion
			// leaves the Secrets' watch cache fresh and the ConfigMaps'
			// waiting for a progress notification, so the Secrets' LIST
			// returns first and kro deletes key before tail, though tail's
			// kind comes first in the graph.
			yaml: strings.Replace(rgdYAML("", "", "", ""), `    - id: tail`, `    - id: key
      template:
        apiVersion: v1
        kind: Secret
        metadata:
          name: ${schema.spec.name}-key
        stringData:
          token: t
    - id: tail`, 1),
			prep: func(h *harness) {
				h.run(4)
				h.deleteInstance()
				other := &unstructured.Unstructured{Object: map[string]any{
					"apiVersion": "v1", "kind": "Secret",
					"metadata": map[string]any{"name": "other", "namespace": "default"},
				}}
				h.create(api.Key{GVR: h.srv.Store.GVR("v1", "Secret"), Namespace: "default", Name: "other"}, other)
			},
			want: `get demos demo
list configmaps
list secrets
delete secrets demo-key
delete configmaps demo-head-tail
get demos demo
update_status demos demo`,
			wantNext: requeue,
		},
		{
			name: "deletion: finalizer",
			yaml: rgdYAML("", "", "", ""),
			prep: func(h *harness) { h.run(4); h.deleteInstance(); h.run(2) },
			// Nothing left: GET the instance and remove the finalizer.
			want: `get demos demo
list configmaps
get demos demo
patch demos demo`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.yaml)
			if tt.prep != nil {
				tt.prep(h)
			}
			out, got := h.reconcile()
			if g := strings.Join(got, "\n"); g != tt.want {
				t.Errorf("requests:\n%s\nwant:\n%s", g, tt.want)
			}
			next := ""
			if out.requeueAfter > 0 {
				next = requeue
			}
			if out.err != nil || out.drop {
				next = fmt.Sprintf("err %v drop %v", out.err, out.drop)
			}
			if next != tt.wantNext {
				t.Errorf("ends with %q, want %q", next, tt.wantNext)
			}
		})
	}
}

func TestProgressAndReport(t *testing.T) {
	h := newHarness(t, rgdYAML("", "", "", ""))
	in := h.c.tracked[0]
	h.run(1)
	if p := h.c.Progress(); p != (Progress{}) {
		t.Errorf("after 1 reconcile: %+v, want nothing settled", p)
	}
	// The second applies tail and finds both ready in the responses: ACTIVE.
	h.run(1)
	if p := h.c.Progress(); p != (Progress{CreateSettled: 1, Ready: 1}) {
		t.Errorf("ready: %+v, want CreateSettled 1, Ready 1", p)
	}
	h.run(1) // the confirming pass
	h.c.Updated(in)
	if p := h.c.Progress(); p.UpdatePending != 1 {
		t.Errorf("updated: %+v, want UpdatePending 1", p)
	}
	h.run(1)
	if p := h.c.Progress(); p.UpdatePending != 0 {
		t.Errorf("reconciled after the update: %+v, want UpdatePending 0", p)
	}
	h.c.EndCreatePhase()
	rep := h.c.Report()
	if len(rep.Instances) != 1 {
		t.Fatalf("report holds %d instances, want 1", len(rep.Instances))
	}
	r := rep.Instances[0]
	if r.Key != h.key || r.RGD != "demos.kro.run" || !r.IsReady || r.Reconciles != 4 || r.CreateFailed || !r.UpdateDone {
		t.Errorf("record %+v", r)
	}
	// The report is a copy: changing it leaves the controller alone.
	rep.Client.Verbs["get"].Calls = -1
	rep.Stats.Requeues["x"] = 1
	if again := h.c.Report(); again.Client.Verbs["get"].Calls < 0 || again.Stats.Requeues["x"] != 0 {
		t.Error("Report shares state with the controller")
	}
}

// TestActivationEvaluatesAsTheMap checks that an expression evaluated on
// its variables as an activation gives what cel-go gives on the map, for a
// variable present, a field missing below it, and a variable absent.
func TestActivationEvaluatesAsTheMap(t *testing.T) {
	env, err := cel.NewEnv(cel.Variable("a", cel.DynType), cel.Variable("b", cel.DynType))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"a": map[string]any{"n": int64(2), "s": "x"}}
	for _, src := range []string{"a.n + 1", "a.s + 'y'", "a.missing", "b.n", "has(a.n) && !has(a.m)"} {
		t.Run(src, func(t *testing.T) {
			ast, iss := env.Compile(src)
			if iss.Err() != nil {
				t.Fatal(iss.Err())
			}
			prg, err := env.Program(ast)
			if err != nil {
				t.Fatal(err)
			}
			want, _, wantErr := prg.Eval(vars)
			got, _, gotErr := prg.Eval(activation(vars))
			if fmt.Sprint(got, gotErr) != fmt.Sprint(want, wantErr) {
				t.Errorf("on the activation: %v, %v; on the map: %v, %v", got, gotErr, want, wantErr)
			}
		})
	}
}
