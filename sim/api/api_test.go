package api

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func testTarget(t testing.TB, lat time.Duration) *target.Target {
	t.Helper()
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	tg = tg.Clone()
	for _, v := range verb.All {
		tg.Latency[v] = target.Latency{P50: target.Duration(lat), P95: target.Duration(lat), P99: target.Duration(lat)}
	}
	return tg
}

var cmGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

func configMap(name string, labels map[string]any, data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "ns", "labels": labels},
		"data":     data,
	}}
}

// TestTokenBucketAdmitsQPS checks the client-side limiter (client-go's own
// token bucket on the virtual clock): it starts full at burst, then over a
// long run admits qps requests per second within 1%.
func TestTokenBucketAdmitsQPS(t *testing.T) {
	for _, tc := range []struct {
		name  string
		qps   float64
		burst int
	}{{"qps5", 5, 10}, {"qps20", 20, 30}, {"qps100", 100, 150}} {
		t.Run(tc.name, func(t *testing.T) {
			k := kernel.New()
			srv := NewServer(k, testTarget(t, time.Microsecond), rand.New(rand.NewPCG(1, 1)))
			key := Key{cmGVR, "ns", "x"}
			if _, err := srv.Store.Create(key, configMap("x", nil, nil)); err != nil {
				t.Fatal(err)
			}
			c := srv.NewClient(tc.qps, tc.burst)
			const span = 1000 * time.Second
			var unthrottled int
			k.Go("client", func(p *kernel.Proc) {
				for k.Now() < span {
					_, call := c.Get(p, key)
					if call.Throttle == 0 && c.Stats.Verbs[verb.Get].Calls <= tc.burst {
						unthrottled++
					}
				}
			})
			if err := k.Run(0, nil); err != nil {
				t.Fatal(err)
			}
			k.Shutdown()
			if unthrottled != tc.burst {
				t.Errorf("%d of the first %d requests passed unthrottled, want all (the bucket starts full)", unthrottled, tc.burst)
			}
			rate := float64(c.Stats.Verbs[verb.Get].Calls-tc.burst) / k.Now().Seconds()
			if math.Abs(rate-tc.qps)/tc.qps > 0.01 {
				t.Errorf("admitted %.3f requests/s, want %g within 1%%", rate, tc.qps)
			}
			if c.Stats.ThrottleWait <= 0 {
				t.Error("no throttle wait recorded")
			}
		})
	}
}

func TestServerRejectsOverInflightWith429AndClientRetries(t *testing.T) {
	k := kernel.New()
	tg := testTarget(t, 100*time.Millisecond)
	tg.Server.MaxInflight = 2
	srv := NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
	key := Key{cmGVR, "ns", "x"}
	srv.Store.Create(key, configMap("x", nil, nil))
	c := srv.NewClient(0, 0)
	var calls []Call
	for i := 0; i < 3; i++ {
		k.Go("client", func(p *kernel.Proc) {
			_, call := c.Get(p, key)
			calls = append(calls, call)
		})
	}
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	if c.Stats.Rejected429 != 1 || c.Stats.Verbs[verb.Get].Retries != 1 {
		t.Errorf("429s %d, retries %d; want 1 and 1", c.Stats.Rejected429, c.Stats.Verbs[verb.Get].Retries)
	}
	for _, call := range calls {
		if call.Err != nil {
			t.Errorf("call failed after retry: %v", call.Err)
		}
	}
	// The third request waits Retry-After (1s), then its own latency.
	if want := time.Second + 100*time.Millisecond; k.Now() != want {
		t.Errorf("last response at %s, want %s", k.Now(), want)
	}
}

