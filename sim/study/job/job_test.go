package job

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func spec(t *testing.T, files ...string) Spec {
	t.Helper()
	return Spec{Name: "s", Image: "img", Krosim: "krosim", Shards: 2, Args: []string{"sweep", "--study", "s.yaml"}, Files: files}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := Spec{Name: "Bad_Name", Namespace: "-ns", PVC: "UPPER", Shards: 0, Parallelism: -1, BackoffLimitPerIndex: -1}
	err := s.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`job name "Bad_Name"`, `namespace "-ns"`, `pvc "UPPER"`, "an image is required",
		"krosim's path in the image is required", "shards must be from 1", "parallelism must be at least 0", "backoff limit per index"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	if err := (Spec{Name: strings.Repeat("a", 53), Image: "i", Krosim: "k", Shards: 1}).Validate(); err == nil || !strings.Contains(err.Error(), "at most 52") {
		t.Errorf("a 53-character name: %v", err)
	}
}

func TestFilesMountWhereTheCommandLineFindsThem(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "rgd one.yaml")
	if err := os.WriteFile(abs, []byte("kind: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if err := os.MkdirAll("studies", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("studies/s.yaml", []byte("rgds: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cm, j, err := Objects(spec(t, "studies/s.yaml", abs, "./studies/s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mounts := j.Spec.Template.Spec.Containers[0].VolumeMounts
	want := []struct{ at, key string }{{"/krosim/studies/s.yaml", "0-s.yaml"}, {filepath.ToSlash(abs), "1-rgd-one.yaml"}, {ResultsDir, ""}}
	if len(mounts) != len(want) {
		t.Fatalf("mounts %+v, want %d (the study once, the RGD, the results)", mounts, len(want))
	}
	for i, w := range want {
		if mounts[i].MountPath != w.at || mounts[i].SubPath != w.key {
			t.Errorf("mount %d: %s from %q, want %s from %q", i, mounts[i].MountPath, mounts[i].SubPath, w.at, w.key)
		}
	}
	if cm.Data["1-rgd-one.yaml"] != "kind: x\n" || len(cm.Data) != 2 {
		t.Errorf("ConfigMap data %v", cm.Data)
	}
	if v := j.Spec.Template.Spec.Volumes[1]; v.EmptyDir == nil {
		t.Errorf("without a PVC the results volume is %+v, want an emptyDir", v)
	}
}

func TestObjectsRefuse(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxConfigMap+1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    Spec
		want string
	}{
		{"outside the directory", spec(t, "../x.yaml"), "../x.yaml is outside the current directory"},
		{"too big for a ConfigMap", spec(t, big), "more than a ConfigMap holds"},
		{"missing file", spec(t, filepath.Join(dir, "none.yaml")), "none.yaml"},
		{"bad quantity", func() Spec { s := spec(t); s.Memory = "lots"; return s }(), `memory "lots" is not a positive Kubernetes quantity`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Manifest(tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
