package world

import (
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func fixed(d time.Duration) target.Readiness {
	return target.Readiness{P50: target.Duration(d), P95: target.Duration(d), P99: target.Duration(d)}
}

func object(apiVersion, kind, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": "ns"},
		"spec":     spec,
	}}
}

// TestReadinessDelays creates one object of each kind at time 0 and checks
// each kind's status just before and just after the target's delay for it.
func TestReadinessDelays(t *testing.T) {
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	tg = tg.Clone()
	tg.Readiness = map[string]target.Readiness{
		"Deployment": fixed(3 * time.Second), "Job": fixed(7 * time.Second), "*": fixed(time.Second),
	}
	k := kernel.New()
	defer k.Shutdown()
	store := api.NewStore(k.Now)
	instance := schema.GroupVersionResource{Group: "kro.run", Version: "v1alpha1", Resource: "demos"}
	w := New(k, store, tg, 1, func(key api.Key) bool { return key.GVR == instance })
	objs := []struct {
		obj   *unstructured.Unstructured
		delay time.Duration // 0: never gets a status
		field []string      // a status field its kind's controller sets
		want  any
	}{
		{object("apps/v1", "Deployment", "web", map[string]any{"replicas": int64(2)}), 3 * time.Second, []string{"availableReplicas"}, int64(2)},
		{object("batch/v1", "Job", "migrate", nil), 7 * time.Second, []string{"succeeded"}, int64(1)},
		{object("example.com/v1", "Widget", "w", nil), time.Second, []string{"state"}, "ACTIVE"},
		{object("v1", "ConfigMap", "cfg", nil), 0, []string{"observedGeneration"}, nil},
		{object("kro.run/v1alpha1", "Demo", "demo", nil), 0, []string{"observedGeneration"}, nil},
		// Stand-ins (the real-API harness's) follow the kinds they stand in for.
		{object(StandinGroup+"/v1", "StandinDeployment", "web", map[string]any{"replicas": int64(3)}), 3 * time.Second, []string{"readyReplicas"}, int64(3)},
		{object(StandinGroup+"/v1", "StandinConfigMap", "cfg", nil), 0, []string{"observedGeneration"}, nil},
	}
	keys := make([]api.Key, len(objs))
	for i, o := range objs {
		keys[i] = api.Key{GVR: store.GVR(o.obj.GetAPIVersion(), o.obj.GetKind()), Namespace: "ns", Name: o.obj.GetName()}
		if _, err := store.Create(keys[i], o.obj); err != nil {
			t.Fatal(err)
		}
	}
	status := func(i int) any {
		obj, err := store.Get(keys[i])
		if err != nil {
			t.Fatal(err)
		}
		v, _, _ := unstructured.NestedFieldNoCopy(obj.Object, append([]string{"status"}, objs[i].field...)...)
		return v
	}
	for i, o := range objs {
		at := o.delay
		if at == 0 {
			at = 10 * time.Second
		}
		// A millisecond either side: the delay comes through exp(log(d)),
		// which may round it by a nanosecond.
		k.At(at-time.Millisecond, func() {
			if v := status(i); v != nil {
				t.Errorf("%s: status.%v = %v before its delay %s", keys[i].Name, o.field, v, o.delay)
			}
		})
		k.At(at+time.Millisecond, func() {
			if v := status(i); v != o.want {
				t.Errorf("%s: status.%v = %v (%T) at %s, want %v", keys[i].Name, o.field, v, v, at, o.want)
			}
		})
	}
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	// Four status writes, each a GET then a PUT of the status.
	if w.Calls(verb.Get) != 4 || w.Calls(verb.UpdateStatus) != 4 {
		t.Errorf("world calls: %d get, %d update_status; want 4 of each", w.Calls(verb.Get), w.Calls(verb.UpdateStatus))
	}
}

// TestNewGenerationReschedules checks that a spec change before the status
// is written moves it to the delay after the change, for the new generation.
func TestNewGenerationReschedules(t *testing.T) {
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	tg = tg.Clone()
	tg.Readiness = map[string]target.Readiness{"Deployment": fixed(3 * time.Second)}
	k := kernel.New()
	defer k.Shutdown()
	store := api.NewStore(k.Now)
	New(k, store, tg, 1, func(api.Key) bool { return false })
	obj := object("apps/v1", "Deployment", "web", map[string]any{"replicas": int64(1)})
	key := api.Key{GVR: store.GVR("apps/v1", "Deployment"), Namespace: "ns", Name: "web"}
	if _, err := store.Create(key, obj); err != nil {
		t.Fatal(err)
	}
	k.At(2*time.Second, func() {
		cur, _ := store.Get(key)
		next := cur.DeepCopy()
		_ = unstructured.SetNestedField(next.Object, int64(4), "spec", "replicas")
		if _, err := store.Update(key, next, false); err != nil {
			t.Fatal(err)
		}
	})
	observed := func() (int64, int64) {
		cur, _ := store.Get(key)
		gen, _, _ := unstructured.NestedInt64(cur.Object, "status", "observedGeneration")
		n, _, _ := unstructured.NestedInt64(cur.Object, "status", "availableReplicas")
		return gen, n
	}
	k.At(3*time.Second+time.Millisecond, func() {
		if gen, _ := observed(); gen != 0 {
			t.Errorf("status for generation %d at 3s: the first generation's write should be dropped", gen)
		}
	})
	k.At(5*time.Second+time.Millisecond, func() {
		cur, _ := store.Get(key)
		if gen, n := observed(); gen != cur.GetGeneration() || n != 4 {
			t.Errorf("at 5s: observedGeneration %d (want %d), availableReplicas %d (want 4)", gen, cur.GetGeneration(), n)
		}
	})
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
}