func TestStoreSemantics(t *testing.T) {
	var now time.Duration
	s := NewStore(func() time.Duration { return now })
	var events []string
	s.OnWrite(func(e Event) { events = append(events, e.Type) })
	key := Key{cmGVR, "ns", "a"}
	labels := map[string]any{IndexLabel: "inst"}
	if _, err := s.Apply(key, configMap("a", labels, map[string]any{"k": "v1"})); err != nil {
		t.Fatal(err)
	}
	obj, _ := s.Get(key)
	if obj.GetGeneration() != 1 || obj.GetResourceVersion() == "" {
		t.Errorf("created object: generation %d, resourceVersion %q", obj.GetGeneration(), obj.GetResourceVersion())
	}
	// The tracker really holds it.
	if _, err := s.Tracker().Get(cmGVR, "ns", "a"); err != nil {
		t.Errorf("fake tracker does not hold the object: %v", err)
	}
	// Applying the same thing writes nothing.
	s.Apply(key, configMap("a", labels, map[string]any{"k": "v1"}))
	if len(events) != 1 {
		t.Errorf("no-op apply emitted events: %v", events)
	}
	// A status write does not move the generation; a data change does.
	st := configMap("a", nil, nil)
	st.Object["status"] = map[string]any{"ok": true}
	s.Update(key, st, true)
	obj, _ = s.Get(key)
	if obj.GetGeneration() != 1 || obj.Object["data"] == nil {
		t.Errorf("status update changed generation to %d or lost data", obj.GetGeneration())
	}
	s.Apply(key, configMap("a", labels, map[string]any{"k": "v2"}))
	obj, _ = s.Get(key)
	if obj.GetGeneration() != 2 || obj.Object["status"] == nil {
		t.Errorf("apply: generation %d (want 2), status kept: %v", obj.GetGeneration(), obj.Object["status"] != nil)
	}
	// LIST by the index label.
	s.Apply(Key{cmGVR, "ns", "b"}, configMap("b", labels, nil))
	s.Apply(Key{cmGVR, "ns", "c"}, configMap("c", map[string]any{IndexLabel: "other"}, nil))
	list, _ := s.List(cmGVR, "ns", map[string]string{IndexLabel: "inst"})
	if len(list) != 2 || list[0].GetName() != "a" || list[1].GetName() != "b" {
		t.Errorf("list by label: %d objects", len(list))
	}
	// Finalizers hold deletion until removed.
	fin := configMap("a", labels, nil)
	fin.SetFinalizers([]string{"kro.run/finalizer"})
	s.Apply(key, fin)
	s.Delete(key)
	obj, err := s.Get(key)
	if err != nil || obj.GetDeletionTimestamp() == nil || obj.GetGeneration() != 3 {
		t.Fatalf("delete with a finalizer: err %v, object %v", err, obj)
	}
	nofin := configMap("a", labels, nil)
	nofin.Object["metadata"].(map[string]any)["finalizers"] = []any{}
	s.Apply(key, nofin)
	if _, err := s.Get(key); err == nil {
		t.Error("removing the last finalizer did not delete the object")
	}
	if _, err := s.Tracker().Get(cmGVR, "ns", "a"); err == nil {
		t.Error("the fake tracker still holds the deleted object")
	}
}

func TestLatencyHitsPercentiles(t *testing.T) {
	l := target.Latency{P50: target.Duration(2 * time.Millisecond), P95: target.Duration(5 * time.Millisecond), P99: target.Duration(12 * time.Millisecond)}
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 200000
	var below50, below95, below99 int
	for i := 0; i < n; i++ {
		d := l.Sample(rng.NormFloat64(), 0)
		if d <= l.P50.D() {
			below50++
		}
		if d <= l.P95.D() {
			below95++
		}
		if d <= l.P99.D() {
			below99++
		}
	}
	for _, c := range []struct {
		got  int
		want float64
	}{{below50, 0.50}, {below95, 0.95}, {below99, 0.99}} {
		if f := float64(c.got) / n; math.Abs(f-c.want) > 0.005 {
			t.Errorf("%.4f of samples below the p%.0f, want %.2f", f, c.want*100, c.want)
		}
	}
}

func TestPlural(t *testing.T) {
	for kind, want := range map[string]string{"Deployment": "deployments", "Ingress": "ingresses",
		"NetworkPolicy": "networkpolicies", "Gateway": "gateways", "Service": "services"} {
		if got := Plural(kind); got != want {
			t.Errorf("Plural(%s) = %s, want %s", kind, got, want)
		}
	}
}

// TestServerCPUsQueueRequests checks server.cpus: a request's latency is
// work that holds one of the server's processors, so with 2 processors and 5
// requests of 10ms sent at once, two finish at 10ms, two at 20ms and the last
// at 30ms; without a limit all finish at 10ms.
func TestServerCPUsQueueRequests(t *testing.T) {
	for _, tc := range []struct {
		cpus int
		want []time.Duration
	}{
		{0, []time.Duration{10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms}},
		{2, []time.Duration{10 * ms, 10 * ms, 20 * ms, 20 * ms, 30 * ms}},
	} {
		tg := testTarget(t, 10*ms)
		tg.Server.CPUs = tc.cpus
		_, got := getsAtOnce(t, tg, len(tc.want))
		if !slices.Equal(got, tc.want) {
			t.Errorf("server.cpus %d: requests done at %v, want %v", tc.cpus, got, tc.want)
		}
	}
}

