package cluster

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"github.com/krosim/krosim/sim/world"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// StandinKind is one stand-in kind a Standins controller looks after, and
// how long its controller takes to report an object ready.
type StandinKind struct {
	GVR       schema.GroupVersionResource
	Kind      string // StandinDeployment, ...
	Readiness target.Readiness
}

// StandinOptions are a Standins controller's knobs.
type StandinOptions struct {
	// Seed seeds the readiness delays: a simulation with that seed makes
	// each object ready after the same delay (world.Draws).
	Seed uint64
	// Clock times the delays; nil is the real clock.
	Clock clock.WithDelayedExecution
	// Log receives a line per status write; nil discards them.
	Log io.Writer
	// Reads are the status fields the RGDs read (world.ReadsOf), which the
	// writes fill as the simulated world's do (world.Fill).
	Reads world.Reads
}

// Standins plays, on a real API server, the kind controllers the simulated
// world plays (sim/world) for the real-API harness's stand-in kinds: when an
// object's spec generation is newer than its status.observedGeneration, it
// waits a delay drawn from the readiness of the kind the object stands in
// for, then reads the object and writes the status that kind's controller
// would (world.SetStatus) through the status subresource: a GET and a PUT,
// as the simulated world's requests are counted. Static kinds (ConfigMap,
// Secret, Service, ...) are ready when they exist and are not watched.
type Standins struct {
	dyn   dynamic.Interface
	kinds []StandinKind
	clock clock.WithDelayedExecution
	log   io.Writer
	reads world.Reads

	ctx     context.Context
	cancel  context.CancelFunc
	factory dynamicinformer.DynamicSharedInformerFactory
	wg      sync.WaitGroup // scheduled and running status writes

	mu        sync.Mutex
	draws     *world.Draws
	pending   map[standinKey]pendingWrite
	stopped   bool
	calls     map[string]map[verb.Verb]int // by resource
	writes    int
	conflicts int
	errs      int
	firstErr  error
}

type standinKey struct {
	gvr             schema.GroupVersionResource
	namespace, name string
}

// pendingWrite is the generation a status write is scheduled (or running)
// for; timer is nil once it runs.
type pendingWrite struct {
	gen   int64
	timer clock.Timer
}

// conflictRetries bounds the rewrites of a status that another writer
// changed between the GET and the PUT.
const conflictRetries = 5

// StandinKinds lists the stand-in kinds the server serves (the CRDs of
// world.StandinGroup) that t has a readiness rule for (world.Rule), by kind.
func StandinKinds(ctx context.Context, dyn dynamic.Interface, t *target.Target) ([]StandinKind, error) {
	list, err := dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the stand-in kinds' CRDs: %w", err)
	}
	var out []StandinKind
	for _, crd := range list.Items {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		version := storageVersion(&crd)
		if group != world.StandinGroup || version == "" {
			continue
		}
		gv := schema.GroupVersion{Group: group, Version: version}
		if r, ok := world.Rule(t, gv.String(), kind); ok {
			out = append(out, StandinKind{GVR: gv.WithResource(plural), Kind: kind, Readiness: r})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out, nil
}

// storageVersion is the version a CRD stores, or its first served one.
func storageVersion(crd *unstructured.Unstructured) string {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	first := ""
	for _, v := range versions {
		m, _ := v.(map[string]any)
		name, _ := m["name"].(string)
		if m["storage"] == true {
			return name
		}
		if m["served"] == true && first == "" {
			first = name
		}
	}
	return first
}

// StandinsUsed lists the stand-in kinds the RGDs create or read whose
// status t's readiness makes a controller write, sorted: the kinds a real
// run needs a Standins controller for.
func StandinsUsed(t *target.Target, rgds []*model.RGD) []string {
	var out []string
	for _, g := range rgds {
		for _, res := range g.Resources {
			gv, err := schema.ParseGroupVersion(res.APIVersion)
			if err != nil || gv.Group != world.StandinGroup {
				continue
			}
			if _, ok := world.Rule(t, res.APIVersion, res.Kind); ok && !slices.Contains(out, res.Kind) {
				out = append(out, res.Kind)
			}
		}
	}
	sort.Strings(out)
	return out
}

// StartStandins starts a controller of kinds on dyn's server and returns
// once it has listed their objects; Stop stops it.
func StartStandins(ctx context.Context, dyn dynamic.Interface, kinds []StandinKind, o StandinOptions) (*Standins, error) {
	if len(kinds) == 0 {
		return nil, fmt.Errorf("no stand-in kinds to look after")
	}
	s := &Standins{dyn: dyn, kinds: kinds, clock: o.Clock, log: o.Log, reads: o.Reads,
		draws:   world.NewDraws(o.Seed),
		pending: map[standinKey]pendingWrite{}, calls: map[string]map[verb.Verb]int{}}
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	if s.log == nil {
		s.log = io.Discard
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.factory = dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	for _, k := range kinds {
		inf := s.factory.ForResource(k.GVR).Informer()
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { s.observe(k, obj) },
			UpdateFunc: func(_, obj any) { s.observe(k, obj) },
			DeleteFunc: func(obj any) { s.forget(k, obj) },
		}); err != nil {
			s.cancel()
			return nil, err
		}
	}
	s.factory.Start(s.ctx.Done())
	for gvr, ok := range s.factory.WaitForCacheSync(s.ctx.Done()) {
		if !ok {
			s.Stop()
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("stand-in controller: the watch of %s never synced", gvr.Resource)
		}
	}
	return s, nil
}

