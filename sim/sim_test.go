package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/workload"
)

func load(t testing.TB, file string) []*model.RGD {
	t.Helper()
	rgds, err := model.LoadFile(file)
	if err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
	return rgds
}

// loadText loads RGDs from YAML text, as if from a file.
func loadText(t testing.TB, yaml string) []*model.RGD {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rgd.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return load(t, file)
}

func defaults(t testing.TB) *target.Target {
	t.Helper()
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	return tg.Clone()
}

func run(t testing.TB, cfg result.Config, rgds []*model.RGD) *sim.Result {
	t.Helper()
	if cfg.MaxTime == 0 {
		cfg.MaxTime = target.Duration(4 * time.Hour)
	}
	res, err := sim.Run(cfg, rgds, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkAttribution(t, res)
	return res
}

// checkAttribution asserts the output contract: the phases of worker time sum
// to workers x duration within 0.1%.
func checkAttribution(t testing.TB, res *sim.Result) {
	t.Helper()
	sum := 0.0
	for _, v := range res.Attribution {
		sum += v
	}
	want := float64(res.Config.Target.Controller.Workers) * res.Summary.DurationSeconds
	if math.Abs(sum-want) > 0.001*want {
		t.Errorf("attribution sums to %.6fs, want workers x duration = %.6fs", sum, want)
	}
	if len(res.Attribution) != 8 {
		t.Errorf("attribution has %d keys, want 8: %v", len(res.Attribution), res.Attribution)
	}
}

func TestRunIsDeterministic(t *testing.T) {
	rgds := load(t, "../testdata/rgd/webapp.yaml")
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(50), Seed: 7}
	cfg.Target.Controller.Workers = 4
	var outs [][]byte
	for i := 0; i < 2; i++ {
		b, err := json.Marshal(run(t, cfg, rgds))
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("two runs with the same config and seed produced different results.json")
	}
	cfg.Seed = 8
	b, _ := json.Marshal(run(t, cfg, rgds))
	if bytes.Equal(outs[0], b) {
		t.Error("a different seed produced identical results: the seed does not reach the model")
	}
}

func TestEveryInstanceBecomesReady(t *testing.T) {
	for _, file := range []string{"webapp", "app-with-db", "collection", "externalref", "chain", "platform", "functions"} {
		t.Run(file, func(t *testing.T) {
			rgds := load(t, "../testdata/rgd/"+file+".yaml")
			res := run(t, result.Config{Target: defaults(t), Workload: workload.Default(5), Seed: 1}, rgds)
			s := res.Summary
			if s.InstancesReady != 5 || s.ConvergeSeconds == nil {
				t.Fatalf("%d of 5 instances ready (failed %d: %s)", s.InstancesReady, s.InstancesFailed, s.FailedExample)
			}
			if s.Evaluations == 0 {
				t.Error("no CEL evaluations: the simulation did not run the expressions")
			}
		})
	}
}

// TestChainConvergesAnalytically holds the model to arithmetic: one worker,
// fixed latencies, no CPU cost and no child events, so a chain of D
// ConfigMaps becomes ready in the D-th reconcile, D-1 requeue intervals
// after the first, and kro confirms it in one more.
func TestChainConvergesAnalytically(t *testing.T) {
	const (
		L = 5 * time.Millisecond
		R = 3 * time.Second
		D = 4
	)
	tg := defaults(t)
	for v := range tg.Latency {
		tg.Latency[v] = target.Latency{P50: target.Duration(L), P95: target.Duration(L), P99: target.Duration(L)}
	}
	tg.Cost = target.Cost{}
	tg.Server.WatchDelay = 0
	tg.Controller.IgnoreChildEvents = true
	tg.Controller.RequeueInterval = target.Duration(R)
	res := run(t, result.Config{Target: tg, Workload: workload.Default(1), Seed: 1}, load(t, "../testdata/sim/chain4.yaml"))
	// The request sequence of kro v0.9.4, as measured on a real API server
	// (testdata/realapi/fidelity.md). Reconcile k: GET the instance, GET the k
	// resources walked (the last one is not there yet), server-side apply
	// the instance's ApplySet metadata, one round of parallel applies, then
	// GET and PUT the status, which changes in every reconcile because kro's
	// conditions name the step the instance is at.
	want := L // the workload's own POST of the instance
	for k := 1; k <= D; k++ {
		want += L + time.Duration(k)*L + L + L + 2*L
	}
	want += L // the finalizer's apply, in the first reconcile only
	want += L // the prune LIST (one kind), once everything resolved in reconcile D
	// Reconcile D creates the last resource: the status says ACTIVE (every
	// resource is synced) although kro requeues because it mutated the cluster.
	want += (D - 1) * R
	got := time.Duration(*res.Summary.ConvergeSeconds * float64(time.Second))
	if d := got - want; d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("converged at %s, want %s analytically", got, want)
	}
	// One reconcile per dependency level, plus the one that finds nothing
	// to change (the requeue after reconcile D, which mutated the cluster).
	if res.Summary.Reconciles != D+1 {
		t.Errorf("%d reconciles, want %d (one per dependency level and a confirming one)", res.Summary.Reconciles, D+1)
	}
}

