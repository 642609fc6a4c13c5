package cluster

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/world"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

var (
	standinDeployments = schema.GroupVersionResource{Group: world.StandinGroup, Version: "v1", Resource: "standindeployments"}
	standinIngresses   = schema.GroupVersionResource{Group: world.StandinGroup, Version: "v1", Resource: "standiningresses"}
)

func fixedReadiness(d time.Duration) target.Readiness {
	return target.Readiness{P50: target.Duration(d), P95: target.Duration(d), P99: target.Duration(d)}
}

func fakeDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		standinDeployments: "StandinDeploymentList",
		standinIngresses:   "StandinIngressList",
		crdGVR:             "CustomResourceDefinitionList",
	}, objs...)
}

func standin(kind, name string, gen int64, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": world.StandinGroup + "/v1", "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": "ns", "generation": gen},
		"spec":     spec,
	}}
}

// waitFor polls cond until it holds; the controller's informer and writes
// run on goroutines of their own.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStandinsWriteStatus runs the controller on client-go's fake dynamic
// client and a fake clock: an object of each stand-in kind that exists when
// it starts gets its real kind's status exactly after the delay drawn for
// it (the simulated world's draw for that object, world.Draws),
// through one GET and one status PUT.
func TestStandinsWriteStatus(t *testing.T) {
	const seed = 7
	spread := target.Readiness{P50: target.Duration(2 * time.Second), P95: target.Duration(3 * time.Second), P99: target.Duration(4 * time.Second)}
	for _, c := range []struct {
		kind  StandinKind
		spec  map[string]any
		field []string
		want  any
	}{
		{StandinKind{GVR: standinDeployments, Kind: "StandinDeployment", Readiness: spread},
			map[string]any{"replicas": int64(3)}, []string{"availableReplicas"}, int64(3)},
		{StandinKind{GVR: standinIngresses, Kind: "StandinIngress", Readiness: fixedReadiness(time.Second)},
			nil, []string{"loadBalancer", "ingress"}, []any{map[string]any{"hostname": "web.ns.lb.krosim.local"}}},
	} {
		t.Run(c.kind.Kind, func(t *testing.T) {
			dyn := fakeDynamic(standin(c.kind.Kind, "web", 1, c.spec))
			fc := clocktesting.NewFakeClock(time.Unix(0, 0))
			s, err := StartStandins(context.Background(), dyn, []StandinKind{c.kind}, StandinOptions{Seed: seed, Clock: fc})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			status := func(field ...string) any {
				obj, err := dyn.Resource(c.kind.GVR).Namespace("ns").Get(context.Background(), "web", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				v, _, _ := unstructured.NestedFieldCopy(obj.Object, append([]string{"status"}, field...)...)
				return v
			}
			waitFor(t, "the write to be scheduled", func() bool { return fc.Waiters() == 1 })
			delay := c.kind.Readiness.Sample(world.NewDraws(seed).Deviate(world.StandinGroup+"/v1", c.kind.Kind, "ns", "web", 1))
			fc.Step(delay - time.Millisecond)
			if fc.Waiters() != 1 || status() != nil {
				t.Fatalf("the write fired before its delay %s", delay)
			}
			fc.Step(2 * time.Millisecond)
			waitFor(t, "the status write", func() bool { return s.Calls(verb.UpdateStatus) == 1 })
			if got := status(c.field...); !equalJSON(got, c.want) {
				t.Errorf("status.%v = %v, want %v", c.field, got, c.want)
			}
			if got := status("observedGeneration"); got != int64(1) {
				t.Errorf("status.observedGeneration = %v, want 1", got)
			}
			if g := s.Calls(verb.Get); g != 1 {
				t.Errorf("%d GETs, want 1 before the status PUT", g)
			}
			// Its own write's event schedules nothing more.
			waitFor(t, "the informer to see the write", func() bool {
				obj, _ := s.factory.ForResource(c.kind.GVR).Lister().ByNamespace("ns").Get("web")
				u, _ := obj.(*unstructured.Unstructured)
				return u != nil && u.Object["status"] != nil
			})
			if fc.Waiters() != 0 {
				t.Errorf("%d writes scheduled after the status was written", fc.Waiters())
			}
			rep := s.Report("ready-target", seed)
			if rep.StatusWrites != 1 || rep.Errors != 0 || rep.Requests[c.kind.GVR.Resource][verb.Get] != 1 ||
				rep.Requests[c.kind.GVR.Resource][verb.UpdateStatus] != 1 || rep.Readiness[c.kind.Kind] != c.kind.Readiness {
				t.Errorf("report = %+v", rep)
			}
		})
	}
}

// TestStandinsNewGeneration changes an object's spec generation: a write
// is scheduled for it; deleting the object cancels it without a request.
func TestStandinsNewGeneration(t *testing.T) {
	obj := standin("StandinDeployment", "web", 1, nil)
	_ = unstructured.SetNestedField(obj.Object, int64(1), "status", "observedGeneration")
	dyn, fc, s := startDeployments(t, obj)
	defer s.Stop()
	waitFor(t, "the informer's watch", func() bool { return watching(dyn, standinDeployments) })
	if fc.Waiters() != 0 {
		t.Fatalf("a write was scheduled for an object whose status observed its generation")
	}
	client := dyn.Resource(standinDeployments).Namespace("ns")
	obj.SetGeneration(2)
	if _, err := client.Update(context.Background(), obj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "generation 2's write to be scheduled", func() bool { return fc.Waiters() == 1 })
	if err := client.Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted object's write to be cancelled", func() bool { return fc.Waiters() == 0 })
	fc.Step(time.Hour)
	if n := s.Calls(verb.Get) + s.Calls(verb.UpdateStatus); n != 0 {
		t.Errorf("%d requests for a deleted object", n)
	}
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// startDeployments starts a controller of StandinDeployments (ready after
// 1s) on a fake clock and a fake server holding obj.
func startDeployments(t *testing.T, obj *unstructured.Unstructured) (*dynamicfake.FakeDynamicClient, *clocktesting.FakeClock, *Standins) {
	t.Helper()
	dyn := fakeDynamic(obj)
	fc := clocktesting.NewFakeClock(time.Unix(0, 0))
	s, err := StartStandins(context.Background(), dyn,
		[]StandinKind{{GVR: standinDeployments, Kind: "StandinDeployment", Readiness: fixedReadiness(time.Second)}},
		StandinOptions{Seed: 1, Clock: fc})
	if err != nil {
		t.Fatal(err)
	}
	return dyn, fc, s
}

func watching(dyn *dynamicfake.FakeDynamicClient, gvr schema.GroupVersionResource) bool {
	for _, a := range dyn.Actions() {
		if a.GetVerb() == "watch" && a.GetResource() == gvr {
			return true
		}
	}
	return false
}

// TestStandinsStop stops a controller with a write pending: the write
// never happens and Stop returns.
func TestStandinsStop(t *testing.T) {
	_, fc, s := startDeployments(t, standin("StandinDeployment", "web", 1, nil))
	waitFor(t, "the write to be scheduled", func() bool { return fc.Waiters() == 1 })
	s.Stop()
	if fc.Waiters() != 0 {
		t.Errorf("%d timers left after Stop", fc.Waiters())
	}
	fc.Step(time.Hour)
	if n := s.Calls(verb.Get) + s.Calls(verb.UpdateStatus); n != 0 {
		t.Errorf("%d requests after Stop", n)
	}
}

func crd(kind, plural string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": plural + "." + world.StandinGroup},
		"spec": map[string]any{
			"group":    world.StandinGroup,
			"names":    map[string]any{"kind": kind, "plural": plural},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true}},
		},
	}}
}

