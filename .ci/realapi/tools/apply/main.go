// Command apply (built as krosim-apply) is a minimal kubectl stand-in for the
// krosim real-API harness.
//
// It talks to the server with client-go's dynamic client and maps kinds to
// resources by reading the CRDs themselves instead of using discovery, so it
// also works against the unmodified apiextensions-apiserver, which has no
// root discovery (/apis is 404) and where kubectl therefore fails.
//
// Usage:
//
//	krosim-apply [flags] apply FILE...                  server-side apply every YAML document
//	krosim-apply [flags] delete FILE...                 delete every YAML document (missing is fine)
//	krosim-apply [flags] get APIVERSION KIND [NS/]NAME  print one object as YAML
//	krosim-apply [flags] list APIVERSION KIND [NS]      print "namespace/name" of each object
//	krosim-apply [flags] wait APIVERSION KIND [NS/]NAME [COND]
//	    wait until the object exists and, if COND is given, until COND holds:
//	    COND is either a condition type that must have status "True"
//	    (e.g. Ready) or PATH=VALUE with a dotted field path (e.g. spec.replicas=2).
//	krosim-apply [flags] wait-gone APIVERSION KIND [NS/]NAME
//	    wait until the object is deleted
//
// Flags: -kubeconfig (default $KUBECONFIG), -timeout (default 60s).
// "apply" waits for every CRD it applies to be Established and for its watch
// cache to be initialized (see waitWatchCache), and retries
// documents whose kind is not served yet (e.g. an instance whose CRD kro has
// still to create) until the timeout.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

const fieldManager = "krosim-realapi"

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// pollInterval is how often waits re-check the server.
const pollInterval = 250 * time.Millisecond

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "path to the kubeconfig")
	timeout := flag.Duration("timeout", 60*time.Second, "overall deadline for the command")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: krosim-apply [-kubeconfig PATH] [-timeout D] apply|delete|get|list|wait|wait-gone ARGS...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || *kubeconfig == "" {
		flag.Usage()
		os.Exit(2)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *kubeconfig, flag.Arg(0), flag.Args()[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "krosim-apply:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, cmd string, args []string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	// The waits poll several requests per second; client-go's default limit
	// (5 QPS) would throttle them for no benefit on a private server.
	cfg.QPS, cfg.Burst = 50, 100
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	t := &tool{client: client}

	switch cmd {
	case "apply", "delete":
		if len(args) == 0 {
			return fmt.Errorf("%s needs at least one file", cmd)
		}
		var docs []*unstructured.Unstructured
		for _, f := range args {
			d, err := readDocuments(f)
			if err != nil {
				return err
			}
			docs = append(docs, d...)
		}
		if cmd == "apply" {
			return t.applyAll(ctx, docs)
		}
		return t.deleteAll(ctx, docs)
	case "get", "wait", "wait-gone":
		if len(args) < 3 || (cmd != "wait" && len(args) != 3) || len(args) > 4 {
			return fmt.Errorf("usage: %s APIVERSION KIND [NS/]NAME%s", cmd, map[bool]string{true: " [COND]"}[cmd == "wait"])
		}
		ns, name := splitNamespacedName(args[2])
		switch cmd {
		case "get":
			return t.get(ctx, args[0], args[1], ns, name)
		case "wait":
			cond := ""
			if len(args) == 4 {
				cond = args[3]
			}
			return t.wait(ctx, args[0], args[1], ns, name, cond)
		default:
			return t.waitGone(ctx, args[0], args[1], ns, name)
		}
	case "list":
		if len(args) < 2 || len(args) > 3 {
			return errors.New("usage: list APIVERSION KIND [NS]")
		}
		ns := ""
		if len(args) == 3 {
			ns = args[2]
		}
		return t.list(ctx, args[0], args[1], ns)
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
}

type tool struct {
	client dynamic.Interface
}

// mapping is what the dynamic client needs to address a kind.
type mapping struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}

var errKindUnknown = errors.New("kind not served")

// resolve maps apiVersion+kind to a resource by scanning the CRDs. It returns
// errKindUnknown (wrapped) when no CRD serves the kind yet.
func (t *tool) resolve(ctx context.Context, apiVersion, kind string) (mapping, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return mapping{}, err
	}
	if gv.Group == crdGVR.Group && kind == "CustomResourceDefinition" {
		return mapping{gvr: gv.WithResource(crdGVR.Resource)}, nil
	}
	crds, err := t.client.Resource(crdGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return mapping{}, fmt.Errorf("list CRDs: %w", err)
	}
	for _, crd := range crds.Items {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		crdKind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		if group != gv.Group || crdKind != kind {
			continue
		}
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			vm, _ := v.(map[string]interface{})
			served, _ := vm["served"].(bool)
			if vm["name"] == gv.Version && served {
				plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
				scope, _, _ := unstructured.NestedString(crd.Object, "spec", "scope")
				return mapping{gvr: gv.WithResource(plural), namespaced: scope == "Namespaced"}, nil
			}
		}
	}
	return mapping{}, fmt.Errorf("%w: %s %s", errKindUnknown, apiVersion, kind)
}

