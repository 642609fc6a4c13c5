package world

import (
	"strings"

	"github.com/krosim/krosim/sim/target"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The kind controllers' rules, shared with the stand-in controller of a real
// run (sim/cluster), so that the two make the same objects ready the same way.

// Stream is the PCG stream of the world's random source: a run with seed s
// draws its readiness delays from rand.NewPCG(s, Stream), one standard
// normal deviate per status write scheduled.
const Stream = 2

// StandinGroup is the API group of the real-API harness's stand-in kinds
// (testdata/realapi/standins.yaml): custom resources standing in for
// built-in kinds on a server that serves none. StandinDeployment stands in
// for Deployment, and so on.
const StandinGroup = "standin.krosim.dev"

// StandinPrefix begins the name of every stand-in kind.
const StandinPrefix = "Standin"

// staticKinds have no controller writing status: they are ready when they exist.
var staticKinds = map[string]bool{
	"ConfigMap": true, "Secret": true, "Service": true, "ServiceAccount": true, "Role": true,
	"RoleBinding": true, "ClusterRole": true, "ClusterRoleBinding": true, "Namespace": true,
	"NetworkPolicy": true, "PodDisruptionBudget": true, "HorizontalPodAutoscaler": true,
	"LimitRange": true, "ResourceQuota": true, "PriorityClass": true, "StorageClass": true,
}

// Kind is the kind whose controller looks after objects of apiVersion and
// kind: the kind itself, or for a stand-in the kind it stands in for.
func Kind(apiVersion, kind string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err == nil && gv.Group == StandinGroup && strings.HasPrefix(kind, StandinPrefix) && len(kind) > len(StandinPrefix) {
		return strings.TrimPrefix(kind, StandinPrefix)
	}
	return kind
}

// Rule is the readiness delay of t for objects of apiVersion and kind: the
// rule of the kind its controller looks after (Kind), else t's "*" rule.
// ok is false when no controller writes their status: static kinds are
// ready when they exist, and so is any kind t has no rule for.
func Rule(t *target.Target, apiVersion, kind string) (r target.Readiness, ok bool) {
	k := Kind(apiVersion, kind)
	if staticKinds[k] {
		return target.Readiness{}, false
	}
	if r, ok := t.Readiness[k]; ok {
		return r, true
	}
	r, ok = t.Readiness["*"]
	return r, ok
}

// SetStatus replaces obj's status with what its kind's controller writes
// once the object is ready for spec generation gen: the fields readyWhen
// expressions read, by the kind its controller looks after (Kind).
func SetStatus(obj *unstructured.Unstructured, gen int64) {
	replicas, found, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas")
	if !found {
		replicas = 1
	}
	st := map[string]any{"observedGeneration": gen}
	cond := func(t string) map[string]any {
		return map[string]any{"type": t, "status": "True", "reason": "Simulated"}
	}
	switch Kind(obj.GetAPIVersion(), obj.GetKind()) {
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