// TestWakeupCPUIsSharedByRequestsInFlight checks server.wakeup_cpu: a
// request that reaches an idle server pays all of it on the server's
// processors, and requests in flight together share it, the k-th to arrive
// paying 1/k: a GET alone costs 1ms + 6ms of processor time, three at once
// 3 x 1ms + 6ms x (1 + 1/2 + 1/3).
func TestWakeupCPUIsSharedByRequestsInFlight(t *testing.T) {
	for _, tc := range []struct {
		requests int
		wakeups  float64
		busy     time.Duration
	}{{1, 1, 7 * ms}, {3, 1 + 1.0/2 + 1.0/3, 14 * ms}} {
		tg := testTarget(t, 10*ms)
		tg.Server.CPUs = 4
		tg.Server.WakeupCPU = target.Duration(6 * ms)
		l := tg.Latency[verb.Get]
		l.CPU = target.Duration(ms)
		tg.Latency[verb.Get] = l
		srv, _ := getsAtOnce(t, tg, tc.requests)
		if got := srv.Served.Wakeups; math.Abs(got-tc.wakeups) > 1e-9 {
			t.Errorf("%d requests: %v wakeups, want %v", tc.requests, got, tc.wakeups)
		}
		if got := srv.CPU().Busy(); (got - tc.busy).Abs() > time.Microsecond {
			t.Errorf("%d requests: processors busy %v, want %v", tc.requests, got, tc.busy)
		}
	}
}

// TestObjectSizeCostsCPU checks latency.VERB.cpu_per_kib: a GET with 1ms
// of CPU and 4ms per KiB of the object it reads spends 1ms + 4ms x KiB of
// the processors, within its 10ms latency; two GETs at once on one
// processor wait for each other's (CPU within the latency: as cpu, at most
// the latency is held on the path); a create pays for the object it made,
// after it; the KiB are counted by verb.
func TestObjectSizeCostsCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		pads []int // bytes of data in each object
		cpus int
		// want is when each request is done, after 10ms, in CPUs of one
		// request (all objects are the same size).
		want   []float64
		create bool
	}{
		{"small", []int{100}, 2, []float64{0}, false},
		{"large", []int{1500}, 2, []float64{0}, false},
		{"two, one processor", []int{1500, 1500}, 1, []float64{0, 1}, false},
		{"create", []int{3000}, 2, []float64{0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := testTarget(t, 10*ms)
			tg.Server.CPUs = tc.cpus
			v := verb.Get
			if tc.create {
				v = verb.Create
			}
			l := tg.Latency[v]
			l.CPU, l.CPUPerKiB = target.Duration(ms), target.Duration(4*ms)
			tg.Latency[v] = l
			k := kernel.New()
			srv := NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
			c := srv.NewClient(0, 0)
			var done []time.Duration
			var kib float64
			for i, pad := range tc.pads {
				name := string(rune('a' + i))
				key := Key{cmGVR, "ns", name}
				obj := configMap(name, nil, map[string]any{"pad": strings.Repeat("x", pad)})
				if !tc.create {
					if _, err := srv.Store.Create(key, obj); err != nil {
						t.Fatal(err)
					}
				}
				k.Go(name, func(p *kernel.Proc) {
					var call Call
					if tc.create {
						_, call = c.Create(p, key, obj)
					} else {
						_, call = c.Get(p, key)
					}
					if call.Err != nil {
						t.Error(call.Err)
					}
					kib = float64(srv.Store.SizeOf(key)) / 1024
					done = append(done, k.Now())
				})
			}
			if err := k.Run(0, nil); err != nil {
				t.Fatal(err)
			}
			k.Shutdown()
			cpu := ms + time.Duration(kib*float64(4*ms))
			for i, w := range tc.want {
				want := 10*ms + time.Duration(w*float64(cpu))
				if i >= len(done) || (done[i]-want).Abs() > time.Microsecond {
					t.Errorf("objects of %.2f KiB: done at %v, want request %d at %v", kib, done, i, want)
				}
			}
			if got, want := srv.CPU().Busy(), time.Duration(len(tc.pads))*cpu; (got - want).Abs() > time.Microsecond {
				t.Errorf("objects of %.2f KiB: processors busy %v, want %v", kib, got, want)
			}
			if got, want := srv.Served.KiB[v.Index()], kib*float64(len(tc.pads)); math.Abs(got-want) > 1e-9 {
				t.Errorf("%v KiB counted, want %v", got, want)
			}
		})
	}
}