func (t *tool) resourceFor(m mapping, namespace string) dynamic.ResourceInterface {
	if m.namespaced {
		if namespace == "" {
			namespace = "default"
		}
		return t.client.Resource(m.gvr).Namespace(namespace)
	}
	return t.client.Resource(m.gvr)
}

// retryable reports errors that go away by themselves shortly: a kind whose
// CRD is not there or not served yet, a watch cache still initializing.
func retryable(err error) bool {
	return errors.Is(err, errKindUnknown) || apierrors.IsNotFound(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsTooManyRequests(err)
}

// poll calls f until it returns done or a non-retryable error, or ctx ends.
// On timeout the error names the last retryable error seen, if any.
func poll(ctx context.Context, what string, f func() (done bool, err error)) error {
	var last error
	for {
		done, err := f()
		if err == nil && done {
			return nil
		}
		if err != nil && ctx.Err() == nil && !retryable(err) {
			return err
		}
		if err != nil && ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("timed out waiting for %s: %w", what, last)
			}
			return fmt.Errorf("timed out waiting for %s", what)
		case <-time.After(pollInterval):
		}
	}
}

func describe(o *unstructured.Unstructured) string {
	s := o.GetKind() + " " + o.GetName()
	if o.GetNamespace() != "" {
		s = o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
	}
	return s
}

func (t *tool) applyAll(ctx context.Context, docs []*unstructured.Unstructured) error {
	var crds []*unstructured.Unstructured
	for _, obj := range docs {
		if err := t.applyOne(ctx, obj); err != nil {
			return fmt.Errorf("apply %s: %w", describe(obj), err)
		}
		fmt.Printf("applied %s\n", describe(obj))
		if obj.GetKind() == "CustomResourceDefinition" && obj.GetAPIVersion() == "apiextensions.k8s.io/v1" {
			crds = append(crds, obj)
		}
	}
	// Warm all watch caches together: each initialization costs the caller
	// a Retry-After second, so start them all before waiting for any.
	for _, crd := range crds {
		if err := t.waitEstablished(ctx, crd.GetName()); err != nil {
			return err
		}
		for _, gvr := range servedResources(crd) {
			// Any request creates the resource's storage and starts its cache.
			if _, err := t.client.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				return fmt.Errorf("list %s: %w", gvr, err)
			}
		}
	}
	for _, crd := range crds {
		for _, gvr := range servedResources(crd) {
			if err := t.waitWatchCache(ctx, gvr); err != nil {
				return err
			}
		}
	}
	return nil
}

// servedResources lists the resources a CRD object serves, one per served version.
func servedResources(crd *unstructured.Unstructured) []schema.GroupVersionResource {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var out []schema.GroupVersionResource
	for _, v := range versions {
		vm, _ := v.(map[string]interface{})
		if served, _ := vm["served"].(bool); served {
			version, _ := vm["name"].(string)
			out = append(out, schema.GroupVersionResource{Group: group, Version: version, Resource: plural})
		}
	}
	return out
}

func (t *tool) applyOne(ctx context.Context, obj *unstructured.Unstructured) error {
	body, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	return poll(ctx, "apply of "+describe(obj), func() (bool, error) {
		m, err := t.resolve(ctx, obj.GetAPIVersion(), obj.GetKind())
		if err != nil {
			return false, err
		}
		_, err = t.resourceFor(m, obj.GetNamespace()).Patch(ctx, obj.GetName(), types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: fieldManager, Force: &force})
		return err == nil, err
	})
}

func (t *tool) waitEstablished(ctx context.Context, name string) error {
	return poll(ctx, "CRD "+name+" to be Established", func() (bool, error) {
		crd, err := t.client.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return conditionTrue(crd, "Established"), nil
	})
}

// waitWatchCache waits until the watch cache of a CRD's resource serves. The
// server creates a resource's storage and watch cache lazily, on the first
// request for it, and answers streaming list watches (what informers send)
// with 429 + Retry-After: 1 until the cache is initialized; without this, the
// first controller to watch a kind waits a second or more. Built-in kinds on
// a real cluster are always warm, and the stand-in kinds play their part.
// The watch below is the one informers send.
func (t *tool) waitWatchCache(ctx context.Context, gvr schema.GroupVersionResource) error {
	sendInitialEvents, timeout := true, int64(1)
	return poll(ctx, "watch cache of "+gvr.String(), func() (bool, error) {
		w, err := t.client.Resource(gvr).Watch(ctx, metav1.ListOptions{
			SendInitialEvents:    &sendInitialEvents,
			ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
			AllowWatchBookmarks:  true,
			TimeoutSeconds:       &timeout,
		})
		if err != nil {
			return false, err
		}
		w.Stop()
		return true, nil
	})
}

