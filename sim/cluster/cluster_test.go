package cluster

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/verb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name, method, url, contentType string
		want                           Request
		ok                             bool
	}{
		{"get", "GET", "/apis/kro.run/v1alpha1/namespaces/ns/fidelityapps/a", "",
			Request{"GET", "kro.run", "fidelityapps", "", "resource"}, true},
		{"list in a namespace", "GET", "/apis/g/v1/namespaces/ns/things?labelSelector=x%3Dy", "",
			Request{"LIST", "g", "things", "", "namespace"}, true},
		{"list everywhere", "GET", "/apis/g/v1/things?limit=500", "",
			Request{"LIST", "g", "things", "", "cluster"}, true},
		{"watch", "GET", "/apis/g/v1/things?watch=true&resourceVersion=5", "",
			Request{"WATCH", "g", "things", "", "cluster"}, true},
		{"create", "POST", "/apis/g/v1/namespaces/ns/things", "application/json",
			Request{"POST", "g", "things", "", "resource"}, true},
		{"status", "PUT", "/apis/g/v1/namespaces/ns/things/a/status", "application/json",
			Request{"PUT", "g", "things", "status", "resource"}, true},
		{"server-side apply", "PATCH", "/apis/g/v1/namespaces/ns/things/a?fieldManager=kro", "application/apply-patch+yaml",
			Request{"APPLY", "g", "things", "", "resource"}, true},
		{"merge patch", "PATCH", "/apis/g/v1/namespaces/ns/things/a", "application/merge-patch+json",
			Request{"PATCH", "g", "things", "", "resource"}, true},
		{"delete", "DELETE", "/apis/g/v1/namespaces/ns/things/a", "",
			Request{"DELETE", "g", "things", "", "resource"}, true},
		{"core namespace", "GET", "/api/v1/namespaces/ns", "",
			Request{"GET", "", "namespaces", "", "resource"}, true},
		{"core list", "GET", "/api/v1/namespaces/ns/configmaps", "",
			Request{"LIST", "", "configmaps", "", "namespace"}, true},
		{"metrics", "GET", "/metrics", "", Request{}, false},
		{"discovery", "GET", "/apis", "", Request{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "https://server"+tt.url, nil)
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			got, ok := classify(r)
			if ok != tt.ok || got != tt.want {
				t.Errorf("classify(%s %s) = %+v, %v; want %+v, %v", tt.method, tt.url, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestKroVerb(t *testing.T) {
	for method, want := range map[string]verb.Verb{"GET": "get", "LIST": "list", "POST": "create", "PUT": "update",
		"PATCH": "patch", "APPLY": "patch", "DELETE": "delete"} {
		if got, ok := (Request{Verb: method}).KroVerb(); !ok || got != want {
			t.Errorf("KroVerb(%s) = %q, %v; want %q", method, got, ok, want)
		}
	}
	if got, _ := (Request{Verb: "PUT", Subresource: "status"}).KroVerb(); got != "update_status" {
		t.Errorf("a PUT of the status is %q, want update_status", got)
	}
	if _, ok := (Request{Verb: "WATCH"}).KroVerb(); ok {
		t.Error("WATCH has a krosim verb")
	}
}

func TestCounterCountsThroughEveryTransport(t *testing.T) {
	c := newCounter()
	next := roundTripper(func(*http.Request) (*http.Response, error) { return &http.Response{StatusCode: 200}, nil })
	a, b := c.wrap(next), c.wrap(next)
	for _, rt := range []http.RoundTripper{a, b, a} {
		if _, err := rt.RoundTrip(httptest.NewRequest("POST", "https://s/apis/g/v1/namespaces/n/things", nil)); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = a.RoundTrip(httptest.NewRequest("GET", "https://s/metrics", nil))
	got := c.snapshot()
	if n := got[Request{"POST", "g", "things", "", "resource"}]; n != 3 || len(got) != 1 {
		t.Errorf("counted %v, want 3 POSTs and nothing else", got)
	}
}

const before = `# TYPE apiserver_request_total counter
apiserver_request_total{code="200",resource="things",scope="resource",subresource="",verb="GET",group="g"} 10
apiserver_request_total{code="201",resource="things",scope="resource",subresource="",verb="POST",group="g"} 2
# TYPE instance_reconcile_total counter
instance_reconcile_total{gvr="g/v1, Resource=things"} 5
# TYPE instance_reconcile_duration_seconds histogram
instance_reconcile_duration_seconds_bucket{gvr="g/v1, Resource=things",le="0.1"} 4
instance_reconcile_duration_seconds_bucket{gvr="g/v1, Resource=things",le="+Inf"} 5
instance_reconcile_duration_seconds_sum{gvr="g/v1, Resource=things"} 0.5
instance_reconcile_duration_seconds_count{gvr="g/v1, Resource=things"} 5
`

const after = `# TYPE apiserver_request_total counter
apiserver_request_total{code="200",resource="things",scope="resource",subresource="",verb="GET",group="g"} 25
apiserver_request_total{code="404",resource="things",scope="resource",subresource="",verb="GET",group="g"} 3
apiserver_request_total{code="201",resource="things",scope="resource",subresource="",verb="POST",group="g"} 7
apiserver_request_total{code="200",resource="things",scope="namespace",subresource="",verb="LIST",group="g"} 4
apiserver_request_total{code="200",resource="things",scope="cluster",subresource="",verb="LIST",group="g"} 1
apiserver_request_total{code="200",resource="things",scope="cluster",subresource="",verb="WATCH",group="g"} 2
apiserver_request_total{code="200",resource="things",scope="resource",subresource="status",verb="PUT",group="g"} 6
# TYPE instance_reconcile_total counter
instance_reconcile_total{gvr="g/v1, Resource=things"} 12
instance_reconcile_total{gvr="other/v1, Resource=others"} 100
# TYPE instance_reconcile_duration_seconds histogram
instance_reconcile_duration_seconds_bucket{gvr="g/v1, Resource=things",le="0.1"} 10
instance_reconcile_duration_seconds_bucket{gvr="g/v1, Resource=things",le="+Inf"} 12
instance_reconcile_duration_seconds_sum{gvr="g/v1, Resource=things"} 1.25
instance_reconcile_duration_seconds_count{gvr="g/v1, Resource=things"} 12
`

func TestKroRequestsAreTheServersMinusKrosims(t *testing.T) {
	s0, err := ParseScrape([]byte(before))
	if err != nil {
		t.Fatal(err)
	}
	s1, err := ParseScrape([]byte(after))
	if err != nil {
		t.Fatal(err)
	}
	// krosim created 5 things and listed them once, cluster-wide.
	own0 := map[Request]int{}
	own1 := map[Request]int{{"POST", "g", "things", "", "resource"}: 5, {"LIST", "g", "things", "", "cluster"}: 1}
	got := kroRequests(s0, s1, own0, own1)
	want := map[Request]int{
		{"GET", "g", "things", "", "resource"}:       18, // codes summed
		{"POST", "g", "things", "", "resource"}:      0,
		{"LIST", "g", "things", "", "namespace"}:     4,
		{"LIST", "g", "things", "", "cluster"}:       0,
		{"WATCH", "g", "things", "", "cluster"}:      2,
		{"PUT", "g", "things", "status", "resource"}: 6,
	}
	for q, n := range want {
		if got[q] != n {
			t.Errorf("%+v: %d, want %d", q, got[q], n)
		}
	}
	r := &runner{}
	r.gvrs = append(r.gvrs, schemaGVR("g", "v1", "things"))
	p := r.phase("create", time.Second, mark{s: s0, k: s0, own: own0}, mark{s: s1, k: s1, own: own1})
	if p.Reconciles != 7 {
		t.Errorf("reconciles %d, want 7 (only the run's own resource)", p.Reconciles)
	}
	wantCalls := map[verb.Verb]int{"get": 18, "list": 4, "update_status": 6}
	for v, n := range wantCalls {
		if p.APICallsByResource["things"][v] != n {
			t.Errorf("things %s: %d, want %d (%v)", v, p.APICallsByResource["things"][v], n, p.APICallsByResource)
		}
	}
	if _, ok := p.APICallsByResource["things"]["create"]; ok {
		t.Errorf("krosim's own creates counted as kro's: %v", p.APICallsByResource)
	}
	if d := r.kroSum(s1, "instance_reconcile_duration_seconds_sum") - r.kroSum(s0, "instance_reconcile_duration_seconds_sum"); math.Abs(d-0.75) > 1e-9 {
		t.Errorf("reconcile seconds %g, want 0.75", d)
	}
}

func schemaGVR(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}

// TestTrackerCountsAnUpdateOnceReadyForItsGeneration follows one instance
// through a spec change: it counts as updated only when kro reports it Ready
// for the new generation, also when that report arrived before the change
// was recorded.
func TestTrackerCountsAnUpdateOnceReadyForItsGeneration(t *testing.T) {
	inst := func(ready string, observed int64) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"metadata": map[string]any{"namespace": "ns", "name": "a"},
			"status": map[string]any{"state": "ACTIVE", "conditions": []any{
				map[string]any{"type": "InstanceManaged", "status": "True", "observedGeneration": observed},
				map[string]any{"type": "Ready", "status": ready, "observedGeneration": observed},
			}},
		}}
	}
	now, changedAt := time.Unix(100, 0), time.Unix(95, 0)
	for _, tc := range []struct {
		name   string
		before bool // the Ready event arrives before the change is recorded
		events []*unstructured.Unstructured
		want   int
	}{
		{"old generation", false, []*unstructured.Unstructured{inst("True", 1)}, 0},
		{"not ready yet", false, []*unstructured.Unstructured{inst("False", 2)}, 0},
		{"ready for it", false, []*unstructured.Unstructured{inst("False", 2), inst("True", 2)}, 1},
		{"ready before recorded", true, []*unstructured.Unstructured{inst("True", 2)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &tracker{changed: make(chan struct{}), lives: map[string]*life{}, start: time.Unix(0, 0)}
			if !tc.before {
				tr.specChanged("ns/a", 2, changedAt)
			}
			for _, e := range tc.events {
				tr.observe(watch.Modified, e, now)
			}
			if tc.before {
				tr.specChanged("ns/a", 2, changedAt)
			}
			if got := tr.count("updated"); got != tc.want {
				t.Errorf("updated %d, want %d", got, tc.want)
			}
			// The instance's timings carry the change and, once Ready for
			// it, the update: 5 s apart here.
			tm, _ := tr.timings()
			if len(tm) != 1 || tm[0].Changed == nil || *tm[0].Changed != 95 {
				t.Fatalf("timings %+v: want changed at 95", tm)
			}
			if got := tm[0].Updated; (got != nil) != (tc.want == 1) || (got != nil && *got != 100) {
				t.Errorf("updated at %v, want 100 iff updated", got)
			}
		})
	}
}

// TestProcessorsFromThroughput: a server of 2 processors completes twice as
// many requests per second at 4 in flight as at 1; the estimate is the
// median over verbs, ignores patch-writes, and is 0 without a second
// concurrency.
func TestScrapeSumIsTheSameEveryTime(t *testing.T) {
	s := &Scrape{Series: map[string]Series{}}
	for i := range 64 {
		x := Series{Name: "m", Labels: map[string]string{"i": strconv.Itoa(i)}, Value: 1 / float64(3+7*i)}
		s.Series[x.key()] = x
	}
	want := s.Sum("m", nil)
	for range 200 {
		if got := s.Sum("m", nil); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("sum = %v, then %v", want, got)
		}
	}
}