// TestWritesAreWatchEvents: every write, a client's or one straight into
// the store, is a watch event whose CPU (server.event_cpu) the processors
// spend after it, off the request's path; reads are none.
func TestWritesAreWatchEvents(t *testing.T) {
	tg := testTarget(t, 10*ms)
	tg.Server.CPUs, tg.Server.EventCPU = 2, target.Duration(3*ms)
	for v, l := range tg.Latency {
		l.CPU = target.Duration(ms)
		tg.Latency[v] = l
	}
	k := kernel.New()
	srv := NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
	c := srv.NewClient(0, 0)
	a, b := Key{cmGVR, "ns", "a"}, Key{cmGVR, "ns", "b"}
	if _, err := srv.Store.Create(b, configMap("b", nil, nil)); err != nil { // the world's write
		t.Fatal(err)
	}
	var created, read time.Duration
	k.Go("client", func(p *kernel.Proc) {
		if _, call := c.Create(p, a, configMap("a", nil, nil)); call.Err != nil {
			t.Error(call.Err)
		}
		created = k.Now()
		if _, call := c.Get(p, a); call.Err != nil {
			t.Error(call.Err)
		}
		read = k.Now()
		if call := c.Delete(p, a); call.Err != nil {
			t.Error(call.Err)
		}
	})
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	if created != 10*ms || read != 20*ms {
		t.Errorf("create answered at %v, get at %v: the events' CPU is on their path", created, read)
	}
	if srv.Served.Events != 3 {
		t.Errorf("%d events, want 3 (two creates and a delete)", srv.Served.Events)
	}
	if got, want := srv.CPU().Busy(), 3*ms+3*3*ms; got != want { // three requests, three events
		t.Errorf("processors busy %v, want %v", got, want)
	}
}

// getsAtOnce sends n GETs of one ConfigMap at once to a fresh server with
// target tg and returns the server and when each GET was answered.
func getsAtOnce(t *testing.T, tg *target.Target, n int) (*Server, []time.Duration) {
	t.Helper()
	k := kernel.New()
	srv := NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
	key := Key{cmGVR, "ns", "x"}
	if _, err := srv.Store.Create(key, configMap("x", nil, nil)); err != nil {
		t.Fatal(err)
	}
	c := srv.NewClient(0, 0)
	var done []time.Duration
	for i := range n {
		k.Go(string(rune('a'+i)), func(p *kernel.Proc) {
			if _, call := c.Get(p, key); call.Err != nil {
				t.Error(call.Err)
			}
			done = append(done, k.Now())
		})
	}
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	return srv, done
}

// TestObjectSlowdownGrowsWork checks server.object_slowdown: with 0.1 per
// object, a 10ms request with 1 object stored takes 11ms, with 10 stored 20ms.
func TestObjectSlowdownGrowsWork(t *testing.T) {
	for _, tc := range []struct {
		objects int
		want    time.Duration
	}{{1, 11 * ms}, {10, 20 * ms}} {
		tg := testTarget(t, 10*ms)
		tg.Server.ObjectSlowdown = 0.1
		k := kernel.New()
		srv := NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
		for i := range tc.objects {
			name := string(rune('a' + i))
			if _, err := srv.Store.Create(Key{cmGVR, "ns", name}, configMap(name, nil, nil)); err != nil {
				t.Fatal(err)
			}
		}
		var got time.Duration
		k.Go("client", func(p *kernel.Proc) {
			_, call := srv.NewClient(0, 0).Get(p, Key{cmGVR, "ns", "a"})
			got = call.Wait
		})
		if err := k.Run(0, nil); err != nil {
			t.Fatal(err)
		}
		k.Shutdown()
		if got != tc.want {
			t.Errorf("%d objects stored: a 10ms GET took %v, want %v", tc.objects, got, tc.want)
		}
	}
}