// Stop cancels the status writes still waiting for their delay, aborts
// those in flight and returns once every goroutine of the controller has
// ended.
func (s *Standins) Stop() {
	s.cancel()
	s.factory.Shutdown()
	s.mu.Lock()
	s.stopped = true
	for key, p := range s.pending {
		if p.timer != nil && p.timer.Stop() {
			s.wg.Done()
		}
		delete(s.pending, key)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// observe schedules a status write when an object's spec generation is
// new, as the simulated world does (world.World).
func (s *Standins) observe(k StandinKind, o any) {
	obj, ok := o.(*unstructured.Unstructured)
	if !ok || obj.GetDeletionTimestamp() != nil {
		return
	}
	gen := obj.GetGeneration()
	observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	key := standinKey{k.GVR, obj.GetNamespace(), obj.GetName()}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, scheduled := s.pending[key]
	if s.stopped || observed == gen || (scheduled && p.gen == gen) {
		return
	}
	s.cancelWrite(p)
	d := k.Readiness.Sample(s.draws.Deviate(obj.GetAPIVersion(), obj.GetKind(), key.namespace, key.name, gen))
	s.wg.Add(1)
	// The write runs on a goroutine of its own, so that a clock that fires
	// timers while holding a lock (a fake one) never waits for s.mu.
	timer := s.clock.AfterFunc(d, func() { go s.ready(k, key, gen, d) })
	s.pending[key] = pendingWrite{gen: gen, timer: timer}
}

// forget drops the write scheduled for a deleted object.
func (s *Standins) forget(k StandinKind, o any) {
	if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	obj, ok := o.(*unstructured.Unstructured)
	if !ok {
		return
	}
	key := standinKey{k.GVR, obj.GetNamespace(), obj.GetName()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pending[key]; ok {
		s.cancelWrite(p)
		delete(s.pending, key)
	}
}

// cancelWrite stops p's timer if it has not fired; s.mu is held.
func (s *Standins) cancelWrite(p pendingWrite) {
	if p.timer != nil && p.timer.Stop() {
		s.wg.Done()
	}
}

// ready writes the status of key's kind's controller for generation gen,
// unless the object was deleted or a newer generation is scheduled.
func (s *Standins) ready(k StandinKind, key standinKey, gen int64, after time.Duration) {
	defer s.wg.Done()
	s.mu.Lock()
	p, ok := s.pending[key]
	if s.stopped || !ok || p.gen != gen {
		s.mu.Unlock()
		return
	}
	// Still pending, without a timer: events for this generation while
	// the write runs schedule nothing.
	s.pending[key] = pendingWrite{gen: gen}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if p, ok := s.pending[key]; ok && p.gen == gen && p.timer == nil {
			delete(s.pending, key)
		}
		s.mu.Unlock()
	}()
	client := s.dyn.Resource(key.gvr).Namespace(key.namespace)
	for attempt := 0; ; attempt++ {
		obj, err := client.Get(s.ctx, key.name, metav1.GetOptions{})
		s.count(key.gvr.Resource, verb.Get)
		if err != nil || obj.GetGeneration() != gen {
			s.failed(err)
			return // gone, or a newer generation has its own write
		}
		world.SetStatus(obj, gen)
		world.Fill(obj, s.reads)
		_, err = client.UpdateStatus(s.ctx, obj, metav1.UpdateOptions{})
		s.count(key.gvr.Resource, verb.UpdateStatus)
		if apierrors.IsConflict(err) && attempt < conflictRetries {
			s.mu.Lock()
			s.conflicts++
			s.mu.Unlock()
			continue
		}
		if err != nil {
			s.failed(err)
			return
		}
		s.mu.Lock()
		s.writes++
		s.mu.Unlock()
		fmt.Fprintf(s.log, "krosim standins: %s %s/%s ready for generation %d after %s\n", k.Kind, key.namespace, key.name, gen, after.Round(time.Millisecond))
		return
	}
}

func (s *Standins) count(resource string, v verb.Verb) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls[resource] == nil {
		s.calls[resource] = map[verb.Verb]int{}
	}
	s.calls[resource][v]++
}

// failed records a write that failed for another reason than the object
// being gone or the controller stopping.
func (s *Standins) failed(err error) {
	if err == nil || apierrors.IsNotFound(err) || s.ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs++
	if s.firstErr == nil {
		s.firstErr = err
	}
}

// Calls is how many requests of verb the controller made, over all kinds.
func (s *Standins) Calls(v verb.Verb) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c[v]
	}
	return n
}

