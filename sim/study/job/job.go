// Package job writes a sharded sweep as a Kubernetes Indexed Job: pod I runs shard I of N.
package job

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/krosim/krosim/sim/study"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// Where things are inside each pod.
const (
	// WorkDir is the container's working directory; input files given by
	// relative paths are mounted under it at those paths, so the command line
	// and the sweep.json it writes are the same as on the machine it came from.
	WorkDir = "/krosim"
	// ResultsDir is where the results volume is mounted and the shards are written.
	ResultsDir = "/results"
	// Container is the name of the container running krosim.
	Container = "krosim"
)

// maxConfigMap is the size limit of a ConfigMap (etcd's object limit).
const maxConfigMap = 1 << 20

// Spec is what the Job runs and where.
type Spec struct {
	Name      string // the Job's name; the ConfigMap of inputs is Name-inputs
	Namespace string // empty: the namespace kubectl applies to
	Image     string // an image with krosim in it
	Krosim    string // krosim's path (or name on the PATH) in the image
	Shards    int    // completions: one pod per shard
	// Parallelism is how many pods run at once (0: every shard at once).
	Parallelism int
	// BackoffLimitPerIndex is how often a shard's pod is retried before the
	// shard counts as failed.
	BackoffLimitPerIndex int
	// PVC is the claim the shard files are written to, under a directory
	// named after the Job. Empty: an emptyDir, whose files go with the pod.
	PVC string
	// CPU and Memory are each pod's resource requests (and the memory limit); empty: none.
	CPU, Memory string
	// Args are krosim's arguments for the sweep, without --shard and --out,
	// which each pod gets as auto/N and ResultsDir.
	Args []string
	// Files are the input files Args read (study, RGDs, CRDs, target), by
	// the paths Args and the study give them.
	Files []string
}

// Objects builds the ConfigMap holding the input files and the Indexed Job.
func Objects(s Spec) (*corev1.ConfigMap, *batchv1.Job, error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: s.meta(s.Name + "-inputs"),
		Data:       map[string]string{},
	}
	inputs := "inputs"
	var mounts []corev1.VolumeMount
	size := 0
	seen := map[string]bool{}
	for i, f := range s.Files {
		at, err := podPath(f)
		if err != nil {
			return nil, nil, err
		}
		if seen[at] {
			continue
		}
		seen[at] = true
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		key := fmt.Sprintf("%d-%s", i, badKey.ReplaceAllString(filepath.Base(f), "-"))
		if len(key) > validation.DNS1123SubdomainMaxLength {
			key = key[:validation.DNS1123SubdomainMaxLength]
		}
		cm.Data[key] = string(data)
		size += len(key) + len(data)
		mounts = append(mounts, corev1.VolumeMount{Name: inputs, MountPath: at, SubPath: key, ReadOnly: true})
	}
	if size > maxConfigMap {
		return nil, nil, fmt.Errorf("the input files take %d bytes, more than a ConfigMap holds (1 MiB)", size)
	}
	results := corev1.Volume{Name: "results", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	resultsMount := corev1.VolumeMount{Name: results.Name, MountPath: ResultsDir}
	if s.PVC != "" {
		results.VolumeSource = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: s.PVC}}
		resultsMount.SubPath = s.Name
	}
	mounts = append(mounts, resultsMount)
	res, err := s.resources()
	if err != nil {
		return nil, nil, err
	}
	args := append(append([]string{}, s.Args...), "--shard", fmt.Sprintf("auto/%d", s.Shards), "--out", ResultsDir)
	par := s.Parallelism
	if par == 0 {
		par = s.Shards
	}
	indexed := batchv1.IndexedCompletion
	labels := map[string]string{"app.kubernetes.io/name": "krosim", "app.kubernetes.io/component": "sweep", "app.kubernetes.io/instance": s.Name}
	j := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: s.meta(s.Name),
		Spec: batchv1.JobSpec{
			CompletionMode:       &indexed,
			Completions:          ptr(int32(s.Shards)),
			Parallelism:          ptr(int32(par)),
			BackoffLimitPerIndex: ptr(int32(s.BackoffLimitPerIndex)),
			// A usage error (exit 2) fails the same way on every retry.
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailIndex,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: ptr(Container), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{2}},
			}}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever, // as backoffLimitPerIndex requires
					Containers: []corev1.Container{{
						Name: Container, Image: s.Image, Command: []string{s.Krosim}, Args: args,
						WorkingDir: WorkDir, VolumeMounts: mounts, Resources: res,
					}},
					Volumes: []corev1.Volume{
						{Name: inputs, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}}},
						results,
					},
				},
			},
		},
	}
	j.Labels = labels
	cm.Labels = labels
	return cm, j, nil
}