// TestNotFoundIsNotAnError checks that the 404s kro expects (a GET before the
// object exists) are counted apart from the requests that failed.
func TestNotFoundIsNotAnError(t *testing.T) {
	k := kernel.New()
	tg := testTarget(t, time.Millisecond)
	srv := NewServer(k, tg, rand.New(rand.NewPCG(1, 1)))
	c := srv.NewClient(0, 0)
	var call Call
	k.Go("client", func(p *kernel.Proc) { _, call = c.Get(p, Key{cmGVR, "ns", "missing"}) })
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	if call.Err == nil {
		t.Fatal("GET of a missing object succeeded")
	}
	if vs := c.Stats.Verbs[verb.Get]; vs.NotFound != 1 || vs.Errors != 0 {
		t.Errorf("not found %d, errors %d; want 1 and 0", vs.NotFound, vs.Errors)
	}
}

// TestUpdatesKeepTimestamps checks that writes keep the creation timestamp
// Create set and the deletion timestamp a graceful deletion set, whatever
// the writer sends in their place.
func TestUpdatesKeepTimestamps(t *testing.T) {
	now := time.Duration(0)
	s := NewStore(func() time.Duration { return now })
	cmGVR := s.GVR("v1", "ConfigMap")
	key := Key{cmGVR, "ns", "a"}
	obj := configMap("a", nil, nil)
	obj.Object["metadata"].(map[string]any)["creationTimestamp"] = "1999-01-01T00:00:00+01:00"
	obj.SetFinalizers([]string{"f"})
	if _, err := s.Create(key, obj); err != nil {
		t.Fatal(err)
	}
	now = time.Hour
	w := configMap("a", nil, map[string]any{"k": "v"})
	w.Object["metadata"].(map[string]any)["creationTimestamp"] = "2000-01-01T00:00:00Z"
	w.SetFinalizers([]string{"f"})
	s.Update(key, w, false)
	got, _ := s.Get(key)
	if ts := got.Object["metadata"].(map[string]any)["creationTimestamp"]; ts != "2026-01-01T00:00:00Z" || got.GetDeletionTimestamp() != nil {
		t.Errorf("after an update: creationTimestamp %v, deletionTimestamp %v", ts, got.GetDeletionTimestamp())
	}
	s.Delete(key)
	now = 2 * time.Hour
	w = configMap("a", nil, map[string]any{"k": "v2"})
	w.SetFinalizers([]string{"f", "g"})
	s.Update(key, w, false)
	got, _ = s.Get(key)
	md := got.Object["metadata"].(map[string]any)
	if md["creationTimestamp"] != "2026-01-01T00:00:00Z" || md["deletionTimestamp"] != "2026-01-01T01:00:00Z" {
		t.Errorf("after deleting and an update: creationTimestamp %v, deletionTimestamp %v", md["creationTimestamp"], md["deletionTimestamp"])
	}
}

// TestMergeStringMapIsSetLabelsOfUnion checks Apply's labels and
// annotations merge against what it replaces, SetLabels of the union of
// GetLabels (and the same for annotations), on ordinary and odd metadata.
func TestMergeStringMapIsSetLabelsOfUnion(t *testing.T) {
	metas := []any{
		nil,
		"not a map",
		map[string]any{},
		map[string]any{"labels": nil, "annotations": nil},
		map[string]any{"labels": map[string]any{"a": "1", "b": nil}, "annotations": map[string]any{"x": "y"}},
		map[string]any{"labels": map[string]any{"a": "2", "c": "3"}},
		map[string]any{"labels": map[string]any{"a": int64(1)}, "annotations": "odd"},
		map[string]any{"labels": map[string]any{}, "annotations": map[string]any{}},
	}
	obj := func(md any) *unstructured.Unstructured {
		o := map[string]any{"kind": "ConfigMap"}
		if md != nil {
			o["metadata"] = runtime.DeepCopyJSONValue(md)
		}
		return &unstructured.Unstructured{Object: o}
	}
	for i, lm := range metas {
		for j, dm := range metas {
			live, desired := obj(lm), obj(dm)
			got, want := shallow(live), shallow(live)
			for _, f := range []string{"labels", "annotations"} {
				mergeStringMap(got, live, desired, f)
			}
			want.SetLabels(union(live.GetLabels(), desired.GetLabels()))
			want.SetAnnotations(union(live.GetAnnotations(), desired.GetAnnotations()))
			if !reflect.DeepEqual(got.Object, want.Object) {
				t.Errorf("live %d, desired %d: merged %v, want %v", i, j, got.Object, want.Object)
			}
		}
	}
}