func TestKind(t *testing.T) {
	for _, c := range []struct{ apiVersion, kind, want string }{
		{"apps/v1", "Deployment", "Deployment"},
		{StandinGroup + "/v1", "StandinDeployment", "Deployment"},
		{StandinGroup + "/v1", "StandinIngress", "Ingress"},
		{StandinGroup + "/v1", "Standin", "Standin"},                 // no kind after the prefix
		{"example.com/v1", "StandinDeployment", "StandinDeployment"}, // another group's kind
		{StandinGroup + "/v1", "Widget", "Widget"},
		{"not/a/version", "StandinJob", "StandinJob"},
	} {
		if got := Kind(c.apiVersion, c.kind); got != c.want {
			t.Errorf("Kind(%q, %q) = %q, want %q", c.apiVersion, c.kind, got, c.want)
		}
	}
}

// TestStandinStatus checks that a stand-in gets its real kind's status
// shape: an Ingress's load balancer, not the default Ready condition.
func TestStandinStatus(t *testing.T) {
	obj := object(StandinGroup+"/v1", "StandinIngress", "web", nil)
	SetStatus(obj, 4)
	host, _, _ := unstructured.NestedSlice(obj.Object, "status", "loadBalancer", "ingress")
	if len(host) != 1 || host[0].(map[string]any)["hostname"] != "web.ns.lb.krosim.local" {
		t.Errorf("status.loadBalancer.ingress = %v, want one hostname web.ns.lb.krosim.local", host)
	}
	if g, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration"); g != 4 {
		t.Errorf("observedGeneration = %d, want 4", g)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(obj.Object, "status", "state"); found {
		t.Errorf("a stand-in Ingress got the default status: %v", obj.Object["status"])
	}
}

// TestFill writes the status fields RGDs read that the kind's controller
// does not: the value a readyWhen waits for, else one of the field's type;
// never over what the controller wrote.
func TestFill(t *testing.T) {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "s3.services.k8s.aws/v1alpha1", "kind": "Bucket",
		"metadata": map[string]any{"name": "b", "creationTimestamp": "2026-01-01T00:01:40Z"},
	}}
	SetStatus(obj, 1)
	Fill(obj, Reads{{"s3.services.k8s.aws/v1alpha1", "Bucket"}: {
		{Path: []string{"status", "ackResourceMetadata", "arn"}, Kind: model.Dyn},
		{Path: []string{"status", "phase"}, Kind: model.String, Want: "Synced"},
		{Path: []string{"status", "state"}, Kind: model.String, Want: "available"}, // over SetStatus's
		{Path: []string{"status", "ready"}, Kind: model.Boolean},                   // SetStatus's stays
		{Path: []string{"status", "count"}, Kind: model.Integer},
		{Path: []string{"status", "completionTime"}, Kind: model.Timestamp},
		{Path: []string{"status", "state", "detail"}, Kind: model.String}, // below a string: left alone
		{Path: []string{"status", "loadBalancer", "ingress", model.Item, "hostname"}, Kind: model.String},
		{Path: []string{"status", "conditions"}, Kind: model.List, Condition: "ACK.ResourceSynced"},
		{Path: []string{"status", "conditions"}, Kind: model.List, Condition: "Ready"}, // SetStatus's
	}})
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	if len(conds) != 2 || conds[1].(map[string]any)["type"] != "ACK.ResourceSynced" || conds[1].(map[string]any)["status"] != "True" {
		t.Errorf("conditions %v, want Ready and a true ACK.ResourceSynced", conds)
	}
	lb, _, _ := unstructured.NestedSlice(obj.Object, "status", "loadBalancer", "ingress")
	if len(lb) != 1 || lb[0].(map[string]any)["hostname"] != "simulated-hostname" {
		t.Errorf("status.loadBalancer.ingress %v, want one item with a hostname", lb)
	}
	for path, want := range map[string]any{
		"ackResourceMetadata.arn": "simulated-arn", "phase": "Synced", "ready": true,
		"count": int64(1), "completionTime": "2026-01-01T00:01:40Z", "state": "available",
	} {
		got, _, _ := unstructured.NestedFieldNoCopy(obj.Object, append([]string{"status"}, strings.Split(path, ".")...)...)
		if got != want {
			t.Errorf("status.%s = %v, want %v", path, got, want)
		}
	}
}

// TestStaticKindsAreBuiltIn: a built-in kind with no controller writing
// status is ready when it exists; a custom resource of the same name (ACK's
// iam Role, Knative's Service) has a controller, so it gets the target's
// rule for other kinds.
func TestStaticKindsAreBuiltIn(t *testing.T) {
	tg := &target.Target{Readiness: map[string]target.Readiness{"*": fixed(time.Second)}}
	for _, c := range []struct {
		apiVersion, kind string
		controlled       bool
	}{
		{"rbac.authorization.k8s.io/v1", "Role", false},
		{"v1", "ConfigMap", false},
		{"policy/v1", "PodDisruptionBudget", false},
		{StandinGroup + "/v1", "StandinConfigMap", false},
		{"iam.services.k8s.aws/v1alpha1", "Role", true},
		{"serving.knative.dev/v1", "Service", true},
		{"example.com/v1", "Widget", true},
	} {
		if _, ok := Rule(tg, c.apiVersion, c.kind); ok != c.controlled {
			t.Errorf("Rule(%s, %s): controlled %v, want %v", c.apiVersion, c.kind, ok, c.controlled)
		}
	}
}