// TestFaultsConvergeWithoutLossOrOrphans injects 20% faults on every verb
// (5% each of 500, 409, 429 and timeouts): every instance still becomes ready
// or is reported failed with its last error, the store holds exactly the
// objects the RGDs imply, and deletion leaves no orphan behind.
func TestFaultsConvergeWithoutLossOrOrphans(t *testing.T) {
	for _, del := range []bool{false, true} {
		t.Run(fmt.Sprintf("delete=%v", del), func(t *testing.T) {
			tg := defaults(t)
			tg.Faults = map[verb.Verb]target.Faults{}
			for _, v := range verb.All {
				tg.Faults[v] = target.Faults{Err500: 0.05, Conflict: 0.05, Throttle: 0.05, Timeout: 0.05}
			}
			tg.Controller.Workers = 4
			wl := workload.Default(30)
			wl.Delete = del
			cfg := result.Config{Target: tg, Workload: wl, Seed: 3, MaxTime: target.Duration(48 * time.Hour)}
			res, bad, err := sim.RunInspect(cfg, load(t, "../testdata/rgd/app-with-db.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			checkAttribution(t, res)
			s := res.Summary
			if s.InstancesReady+s.InstancesFailed != 30 {
				t.Fatalf("%d ready + %d failed of 30 (%s)", s.InstancesReady, s.InstancesFailed, res.Incomplete)
			}
			if s.InstancesFailed > 0 && s.FailedExample == "" {
				t.Error("failed instances reported without their last error")
			}
			if res.API.Verbs["get"].Errors == 0 || res.API.Rejected429 == 0 {
				t.Errorf("faults were not injected: %+v", res.API)
			}
			if del && s.DeleteSeconds == nil {
				t.Errorf("deletion did not finish: %s", res.Incomplete)
			}
			for _, b := range bad {
				t.Error(b)
			}
		})
	}
}

// TestDeletionWaitsForTheWatchCache runs deletion, whose every pass LISTs
// the instance's kinds: with the watch cache modeled, each LIST that found
// the cache stale waited at most a progress interval plus the watch delay,
// the waits show in results.json, and deletion takes longer than on a server
// that answers LISTs at once (watch_progress_interval 0).
func TestDeletionWaitsForTheWatchCache(t *testing.T) {
	rgds := load(t, "../testdata/rgd/webapp.yaml")
	wl := workload.Default(20)
	wl.Delete = true
	cached := run(t, result.Config{Target: defaults(t), Workload: wl, Seed: 1}, rgds)
	tg := defaults(t)
	tg.Server.WatchProgressInterval = 0
	direct := run(t, result.Config{Target: tg, Workload: wl, Seed: 1}, rgds)

	a := cached.API
	if a.WatchCacheWaits == 0 || a.WatchCacheWaits > a.Verbs["list"].Calls {
		t.Fatalf("%d LISTs waited for the watch cache of %d", a.WatchCacheWaits, a.Verbs["list"].Calls)
	}
	limit := (defaults(t).Server.WatchProgressInterval + defaults(t).Server.WatchDelay).D().Seconds()
	if mean := a.WatchCacheWaitSeconds / float64(a.WatchCacheWaits); mean <= 0 || mean > limit {
		t.Errorf("mean watch-cache wait %.4fs, want in (0, %.3fs]", mean, limit)
	}
	if direct.API.WatchCacheWaits != 0 {
		t.Errorf("with no progress interval %d LISTs waited", direct.API.WatchCacheWaits)
	}
	if *cached.Summary.DeleteSeconds <= *direct.Summary.DeleteSeconds {
		t.Errorf("deletion took %.3fs waiting for the watch cache, %.3fs without: want longer", *cached.Summary.DeleteSeconds, *direct.Summary.DeleteSeconds)
	}
}

// TestDeletionResolvesNoGraph: kro's per-reconcile overhead
// (cost.reconcile_ns) is the work of a reconcile that resolves the graph;
// a deletion's reconcile LISTs and deletes the children without building
// the runtime, so it does not pay it. With an overhead of a whole second,
// every reconcile of the create phase lasts over a second and every one of
// the delete phase well under.
func TestDeletionResolvesNoGraph(t *testing.T) {
	tg := defaults(t)
	tg.Cost.ReconcileNS = float64(time.Second)
	wl := workload.Default(5)
	wl.Delete = true
	type span struct{ start, end time.Duration }
	var spans []span
	cfg := result.Config{Target: tg, Workload: wl, Seed: 1, MaxTime: target.Duration(time.Hour)}
	res, err := sim.Run(cfg, load(t, "../testdata/rgd/webapp.yaml"), sim.Options{Reconciled: func(_ api.Key, start, end time.Duration) {
		spans = append(spans, span{start, end})
	}})
	if err != nil {
		t.Fatal(err)
	}
	created := res.PhaseEnds()[0]
	var creating, deleting int
	for _, s := range spans {
		d := s.end - s.start
		switch {
		case s.end <= created.At:
			creating++
			if d < time.Second {
				t.Errorf("a create-phase reconcile took %v, less than its overhead of 1s", d)
			}
		case s.start >= created.At:
			deleting++
			if d >= 500*time.Millisecond {
				t.Errorf("a deletion reconcile took %v: it paid the graph's overhead", d)
			}
		}
	}
	if creating != created.Reconciles || deleting == 0 {
		t.Errorf("%d reconciles in the create phase (%d counted), %d in the delete phase", creating, created.Reconciles, deleting)
	}
}

// TestWatchEventsCostKroCPU: every write is a watch event kro's informer
// decodes and routes (cost.event_ns), on kro's vCPUs but off its workers'
// path: at 50 ms an event, one vCPU is busy 50 ms for every write.
func TestWatchEventsCostKroCPU(t *testing.T) {
	tg := defaults(t)
	tg.VCPUs, tg.Cost.EventNS = 1, float64(50*time.Millisecond)
	res := run(t, result.Config{Target: tg, Workload: workload.Default(3), Seed: 1}, load(t, "../testdata/rgd/webapp.yaml"))
	events := res.PhaseEnds()[0].Events
	busy := res.Utilization.VCPUs * res.Summary.DurationSeconds
	if want := float64(events) * 0.05; events == 0 || math.Abs(busy-want) > 0.01*want {
		t.Errorf("one vCPU busy %.3fs over %d writes, want %.3fs", busy, events, want)
	}
}

func TestAbortIsPolledWithoutChangingResults(t *testing.T) {
	rgds := load(t, "../testdata/rgd/webapp.yaml")
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(50), Seed: 7, MaxTime: target.Duration(4 * time.Hour)}
	encode := func(opts sim.Options) ([]byte, *sim.Result) {
		t.Helper()
		res, err := sim.Run(cfg, rgds, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := result.Encode(&res.Result)
		if err != nil {
			t.Fatal(err)
		}
		return b, res
	}
	plain, _ := encode(sim.Options{})
	polls := 0
	polled, _ := encode(sim.Options{Abort: func() error { polls++; return nil }})
	if !bytes.Equal(plain, polled) {
		t.Error("a run whose Abort never fails differs from one without Abort")
	}
	if polls < 1000 {
		t.Errorf("Abort polled %d times; want about once an event", polls)
	}

	// Stopping a third of the way in still gives a valid, incomplete result.
	n := 0
	_, res := encode(sim.Options{Abort: func() error {
		if n++; n > polls/3 {
			return fmt.Errorf("interrupted by SIGTERM")
		}
		return nil
	}})
	if res.Complete || !strings.HasPrefix(res.Incomplete, "interrupted by SIGTERM at virtual time ") {
		t.Errorf("complete %v, incomplete %q; want interrupted by SIGTERM at virtual time ...", res.Complete, res.Incomplete)
	}
	checkAttribution(t, res)
}

// TestContextInterruptsALongComprehension: with no cost limit, only the
// run's context can stop a comprehension of 10^6 iterations, which
// otherwise succeeds (after seconds of host CPU per evaluation). cel-go
// checks the context inside comprehensions only, and krosim hands it only
// to expressions holding one: this one must still get it, so a cancelled
// context fails every evaluation and the instance never becomes ready.
func TestContextInterruptsALongComprehension(t *testing.T) {
	lim := model.DefaultLimits
	lim.CELCost = 0
	rgds, err := lim.LoadFile("../testdata/hostile/bombs/nested-all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(1), Seed: 1, MaxTime: target.Duration(time.Minute)}
	res, err := sim.Run(cfg, rgds, sim.Options{Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.ReconcileErrors == 0 || res.Summary.InstancesReady != 0 {
		t.Errorf("%d reconcile errors, %d ready: want the interrupted evaluation to fail every reconcile", res.Summary.ReconcileErrors, res.Summary.InstancesReady)
	}
}

// TestNestedInstanceKeepsItsChildren runs an RGD whose resource is an
// instance of a second RGD with the first instance's own name: both own
// children in one namespace. Each prunes only its own ApplySet's, so the run
// settles with nothing deleted; selecting children by the instance's name
// alone, each pruned the other's children and recreated its own forever.
func TestNestedInstanceKeepsItsChildren(t *testing.T) {
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(4), Seed: 1, MaxTime: target.Duration(time.Hour)}
	res := run(t, cfg, load(t, "../testdata/rgd/nested.yaml"))
	if !res.Complete || res.Summary.InstancesReady != 4 {
		t.Fatalf("run incomplete: %d of 4 ready (%s)", res.Summary.InstancesReady, res.Incomplete)
	}
	if n := res.Summary.APICalls[verb.Delete]; n != 0 {
		t.Errorf("%d DELETEs while creating: an instance pruned another's children", n)
	}
}

// TestControllersWriteWhatRGDsWaitFor runs an RGD that waits for status
// only other controllers write: an ACK-style Bucket's ARN and phase, a
// Job's completion time. The world's controllers write them, so every
// instance settles; without them kro waits on the missing data forever.
func TestControllersWriteWhatRGDsWaitFor(t *testing.T) {
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(3), Seed: 1, MaxTime: target.Duration(time.Hour)}
	res := run(t, cfg, load(t, "../testdata/rgd/waits.yaml"))
	if !res.Complete || res.Summary.InstancesReady != 3 {
		t.Fatalf("%d of 3 ready (%s)", res.Summary.InstancesReady, res.Incomplete)
	}
}

// TestSharedChildIsRefused: an RGD whose child's name does not depend on the
// instance makes every instance want the same object. kro applies it for the
// first instance, and refuses it to the others, whose ApplySet it is not in
// (applyset.ErrApplySetConflict): they requeue every interval and never
// become ready, while the first one settles. Nobody takes the object over,
// so it is applied only while its owner converges, not back and forth.
func TestSharedChildIsRefused(t *testing.T) {
	const rgd = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: shared.krosim.dev
spec:
  schema:
    apiVersion: v1alpha1
    kind: Shared
    spec:
      value: string | default="v"
  resources:
    - id: config
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: one-for-all
          namespace: shared
        data:
          value: ${schema.spec.value}
    - id: own
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.metadata.name}-own
        data:
          from: ${config.metadata.name}
`
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(3), Seed: 1, MaxTime: target.Duration(10 * time.Minute)}
	res := run(t, cfg, loadText(t, rgd))
	if res.Complete || res.Summary.InstancesReady != 1 {
		t.Fatalf("complete %v with %d of 3 ready; want 1 ready, the run incomplete", res.Complete, res.Summary.InstancesReady)
	}
	// Each reconcile applies its instance's own ConfigMap; the shared one
	// only its owner's first ones do, never the others' (a tug of war
	// applied both in every reconcile).
	if n, rs := res.Summary.APICallsByResource["configmaps"][verb.Patch], res.Summary.Reconciles; n > rs+3 {
		t.Errorf("%d ConfigMap PATCHes in %d reconciles: the shared ConfigMap was applied by instances that do not own it", n, rs)
	}
	found := false
	for _, in := range res.Instances {
		if !in.IsReady {
			found = true
		}
	}
	if !found {
		t.Fatal("no instance left unready")
	}
	out, err := json.Marshal(res.Result)
	if err != nil {
		t.Fatal(err)
	}
	// The owner is whichever instance's create the server answered first.
	if !regexp.MustCompile(`2 of 3 instances never settled, most often: apply config: resource belongs to a different ApplySet: shared/one-for-all belongs to the ApplySet of krosim-0000[0-2]/shared-0000[0-2]$`).MatchString(res.Incomplete) {
		t.Errorf("incomplete: %s", res.Incomplete)
	}
	if !strings.Contains(string(out), "belongs to a different ApplySet") {
		t.Errorf("results.json does not name the ApplySet conflict:\n%s", out)
	}
}

// TestChildlessDeletionIsDroppedOnNotFound: an instance whose only
// resource is left out has no children, so kro never wrote its DELETING
// status; once its finalizer is gone, persisting that status GETs an
// instance that no longer exists and the reconcile fails with NotFound,
// which kro's queue drops rather than retrying. Its DELETE event brings one
// more reconcile, whose GET finds it gone. Measured on the harness with kro
// v0.9.4 (testdata/realapi/fidelity/bare.yaml, 500 instances, 1 to 8
// workers): per instance 3 reconciles, 6 GETs, 3 PATCHes, 1 status write and
// 1 reconcile error, no rate-limited requeue.
func TestChildlessDeletionIsDroppedOnNotFound(t *testing.T) {
	for _, workers := range []int{1, 4} {
		tg := defaults(t)
		tg.Controller.Workers = workers
		wl := workload.Default(5)
		wl.Delete = true
		res := run(t, result.Config{Target: tg, Workload: wl, Seed: 1}, load(t, "../testdata/realapi/fidelity/bare.yaml"))
		s := res.Summary
		got := fmt.Sprintf("%d reconciles, %d errors, requeues %v, get %d, patch %d, update_status %d, list %d",
			s.Reconciles, s.ReconcileErrors, s.RequeuesByReason, s.APICalls[verb.Get], s.APICalls[verb.Patch], s.APICalls[verb.UpdateStatus], s.APICalls[verb.List])
		if want := "15 reconciles, 5 errors, requeues map[], get 30, patch 15, update_status 5, list 0"; got != want {
			t.Errorf("%d workers: %s, want %s", workers, got, want)
		}
	}
}

// TestHeldBytesCountInEveryRequest: server.instance_bytes and object_bytes
// are bytes the server holds on every stored object beyond what krosim
// renders, so each request to an object that exists is that much larger
// (its CPU per KiB counts them), and a request to none is not. bare.yaml's
// instances have no children: with 1 KiB held of an instance, each of its
// two GETs, two PATCHes and status write in the create phase, and the
// user's POST (sized once created), is 1 KiB more; other objects' bytes
// change nothing.
func TestHeldBytesCountInEveryRequest(t *testing.T) {
	kib := func(instance, object int) [verb.Count]float64 {
		tg := defaults(t)
		tg.Server.InstanceBytes, tg.Server.ObjectBytes = instance, object
		res := run(t, result.Config{Target: tg, Workload: workload.Default(5), Seed: 1}, load(t, "../testdata/realapi/fidelity/bare.yaml"))
		return res.PhaseEnds()[0].KiB
	}
	plain, held, other := kib(0, 0), kib(1024, 0), kib(0, 4096)
	for _, c := range []struct {
		v    verb.Verb
		want float64
	}{{verb.Get, 10}, {verb.Patch, 10}, {verb.UpdateStatus, 5}, {verb.Create, 5}, {verb.List, 0}, {verb.Delete, 0}} {
		if d := held[c.v.Index()] - plain[c.v.Index()]; math.Abs(d-c.want) > 1e-9 {
			t.Errorf("%s: %.3f KiB more with 1 KiB held of each instance, want %.0f", c.v, d, c.want)
		}
		if other[c.v.Index()] != plain[c.v.Index()] {
			t.Errorf("%s: %.3f KiB with 4 KiB held of other objects, want %.3f as without: bare has none", c.v, other[c.v.Index()], plain[c.v.Index()])
		}
	}
}

// TestUnsettledSaysWhatItWaitsFor: an instance whose expression reads data
// that never comes settles neither way; the run's incomplete reason names
// the resource kro waits on and the expression, as kro's ResourcesReady
// condition does, so the user sees why.
func TestUnsettledSaysWhatItWaitsFor(t *testing.T) {
	const rgd = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: waits.krosim.dev
spec:
  schema:
    apiVersion: v1alpha1
    kind: Waits
    spec:
      value: string | default="v"
  resources:
    - id: first
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.metadata.name}-first
        data:
          value: ${schema.spec.value}
    - id: second
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.metadata.name}-second
        data:
          from: ${first.data.missing}
`
	cfg := result.Config{Target: defaults(t), Workload: workload.Default(2), Seed: 1, MaxTime: target.Duration(5 * time.Minute)}
	res := run(t, cfg, loadText(t, rgd))
	want := "2 of 2 instances never settled, most often: waiting for unresolved resource second (${first.data.missing} has no data yet)"
	if res.Complete || !strings.Contains(res.Incomplete, want) {
		t.Errorf("complete %v, incomplete %q; want it to say %q", res.Complete, res.Incomplete, want)
	}
}

// TestPhaseEndsSplitTheRun: a run that creates, updates and deletes takes
// stock as each phase ends, where a real run's scrapes split it: the
// counts grow phase by phase and the last phase end holds the run's totals.
func TestPhaseEndsSplitTheRun(t *testing.T) {
	wl := workload.Default(20)
	wl.Update, wl.Delete = 0.5, true
	res := run(t, result.Config{Target: defaults(t), Workload: wl, Seed: 3}, load(t, "../testdata/sim/chain4.yaml"))
	ends := res.PhaseEnds()
	if len(ends) != 3 {
		t.Fatalf("%d phase ends, want 3 (create, update, delete)", len(ends))
	}
	for i, p := range []workload.Phase{workload.Create, workload.Update, workload.Delete} {
		if ends[i].Phase != p {
			t.Errorf("phase end %d is the %s phase's, want the %s phase's", i, ends[i].Phase, p)
		}
		if i == 0 {
			continue
		}
		was, e := ends[i-1], ends[i]
		if e.At <= was.At || e.Reconciles <= was.Reconciles || e.Wakeups <= was.Wakeups || e.Calls[verb.Get] <= was.Calls[verb.Get] {
			t.Errorf("the %s phase did nothing by its end: %+v after %+v", p, e, was)
		}
	}
	last := ends[2]
	if last.Reconciles != res.Summary.Reconciles || last.Wakeups != res.Wakeups() ||
		last.CacheWaits != res.API.WatchCacheWaits || math.Abs(last.CacheWait.Seconds()-res.API.WatchCacheWaitSeconds) > 1e-6 {
		t.Errorf("the last phase end (%d reconciles, %.1f wakeups, %d cache waits) is not the run's (%d, %.1f, %d)",
			last.Reconciles, last.Wakeups, last.CacheWaits, res.Summary.Reconciles, res.Wakeups(), res.API.WatchCacheWaits)
	}
	for _, v := range verb.All {
		if last.Calls[v] != res.Summary.APICalls[v] {
			t.Errorf("%s: %d calls by the last phase end, %d in the run", v, last.Calls[v], res.Summary.APICalls[v])
		}
	}
	if ends[0].Calls[verb.Delete] != 0 || last.Calls[verb.Delete] == 0 {
		t.Errorf("deletes: %d by the create phase's end, %d in all", ends[0].Calls[verb.Delete], last.Calls[verb.Delete])
	}
}