// Manifest is the ConfigMap and the Job as one YAML stream for kubectl apply
// -f, after a comment saying how to run it and collect the results.
func Manifest(s Spec) ([]byte, error) {
	cm, j, err := Objects(s)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	where := fmt.Sprintf("the PersistentVolumeClaim %s, directory %s/", s.PVC, s.Name)
	if s.PVC == "" {
		where = "an emptyDir: each pod's shard file is lost when the pod ends; give --pvc to keep them"
	}
	fmt.Fprintf(&b, "# krosim sweep as a Kubernetes Indexed Job: %d pods, pod I runs shard I/%d of the grid.\n", s.Shards, s.Shards)
	fmt.Fprintf(&b, "#   kubectl apply -f FILE && kubectl wait --for=condition=complete --timeout=24h job/%s\n", s.Name)
	fmt.Fprintf(&b, "# Shard files (%s) go to %s.\n", study.Shard{Index: 0, Of: s.Shards}.File(), where)
	b.WriteString("# Copy them out, then: krosim sweep merge DIR --out OUT\n")
	for _, obj := range []any{cm, j} {
		y, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes(), nil
}

var badKey = regexp.MustCompile(`[^-._a-zA-Z0-9]`)

func ptr[T any](v T) *T { return &v }

func (s Spec) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: s.Namespace}
}

// podPath is where file f is mounted: absolute paths as they are, relative
// ones under WorkDir.
func podPath(f string) (string, error) {
	if filepath.IsAbs(f) {
		return filepath.ToSlash(filepath.Clean(f)), nil
	}
	rel := filepath.ToSlash(filepath.Clean(f))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s is outside the current directory, so it cannot be mounted at the same relative path in the pod: run from a directory that holds every input, or give absolute paths", f)
	}
	return path.Join(WorkDir, rel), nil
}

func (s Spec) resources() (corev1.ResourceRequirements, error) {
	var r corev1.ResourceRequirements
	for _, q := range []struct {
		name corev1.ResourceName
		flag string
		v    string
	}{{corev1.ResourceCPU, "cpu", s.CPU}, {corev1.ResourceMemory, "memory", s.Memory}} {
		if q.v == "" {
			continue
		}
		v, err := resource.ParseQuantity(q.v)
		if err != nil || v.Sign() <= 0 {
			return r, fmt.Errorf("%s %q is not a positive Kubernetes quantity (like 2, 500m, 4Gi)", q.flag, q.v)
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		r.Requests[q.name] = v
		if q.name == corev1.ResourceMemory {
			r.Limits = corev1.ResourceList{q.name: v}
		}
	}
	return r, nil
}

// Validate reports every problem of the spec at once.
func (s Spec) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	// An Indexed Job's pods are named NAME-INDEX-RANDOM and labelled with
	// NAME, so the name must be a DNS label with room to spare.
	if msgs := validation.IsDNS1123Label(s.Name); len(msgs) > 0 {
		bad("job name %q: %s", s.Name, strings.Join(msgs, "; "))
	} else if len(s.Name) > 52 {
		bad("job name %q: at most 52 characters, so its pods' names fit", s.Name)
	}
	if s.Namespace != "" {
		if msgs := validation.IsDNS1123Label(s.Namespace); len(msgs) > 0 {
			bad("namespace %q: %s", s.Namespace, strings.Join(msgs, "; "))
		}
	}
	if s.PVC != "" {
		if msgs := validation.IsDNS1123Subdomain(s.PVC); len(msgs) > 0 {
			bad("pvc %q: %s", s.PVC, strings.Join(msgs, "; "))
		}
	}
	if s.Image == "" {
		bad("an image is required")
	}
	if s.Krosim == "" {
		bad("krosim's path in the image is required")
	}
	if s.Shards < 1 || s.Shards > study.MaxShards {
		bad("shards must be from 1 to %d, got %d", study.MaxShards, s.Shards)
	}
	if s.Parallelism < 0 {
		bad("parallelism must be at least 0, got %d", s.Parallelism)
	}
	if s.BackoffLimitPerIndex < 0 {
		bad("backoff limit per index must be at least 0, got %d", s.BackoffLimitPerIndex)
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}