// TestStandinKinds finds the stand-in kinds a target's readiness covers:
// static kinds never, the others by their real kind's rule or "*".
func TestStandinKinds(t *testing.T) {
	dyn := fakeDynamic(crd("StandinDeployment", "standindeployments"), crd("StandinConfigMap", "standinconfigmaps"),
		crd("StandinIngress", "standiningresses"))
	tg := &target.Target{Readiness: map[string]target.Readiness{"Deployment": fixedReadiness(2 * time.Second)}}
	kinds, err := StandinKinds(context.Background(), dyn, tg)
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 1 || kinds[0].Kind != "StandinDeployment" || kinds[0].GVR != standinDeployments ||
		kinds[0].Readiness != fixedReadiness(2*time.Second) {
		t.Errorf("kinds = %+v, want StandinDeployment alone", kinds)
	}
	tg.Readiness["*"] = fixedReadiness(time.Second)
	if kinds, _ = StandinKinds(context.Background(), dyn, tg); len(kinds) != 2 || kinds[1].Kind != "StandinIngress" {
		t.Errorf("with a * rule: kinds = %+v, want StandinDeployment and StandinIngress", kinds)
	}
	rgd := &model.RGD{Resources: []*model.Resource{
		{APIVersion: world.StandinGroup + "/v1", Kind: "StandinConfigMap"},
		{APIVersion: world.StandinGroup + "/v1", Kind: "StandinIngress"},
		{APIVersion: "example.com/v1", Kind: "Widget"},
		{APIVersion: world.StandinGroup + "/v1", Kind: "StandinDeployment"},
	}}
	if got := StandinsUsed(tg, []*model.RGD{rgd}); !slices.Equal(got, []string{"StandinDeployment", "StandinIngress"}) {
		t.Errorf("StandinsUsed = %v", got)
	}
	if got := StandinsUsed(&target.Target{}, []*model.RGD{rgd}); len(got) != 0 {
		t.Errorf("StandinsUsed with no readiness = %v, want none", got)
	}
}