func (t *tool) deleteAll(ctx context.Context, docs []*unstructured.Unstructured) error {
	// Reverse order, so that objects are deleted before the CRDs serving them.
	for i := len(docs) - 1; i >= 0; i-- {
		obj := docs[i]
		m, err := t.resolve(ctx, obj.GetAPIVersion(), obj.GetKind())
		if errors.Is(err, errKindUnknown) {
			fmt.Printf("skipped %s (kind not served)\n", describe(obj))
			continue
		} else if err != nil {
			return err
		}
		err = t.resourceFor(m, obj.GetNamespace()).Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
		switch {
		case apierrors.IsNotFound(err):
			fmt.Printf("absent %s\n", describe(obj))
		case err != nil:
			return fmt.Errorf("delete %s: %w", describe(obj), err)
		default:
			fmt.Printf("deleted %s\n", describe(obj))
		}
	}
	return nil
}

func (t *tool) get(ctx context.Context, apiVersion, kind, ns, name string) error {
	m, err := t.resolve(ctx, apiVersion, kind)
	if err != nil {
		return err
	}
	obj, err := t.resourceFor(m, ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	out, err := yaml.Marshal(obj.Object)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}

func (t *tool) list(ctx context.Context, apiVersion, kind, ns string) error {
	m, err := t.resolve(ctx, apiVersion, kind)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = t.client.Resource(m.gvr)
	if m.namespaced && ns != "" {
		ri = t.client.Resource(m.gvr).Namespace(ns)
	}
	objs, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var names []string
	for _, o := range objs.Items {
		if o.GetNamespace() != "" {
			names = append(names, o.GetNamespace()+"/"+o.GetName())
		} else {
			names = append(names, o.GetName())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Println(n)
	}
	return nil
}

func (t *tool) wait(ctx context.Context, apiVersion, kind, ns, name, cond string) error {
	what := kind + " " + name
	if cond != "" {
		what += " (" + cond + ")"
	}
	var obj *unstructured.Unstructured
	err := poll(ctx, what, func() (bool, error) {
		m, err := t.resolve(ctx, apiVersion, kind)
		if err != nil {
			return false, err
		}
		obj, err = t.resourceFor(m, ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return holds(obj, cond), nil
	})
	if err != nil && obj != nil {
		return fmt.Errorf("%w; last seen: %s", err, statusSummary(obj))
	} else if err != nil {
		return err
	}
	fmt.Printf("ok %s\n", what)
	return nil
}

func (t *tool) waitGone(ctx context.Context, apiVersion, kind, ns, name string) error {
	m, err := t.resolve(ctx, apiVersion, kind)
	if errors.Is(err, errKindUnknown) {
		return nil
	} else if err != nil {
		return err
	}
	for {
		_, err := t.resourceFor(m, ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			fmt.Printf("gone %s %s\n", kind, name)
			return nil
		} else if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for %s %s to be deleted", kind, name)
		case <-time.After(pollInterval):
		}
	}
}

// holds evaluates a wait condition: "" (exists), "PATH=VALUE" or a condition type.
func holds(obj *unstructured.Unstructured, cond string) bool {
	if cond == "" {
		return true
	}
	if path, want, ok := strings.Cut(cond, "="); ok {
		got, found, err := unstructured.NestedFieldNoCopy(obj.Object, strings.Split(path, ".")...)
		return err == nil && found && fmt.Sprint(got) == want
	}
	return conditionTrue(obj, cond)
}

// statusSummary renders status.state and the conditions, for timeout errors.
func statusSummary(obj *unstructured.Unstructured) string {
	var parts []string
	if state, found, _ := unstructured.NestedString(obj.Object, "status", "state"); found {
		parts = append(parts, "state="+state)
	}
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]interface{})
		s := fmt.Sprintf("%v=%v", cm["type"], cm["status"])
		if msg, _ := cm["message"].(string); msg != "" && cm["status"] != "True" {
			s += fmt.Sprintf(" (%s)", msg)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "no status"
	}
	return strings.Join(parts, ", ")
}

func conditionTrue(obj *unstructured.Unstructured, condType string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]interface{})
		if cm["type"] == condType {
			return cm["status"] == "True"
		}
	}
	return false
}

func splitNamespacedName(s string) (ns, name string) {
	if ns, name, ok := strings.Cut(s, "/"); ok {
		return ns, name
	}
	return "", s
}

// readDocuments parses a multi-document YAML file, skipping empty documents.
func readDocuments(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []*unstructured.Unstructured
	for i := 1; ; i++ {
		raw, err := r.Read()
		if err == io.EOF {
			return docs, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, i, err)
		}
		var m map[string]interface{}
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, i, err)
		}
		if len(m) == 0 {
			continue // comments only
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.GetAPIVersion() == "" || obj.GetKind() == "" || obj.GetName() == "" {
			return nil, fmt.Errorf("%s: document %d lacks apiVersion, kind or metadata.name", path, i)
		}
		docs = append(docs, obj)
	}
}
