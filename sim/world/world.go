package world

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"time"

	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// staticKinds have no controller writing status: they are ready when they exist.
var staticKinds = map[string]bool{
	"ConfigMap": true, "Secret": true, "Service": true, "ServiceAccount": true, "Role": true,
	"RoleBinding": true, "ClusterRole": true, "ClusterRoleBinding": true, "Namespace": true,
	"NetworkPolicy": true, "PodDisruptionBudget": true, "HorizontalPodAutoscaler": true,
	"LimitRange": true, "ResourceQuota": true, "PriorityClass": true, "StorageClass": true,
}

// World runs the kind controllers. Their writes go straight to the store at
// the sampled moment; they are counted apart from kro's.
type World struct {
	k       *kernel.Kernel
	store   *api.Store
	t       *target.Target
	rng     *rand.Rand
	skip    func(api.Key) bool
	pending map[api.Key]int64 // generation a status write is scheduled for
	ips     int

	calls map[verb.Verb]int // world_api_calls by verb
}

// New installs the world's admission defaults and controllers on the store.
// skip tells which objects are not the world's business (kro's instances).
func New(k *kernel.Kernel, store *api.Store, t *target.Target, rng *rand.Rand, skip func(api.Key) bool) *World {
	w := &World{k: k, store: store, t: t, rng: rng, skip: skip, pending: map[api.Key]int64{}, calls: map[verb.Verb]int{}}
	store.Admit(w.admit)
	store.OnWrite(w.observe)
	return w
}

// Calls is how many requests of verb the world made: its kind
// controllers' and the workload's own.
func (w *World) Calls(v verb.Verb) int { return w.calls[v] }

// Create, Update and Delete are the workload's requests, as a user's
// kubectl makes them: straight to the store, counted as the world's.
func (w *World) Create(k api.Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	w.calls[verb.Create]++
	return w.store.Create(k, obj)
}

// Update replaces an object's spec (not its status).
func (w *World) Update(k api.Key, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	w.calls[verb.Update]++
	return w.store.Update(k, obj, false)
}

// Delete deletes an object.
func (w *World) Delete(k api.Key) error {
	w.calls[verb.Delete]++
	return w.store.Delete(k)
}

// admit allocates a Service's cluster IP on create, as the API server does.
func (w *World) admit(v verb.Verb, obj *unstructured.Unstructured) {
	if v != verb.Create || obj.GetKind() != "Service" {
		return
	}
	if t, _, _ := unstructured.NestedString(obj.Object, "spec", "type"); t == "ExternalName" {
		return
	}
	if ip, _, _ := unstructured.NestedString(obj.Object, "spec", "clusterIP"); ip != "" {
		return
	}
	w.ips++
	ip := fmt.Sprintf("10.96.%d.%d", (w.ips/250)%250, w.ips%250+1)
	_ = unstructured.SetNestedField(obj.Object, ip, "spec", "clusterIP")
	_ = unstructured.SetNestedStringSlice(obj.Object, []string{ip}, "spec", "clusterIPs")
}

func (w *World) rule(kind string) (target.Readiness, bool) {
	if staticKinds[kind] {
		return target.Readiness{}, false
	}
	if r, ok := w.t.Readiness[kind]; ok {
		return r, true
	}
	r, ok := w.t.Readiness["*"]
	return r, ok
}

// observe schedules a status write when an object's spec generation is new.
func (w *World) observe(e api.Event) {
	if e.Type == "DELETED" {
		delete(w.pending, e.Key)
		return
	}
	if w.skip(e.Key) || e.Object.GetDeletionTimestamp() != nil {
		return
	}
	r, ok := w.rule(e.Object.GetKind())
	if !ok {
		return
	}
	observed, _, _ := unstructured.NestedInt64(e.Object.Object, "status", "observedGeneration")
	if observed == e.Generation || w.pending[e.Key] == e.Generation {
		return
	}
	w.pending[e.Key] = e.Generation
	key, gen := e.Key, e.Generation
	w.k.After(r.Sample(w.rng.NormFloat64()), func() { w.ready(key, gen) })
}

// ready writes the status the kind's controller would, for generation gen.
func (w *World) ready(key api.Key, gen int64) {
	if w.pending[key] != gen {
		return // deleted, or a newer generation is scheduled
	}
	delete(w.pending, key)
	obj, err := w.store.Get(key)
	w.calls[verb.Get]++
	if err != nil || obj.GetGeneration() != gen {
		return
	}
	obj = &unstructured.Unstructured{Object: maps.Clone(obj.Object)} // the store's copy is shared
	setStatus(obj, gen, w.k.Now())
	w.calls[verb.UpdateStatus]++
	_, _ = w.store.Update(key, obj, true)
}

// setStatus fills the status fields readyWhen expressions read, by kind.
func setStatus(obj *unstructured.Unstructured, gen int64, now time.Duration) {
	replicas, found, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas")
	if !found {
		replicas = 1
	}
	st := map[string]any{"observedGeneration": gen}
	cond := func(t string) map[string]any {
		return map[string]any{"type": t, "status": "True", "reason": "Simulated"}
	}
	switch obj.GetKind() {
	case "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet":
		for _, f := range []string{"replicas", "readyReplicas", "availableReplicas", "updatedReplicas", "currentReplicas"} {
			st[f] = replicas
		}
		st["conditions"] = []any{cond("Available"), cond("Progressing")}
	case "Ingress":
		st["loadBalancer"] = map[string]any{"ingress": []any{map[string]any{
			"hostname": obj.GetName() + "." + obj.GetNamespace() + ".lb.krosim.local"}}}
	case "Job":
		st["succeeded"] = int64(1)
		st["conditions"] = []any{cond("Complete")}
	case "PersistentVolumeClaim":
		st["phase"] = "Bound"
	default:
		st["ready"] = true
		st["state"] = "ACTIVE"
		st["conditions"] = []any{cond("Ready")}
	}
	obj.Object["status"] = st
}
