package workload

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/model"
)

// fakeCluster settles each phase a fixed number of steps after it began and
// logs every call the driver makes.
type fakeCluster struct {
	now      time.Duration
	log      []string
	notReady map[int]bool
	wait     int // steps each phase and idle wait take
	waited   int
	timeout  Phase
	fail     error
}

func (f *fakeCluster) Now() time.Duration { return f.now }
func (f *fakeCluster) Create(items []Item) error {
	f.log = append(f.log, fmt.Sprintf("create %d", len(items)))
	return f.fail
}
func (f *fakeCluster) Ready(it Item) bool { return !f.notReady[it.Index] }
func (f *fakeCluster) Update(items []Item) (int, error) {
	var ix []string
	for _, it := range items {
		ix = append(ix, fmt.Sprint(it.Index))
	}
	f.log = append(f.log, "update "+strings.Join(ix, ","))
	return len(items), nil
}
func (f *fakeCluster) Delete(items []Item) error {
	f.log = append(f.log, fmt.Sprintf("delete %d", len(items)))
	return nil
}
func (f *fakeCluster) Settled(p Phase) (Wait, time.Duration, error) {
	if f.waited < f.wait {
		f.waited++
		return Waiting, 0, nil
	}
	f.waited = 0
	if p == f.timeout {
		return TimedOut, 0, nil
	}
	f.log = append(f.log, "settled "+p.String())
	return Done, f.now, nil
}
func (f *fakeCluster) Idle() (bool, error) {
	if f.waited < f.wait {
		f.waited++
		return false, nil
	}
	f.waited = 0
	return true, nil
}
func (f *fakeCluster) EndPhase(p Phase, took time.Duration) error {
	f.log = append(f.log, fmt.Sprintf("end %s after %s", p, took))
	return nil
}

func plan(t *testing.T, w Workload) *Plan {
	t.Helper()
	g, err := model.Load("rgd.yaml", []byte(`apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata: {name: apps}
spec:
  schema:
    apiVersion: v1alpha1
    kind: App
    spec: {replicas: integer | default=1}
  resources:
  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}"}
      data: {n: "${string(schema.spec.replicas)}"}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(w, g, 1)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDriverPhases(t *testing.T) {
	all := Workload{Instances: 4, Arrival: "all", Namespace: "ns"}
	tests := []struct {
		name     string
		w        func(Workload) Workload
		cluster  fakeCluster
		want     []string
		complete bool
	}{
		{"create only", func(w Workload) Workload { return w }, fakeCluster{wait: 2, timeout: -1},
			[]string{"create 4", "settled create", "end create after 0s"}, true},
		{"update half, skipping an instance that is not ready, then delete",
			func(w Workload) Workload { w.Update, w.Delete = 0.5, true; return w },
			fakeCluster{wait: 1, timeout: -1, notReady: map[int]bool{0: true}},
			[]string{"create 4", "settled create", "end create after 0s", "update 1,2", "settled update",
				"end update after 0s", "delete 4", "settled delete", "end delete after 0s"}, true},
		{"a timed-out phase ends the workload", func(w Workload) Workload { w.Delete = true; return w },
			fakeCluster{timeout: Create}, []string{"create 4"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cluster
			d := NewDriver(plan(t, tt.w(all)), &c)
			steps := 0
			err := d.Run(func() error { steps++; return nil })
			if tt.complete != (err == nil) || d.Timeline().Complete != tt.complete {
				t.Fatalf("err %v, complete %v; want complete %v", err, d.Timeline().Complete, tt.complete)
			}
			if !tt.complete && !errors.Is(err, ErrTimedOut) {
				t.Errorf("err %v, want a timeout", err)
			}
			if !slices.Equal(c.log, tt.want) {
				t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(c.log, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if tt.cluster.wait > 0 && steps == 0 {
				t.Errorf("the driver never waited")
			}
		})
	}
}

func TestDriverStopsOnClusterError(t *testing.T) {
	c := fakeCluster{fail: errors.New("boom")}
	d := NewDriver(plan(t, Workload{Instances: 2, Arrival: "all", Namespace: "ns"}), &c)
	if over, err := d.Step(); !over || err == nil || d.Timeline().Incomplete != "boom" {
		t.Fatalf("over %v, err %v, timeline %+v", over, err, d.Timeline())
	}
}

func TestPlanIsDrawnFromTheSeed(t *testing.T) {
	w := Workload{Instances: 50, Arrival: "poisson", Rate: 10, Namespace: "ns-*"}
	a, b := plan(t, w), plan(t, w)
	for i := range a.Items {
		if a.Items[i].Arrival != b.Items[i].Arrival || a.Items[i].Instance.GetName() != b.Items[i].Instance.GetName() {
			t.Fatalf("item %d differs between two plans of one seed", i)
		}
		if i > 0 && a.Items[i].Arrival < a.Items[i-1].Arrival {
			t.Fatalf("arrivals out of order at %d", i)
		}
	}
	if a.Items[49].Arrival == 0 || a.Items[3].Instance.GetNamespace() != "ns-00003" {
		t.Fatalf("arrival %v, namespace %q", a.Items[49].Arrival, a.Items[3].Instance.GetNamespace())
	}
	w.Update = 0.3
	if got := plan(t, w).Updates(); got != 15 {
		t.Fatalf("Updates() = %d, want 15", got)
	}
}
