package world

import (
	"strings"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/target"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The kind controllers' rules, shared with the stand-in controller of a real
// run (sim/cluster), so that the two make the same objects ready the same way.

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

// builtin reports whether apiVersion is of a group Kubernetes serves itself
// (or the harness's stand-ins for them): a custom resource may share a
// built-in kind's name (ACK's iam Role, Knative's Service) but has a
// controller of its own.
func builtin(apiVersion string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return false
	}
	return gv.Group == "" || gv.Group == StandinGroup || !strings.Contains(gv.Group, ".") || strings.HasSuffix(gv.Group, ".k8s.io")
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
	if staticKinds[k] && builtin(apiVersion) {
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

// Reads are the fields of status that RGDs' expressions read of the objects
// they make (model.RGD.StatusReads), by the objects' apiVersion and kind.
type Reads map[TypeMeta][]model.Read

// TypeMeta is an object's apiVersion and kind.
type TypeMeta struct{ APIVersion, Kind string }

// ReadsOf are the Reads of rgds.
func ReadsOf(rgds []*model.RGD) Reads {
	out := Reads{}
	for _, g := range rgds {
		for _, r := range g.Resources {
			if rs := g.StatusReads(r.ID); len(rs) > 0 && !r.External {
				k := TypeMeta{r.APIVersion, r.Kind}
				out[k] = append(out[k], rs...)
			}
		}
	}
	return out
}

// Fill sets the fields of obj's status (as SetStatus wrote it) that reads
// name for its kind: to the value a readyWhen waits for (over
// what SetStatus wrote: a custom kind's "state" is whatever its controller
// says when ready), else, when it lacks them, to one of the field's type (a
// string naming the field, 1, true, the object's creation time, an empty
// list or map). A field below a value that is not a map stays unset.
func Fill(obj *unstructured.Unstructured, reads Reads) {
	if len(reads) == 0 {
		return
	}
	for _, r := range reads[TypeMeta{obj.GetAPIVersion(), obj.GetKind()}] {
		if r.Condition != "" {
			addCondition(obj.Object, r.Path, r.Condition)
			continue
		}
		v := r.Want
		if _, found := lookup(obj.Object, r.Path); found && v == nil {
			continue
		}
		if v == nil {
			v = placeholder(obj, r)
		}
		set(obj.Object, r.Path, v)
	}
}

// lookup is the value at path (model.Item: a list's first item) in obj.
func lookup(obj map[string]any, path []string) (any, bool) {
	var cur any = obj
	for _, k := range path {
		if k == model.Item {
			l, ok := cur.([]any)
			if !ok || len(l) == 0 {
				return nil, false
			}
			cur = l[0]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// set returns x with the value at path (model.Item: a list's first item)
// set to v, making the maps and first list items on the way that are
// missing, and whether it could: a value on the way of another type leaves
// x as it was. What it writes into is SetStatus's fresh status.
func set(x any, path []string, v any) (any, bool) {
	if len(path) == 0 {
		return v, true
	}
	if path[0] == model.Item {
		l, isList := x.([]any)
		if x != nil && !isList {
			return x, false
		}
		var first any
		if len(l) > 0 {
			first = l[0]
		}
		item, ok := set(first, path[1:], v)
		if !ok {
			return x, false
		}
		if len(l) == 0 {
			return []any{item}, true
		}
		l[0] = item
		return l, true
	}
	m, isMap := x.(map[string]any)
	if x != nil && !isMap {
		return x, false
	}
	sub, ok := set(m[path[0]], path[1:], v)
	if !ok {
		return x, false
	}
	if m == nil {
		m = map[string]any{}
	}
	m[path[0]] = sub
	return m, true
}

// addCondition adds to the list at path (status.conditions) a condition of
// type typ that is true, unless it holds one of that type.
func addCondition(obj map[string]any, path []string, typ string) {
	l, found := lookup(obj, path)
	items, isList := l.([]any)
	if found && !isList {
		return
	}
	for _, c := range items {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return
		}
	}
	set(obj, path, append(items, map[string]any{"type": typ, "status": "True", "reason": "Simulated"}))
}

// placeholder is a value of r's type for obj's field.
func placeholder(obj *unstructured.Unstructured, r model.Read) any {
	switch r.Kind {
	case model.Integer:
		return int64(1)
	case model.Float:
		return 1.0
	case model.Boolean:
		return true
	case model.Timestamp:
		return obj.GetCreationTimestamp().UTC().Format(time.RFC3339)
	case model.List:
		return []any{}
	case model.Map:
		return map[string]any{}
	}
	return "simulated-" + r.Path[len(r.Path)-1]
}