// TestDeletingIsGetDeletionTimestamp checks Deleting against the call it
// stands for, on ordinary and odd metadata.
func TestDeletingIsGetDeletionTimestamp(t *testing.T) {
	for i, md := range []any{
		nil, "not a map", map[string]any{}, map[string]any{"deletionTimestamp": nil},
		map[string]any{"deletionTimestamp": "2026-01-01T00:00:03Z"},
		map[string]any{"deletionTimestamp": "not a time"}, map[string]any{"deletionTimestamp": int64(3)},
	} {
		o := &unstructured.Unstructured{Object: map[string]any{}}
		if md != nil {
			o.Object["metadata"] = md
		}
		if got, want := Deleting(o), o.GetDeletionTimestamp() != nil; got != want {
			t.Errorf("metadata %d (%v): Deleting %v, want %v", i, md, got, want)
		}
	}
}

// TestGenerationAndKeepMetaAreTheGettersAndSetters checks Generation
// against GetGeneration, and keepMeta against setting each of old's
// getters' values on next (UID, resource version, generation, creation
// and deletion timestamps), over metadata of every shape.
func TestGenerationAndKeepMetaAreTheGettersAndSetters(t *testing.T) {
	shapes := []any{
		nil, "not a map", map[string]any{},
		map[string]any{"uid": "u", "resourceVersion": "7", "generation": int64(3)},
		map[string]any{"uid": int64(1), "resourceVersion": nil, "generation": "3"},
		map[string]any{"generation": 3.0, "name": "x", "creationTimestamp": "2026-01-01T00:00:03Z"},
		map[string]any{"creationTimestamp": int64(3), "deletionTimestamp": "2026-01-01T00:00:04Z"},
	}
	object := func(md any) *unstructured.Unstructured {
		o := &unstructured.Unstructured{Object: map[string]any{"kind": "K"}}
		if md != nil {
			o.Object["metadata"] = runtime.DeepCopyJSONValue(md)
		}
		return o
	}
	for i, md := range shapes {
		if got, want := Generation(object(md)), object(md).GetGeneration(); got != want {
			t.Errorf("metadata %d (%v): Generation %d, want %d", i, md, got, want)
		}
		for j, nextMD := range shapes {
			old, got, want := object(md), object(nextMD), object(nextMD)
			keepMeta(got, old)
			want.SetUID(old.GetUID())
			want.SetResourceVersion(old.GetResourceVersion())
			want.SetGeneration(old.GetGeneration())
			want.SetCreationTimestamp(old.GetCreationTimestamp())
			want.SetDeletionTimestamp(old.GetDeletionTimestamp())
			if !reflect.DeepEqual(got.Object, want.Object) {
				t.Errorf("old metadata %d onto %d: keepMeta gave %v, the setters %v", i, j, got.Object, want.Object)
			}
		}
	}
}

// TestStatsCountRequestsByResourceAndVerb checks the counts by resource:
// only the verbs requested, errors counted too, and a clone that later
// requests leave alone.
func TestStatsCountRequestsByResourceAndVerb(t *testing.T) {
	k := kernel.New()
	srv := NewServer(k, testTarget(t, time.Millisecond), rand.New(rand.NewPCG(1, 1)))
	c := srv.NewClient(0, 0)
	secrets := Key{schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "ns", "s"}
	var clone *Stats
	k.Go("client", func(p *kernel.Proc) {
		c.Apply(p, Key{cmGVR, "ns", "a"}, configMap("a", nil, nil))
		c.Get(p, Key{cmGVR, "ns", "a"})
		c.Get(p, Key{cmGVR, "ns", "b"}) // not found
		c.Get(p, secrets)               // not found
		clone = c.Stats.Clone()
		c.Delete(p, Key{cmGVR, "ns", "a"})
	})
	if err := k.Run(0, nil); err != nil {
		t.Fatal(err)
	}
	k.Shutdown()
	want := map[string]map[verb.Verb]int{"configmaps": {verb.Patch: 1, verb.Get: 2}, "secrets": {verb.Get: 1}}
	if got := clone.ByResource(); !reflect.DeepEqual(got, want) {
		t.Errorf("clone's requests by resource %v, want %v", got, want)
	}
	want["configmaps"][verb.Delete] = 1
	if got := c.Stats.ByResource(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests by resource %v, want %v", got, want)
	}
}