// Report is what the controller did so far, for results.json.
func (s *Standins) Report(targetName string, seed uint64) *result.Standins {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := &result.Standins{Target: targetName, Seed: seed, Readiness: map[string]target.Readiness{},
		StatusWrites: s.writes, Conflicts: s.conflicts, Errors: s.errs, Requests: map[string]map[verb.Verb]int{}}
	for _, k := range s.kinds {
		rep.Readiness[k.Kind] = k.Readiness
	}
	for res, c := range s.calls {
		rep.Requests[res] = map[verb.Verb]int{}
		for v, n := range c {
			rep.Requests[res][v] = n
		}
	}
	if s.firstErr != nil {
		rep.FirstError = s.firstErr.Error()
	}
	return rep
}

// KindNames are the kinds the controller looks after, for messages.
func (s *Standins) KindNames() string {
	names := make([]string, len(s.kinds))
	for i, k := range s.kinds {
		names[i] = k.Kind
	}
	return strings.Join(names, ", ")
}

// startStandins starts the run's stand-in controller, if its config asks
// for one and its target covers a stand-in kind the RGDs use, before the
// first scrape: the controller's first LIST and WATCH are not the run's.
// It notes every readyWhen that no controller of the run will satisfy.
func (r *runner) startStandins(ctx context.Context) error {
	t := r.cfg.Standins
	if t != nil && len(StandinsUsed(t, r.rgds)) > 0 {
		kinds, err := StandinKinds(ctx, r.dyn, t)
		if err != nil {
			return err
		}
		if r.standins, err = StartStandins(ctx, r.dyn, kinds, StandinOptions{Seed: r.cfg.Seed, Reads: world.ReadsOf(r.rgds)}); err != nil {
			return err
		}
		r.logf("stand-in controller for %s, with the readiness of target %s", r.standins.KindNames(), t.Name)
	}
	for _, g := range r.rgds {
		for _, res := range g.Resources {
			if len(res.ReadyWhen) == 0 {
				continue
			}
			if r.standins != nil {
				if _, ok := world.Rule(t, res.APIVersion, res.Kind); ok {
					continue
				}
			}
			r.notes = append(r.notes, fmt.Sprintf("%s: resource %s has readyWhen, and no controller of this run writes the status of its kind %s (a stand-in controller runs for the stand-in kinds --target's readiness covers), so only a condition true without one (or a controller on the cluster) lets it become ready", g.Name, res.ID, res.Kind))
		}
	}
	return nil
}

// reportStandins adds what the stand-in controller did to a real run's results.
func (r *runner) reportStandins(res *result.Result) {
	if r.standins == nil {
		return
	}
	rep := r.standins.Report(r.cfg.Standins.Name, r.cfg.Seed)
	res.Real.Standins = rep
	if rep.Errors > 0 {
		r.notes = append(r.notes, fmt.Sprintf("the stand-in controller failed %d status writes (first: %s): instances waiting on them may never have become ready", rep.Errors, rep.FirstError))
	}
}
