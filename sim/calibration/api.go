package calibration

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/krosim/krosim/sim/cluster"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/verb"
	"gonum.org/v1/gonum/stat"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// CalibrateConfig says how to measure a real API server.
type CalibrateConfig struct {
	Kubeconfig cluster.Kubeconfig
	// Objects is how many requests of each verb are timed (and objects made).
	Objects int
	// Concurrency lists the numbers of requests in flight to measure at;
	// the target takes the first.
	Concurrency []int
	Log         io.Writer
	// PIDDir holds the PID files of the server's processes on this host
	// (the harness's: etcd, apiserver, kro); with it, each verb's CPU time
	// on the server (etcd's and the API server's) and in the client is
	// measured too.
	PIDDir string
}

// Calibration is what the API server's latency looks like to a client like kro's.
type Calibration struct {
	Latency map[verb.Verb]target.Latency // per verb, at the first concurrency
	// WatchDelay is the median time from a create's response to its watch
	// event as this client sees both (negative: the event came first).
	WatchDelay time.Duration
	Rows       []LatencyRow // every verb at every concurrency
	// Processors is how many requests the server works on at once, as its
	// throughput shows: the median over verbs of the requests per second at
	// the highest concurrency over those at the first. 0 with one
	// concurrency; at most the ratio of the two concurrencies.
	Processors float64
	// Objects is how many requests of each verb were timed, and
	// Concurrency the numbers in flight they were timed at, Latency's first.
	Objects     int
	Concurrency []int
	// Client is the host the client ran on: "linux/amd64 with 8 CPUs".
	Client string
	// Sized are the verbs measured again on larger objects (with the
	// processes' CPU only) at the first concurrency, and KiB the objects'
	// sizes as the server stores them (managed fields aside), the usual and
	// the larger: how a request's CPU grows with its object.
	Sized []LatencyRow
	KiB   [2]float64
	// Watched is what a write costs each watcher of its kind (with the
	// processes' CPU only).
	Watched WatchedWrite
}

// LatencyRow is one verb measured at one concurrency.
type LatencyRow struct {
	Verb        verb.Verb // or a row reported only (reportOnly)
	Concurrency int
	P50, P95    time.Duration
	P99         time.Duration
	OpsPerSec   float64
	PerObject   time.Duration // list only: the fitted cost of each object listed
	Objects     int
	// ServerCPU and ClientCPU are the CPU time per request of the server's
	// processes (etcd and the API server) and of the client, when measured.
	ServerCPU, ClientCPU time.Duration
}

// PatchWrites names the row of server-side applies that change the object;
// the target's patch latency is the no-op apply's.
const PatchWrites verb.Verb = "patch-writes"

// PatchCreates names the row of server-side applies that create the
// object, as kro's first apply of a child does: measured, about a fifth
// dearer in server CPU than a no-op apply; priced apart in a simulation,
// the fit took it back from the other requests and the tables did not
// improve (testdata/realapi/fidelity.md), so the target prices an apply
// that creates as a no-op one, and the row is reported only.
const PatchCreates verb.Verb = "patch-creates"

// reportOnly says whether the rows of v are reported but are no verb of a
// target: PatchWrites and PatchCreates.
func reportOnly(v verb.Verb) bool { return v == PatchWrites || v == PatchCreates }

// standins is the stand-in kind calibration writes (testdata/realapi/standins.yaml).
var standins = schema.GroupVersionResource{Group: "standin.krosim.dev", Version: "v1", Resource: "standinconfigmaps"}

// Calibrate times every request verb kro uses against stand-in objects in
// namespaces of its own, as kro's client sees it: get, list (a namespace of
// one object and one of Objects, for the per-object cost), create, update,
// patch (server-side apply that changes nothing, as most of kro's applies),
// update_status and delete. It cleans up after itself.
func Calibrate(ctx context.Context, cfg CalibrateConfig) (*Calibration, error) {
	if cfg.Objects < 10 {
		cfg.Objects = 200
	}
	if len(cfg.Concurrency) == 0 {
		cfg.Concurrency = []int{1}
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	dyn, err := cluster.Dynamic(cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	if _, err := dyn.Resource(standins).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return nil, fmt.Errorf("the server does not serve the stand-in kinds (apply testdata/realapi/standins.yaml): %w", err)
	}
	cal := &Calibration{Objects: cfg.Objects, Concurrency: cfg.Concurrency,
		Client: fmt.Sprintf("%s/%s with %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())}
	for i, c := range cfg.Concurrency {
		m := &measure{dyn: dyn, n: cfg.Objects, c: c, ns: fmt.Sprintf("krosim-calibrate-%d", c), pidDir: cfg.PIDDir}
		rows, delay, err := m.run(ctx, i == 0)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			cpu := ""
			if cfg.PIDDir != "" {
				cpu = fmt.Sprintf("  cpu: server %.2fms client %.2fms", ms(row.ServerCPU), ms(row.ClientCPU))
			}
			fmt.Fprintf(cfg.Log, "krosim calibrate: %-13s x%d  p50 %7.2fms  p95 %7.2fms  p99 %7.2fms  %6.0f/s%s%s\n",
				row.Verb, row.Concurrency, ms(row.P50), ms(row.P95), ms(row.P99), row.OpsPerSec, perObject(row), cpu)
		}
		if i == 0 {
			cal.Latency = latencies(rows)
			cal.WatchDelay = delay
			fmt.Fprintf(cfg.Log, "krosim calibrate: watch delay (response to event) median %.2fms\n", ms(delay))
		}
		cal.Rows = append(cal.Rows, rows...)
		if i == 0 && cfg.PIDDir != "" {
			if err := cal.sized(ctx, m, cfg.Log); err != nil {
				return nil, err
			}
			if err := cal.watchedWrites(ctx, m, cfg.Log); err != nil {
				return nil, err
			}
		}
	}
	cal.Processors = processors(cal.Rows, cfg.Concurrency)
	return cal, nil
}

// sized measures every verb again on objects of sizedFields more fields,
// after the usual ones (m's), and notes both sizes.
func (c *Calibration) sized(ctx context.Context, m *measure, log io.Writer) error {
	res := m.dyn.Resource(standins).Namespace(m.ns)
	for i, fields := range []int{0, sizedFields} {
		probe := *m
		probe.fields = fields
		o, err := res.Create(ctx, probe.object(m.n, "size"), metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("sizing an object: %w", err)
		}
		o.SetManagedFields(nil)
		data, err := o.MarshalJSON()
		if err != nil {
			return fmt.Errorf("sizing an object: %w", err)
		}
		c.KiB[i] = float64(len(data)) / 1024
		if err := res.Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil {
			return fmt.Errorf("sizing an object: %w", err)
		}
	}
	big := *m
	big.fields = sizedFields
	rows, _, err := big.run(ctx, false)
	if err != nil {
		return err
	}
	for _, row := range rows {
		fmt.Fprintf(log, "krosim calibrate: %-13s x%d  %.2f KiB  p50 %7.2fms  p99 %7.2fms  cpu: server %.2fms\n",
			row.Verb, row.Concurrency, c.KiB[1], ms(row.P50), ms(row.P99), ms(row.ServerCPU))
	}
	c.Sized = rows
	return nil
}

// latencies are a target's latencies by verb from the rows of one
// concurrency; a patch's is the apply that changes nothing, as most of
// kro's are.
func latencies(rows []LatencyRow) map[verb.Verb]target.Latency {
	l := map[verb.Verb]target.Latency{}
	for _, row := range rows {
		if !reportOnly(row.Verb) {
			l[row.Verb] = target.Latency{P50: target.Duration(row.P50), P95: target.Duration(row.P95),
				P99: target.Duration(row.P99), PerObject: target.Duration(row.PerObject), CPU: target.Duration(row.ServerCPU)}
		}
	}
	return l
}

// perKiB splits each verb's CPU, measured on the usual objects, into what
// a request costs whatever its object (cpu) and what it costs per KiB of it
// (cpu_per_kib), from the larger objects' measurement: how much the CPU grew
// per KiB, as a fraction of the usual object's. The writes' fractions are
// pooled (their mean): one run's differ by more than the verbs do (four
// runs on the harness: 0.25 to 1.31 for one verb, means 0.63 to 0.86); a
// GET, which only reads, keeps its own. A fraction is at least 0, and at
// most nine tenths of a request's CPU grows with its object: every request
// costs something whatever its object. LISTs are charged per object listed
// instead.
func (c *Calibration) perKiB(l map[verb.Verb]target.Latency) []string {
	dk := c.KiB[1] - c.KiB[0]
	if len(c.Sized) == 0 || !(dk > 0) || !(c.KiB[0] > 0) {
		return nil
	}
	growth := map[verb.Verb]float64{}
	var writes []float64
	for _, big := range c.Sized {
		lat, ok := l[big.Verb]
		if !ok || big.Verb == verb.List || reportOnly(big.Verb) || lat.CPU <= 0 {
			continue
		}
		f := float64(big.ServerCPU-lat.CPU.D()) / dk / float64(lat.CPU)
		growth[big.Verb] = f
		if !big.Verb.ReadOnly() {
			writes = append(writes, f)
		}
	}
	pooled := stat.Mean(writes, nil)
	var out []string
	for _, v := range verb.All {
		f, ok := growth[v]
		if !ok {
			continue
		}
		if !v.ReadOnly() {
			f = pooled
		}
		f = min(max(f, 0), 0.9/c.KiB[0])
		if f == 0 {
			continue
		}
		lat := l[v]
		cpu := float64(lat.CPU)
		lat.CPU = target.Duration(time.Duration(cpu * (1 - f*c.KiB[0])).Round(time.Microsecond))
		lat.CPUPerKiB = target.Duration(time.Duration(cpu * f).Round(time.Microsecond))
		l[v] = lat
		out = append(out, fmt.Sprintf("%s %.2fms + %.2fms per KiB", v, ms(lat.CPU.D()), ms(lat.CPUPerKiB.D())))
	}
	return out
}

// ApplyOptions say how a calibration makes a new target of a base one.
type ApplyOptions struct {
	Name string // the new target's
	Base string // the base target's name, for the description
	// KeepCPUs keeps the base's server.cpus (the user gave them) rather than
	// taking the processors the server's throughput showed.
	KeepCPUs bool
}

// Apply returns a copy of base with the latency measured and, when the
// throughput showed it, server.cpus the processors serving requests (rounded,
// at least 1) unless o.KeepCPUs. The server measured has no kind controllers
// (the real-API harness): stand-ins are ready as soon as they exist and
// nothing writes their status, so readiness is empty. The description says
// what was measured. Apply also returns a line of report on the processors,
// empty when they were not measured.
func (c *Calibration) Apply(base *target.Target, o ApplyOptions) (*target.Target, string) {
	t := base.Clone()
	t.Name = o.Name
	t.Latency = maps.Clone(c.Latency)
	sized := c.perKiB(t.Latency)
	first := c.Concurrency[0]
	note := ""
	if c.Processors > 0 {
		note = fmt.Sprintf("Throughput at %d in flight over that at %d: %.2f processors serving requests", slices.Max(c.Concurrency),
			first, c.Processors)
		if o.KeepCPUs {
			note += fmt.Sprintf(" (server.cpus %d as given).", t.Server.CPUs)
		} else {
			t.Server.CPUs = max(1, int(math.Round(c.Processors)))
			note += fmt.Sprintf(" (server.cpus %d).", t.Server.CPUs)
		}
	}
	t.Readiness = map[string]target.Readiness{}
	var other []string
	for _, r := range c.Rows {
		if r.Concurrency != first || reportOnly(r.Verb) {
			other = append(other, fmt.Sprintf("%s x%d p50 %.2fms p99 %.2fms", r.Verb, r.Concurrency,
				float64(r.P50)/1e6, float64(r.P99)/1e6))
		}
	}
	t.Description = fmt.Sprintf("%s with the request latency of a real API server measured by krosim calibrate --kubeconfig "+
		"(%d requests per verb, %d in flight, client-go dynamic client on %s); patch is a server-side apply "+
		"that changes nothing, as most of kro's are; no kind controllers (readiness empty). Also measured: %s.",
		o.Base, c.Objects, first, c.Client, strings.Join(other, "; "))
	if len(sized) > 0 {
		t.Description += fmt.Sprintf(" Server CPU by the object's size, from objects of %.2f and %.2f KiB: %s.", c.KiB[0], c.KiB[1], strings.Join(sized, ", "))
	}
	// What kro's objects carry on the server beyond what krosim renders,
	// read back once from the harness: not measured by these requests.
	t.Server.InstanceBytes, t.Server.ObjectBytes = HeldInstanceBytes, HeldObjectBytes
	t.Description += fmt.Sprintf(" The server holds %d bytes more of an instance and %d more of any other object than krosim renders "+
		"(server.instance_bytes, server.object_bytes: managedFields and kro v0.9.4's labels, annotations and conditions, read back from "+
		"the real-API harness, testdata/realapi/measured/objects).", HeldInstanceBytes, HeldObjectBytes)
	if w := c.Watched; w.Watchers > 0 {
		t.Server.EventCPU = target.Duration(w.Server.Round(time.Microsecond))
		t.Cost.EventNS = float64(w.Client.Round(time.Microsecond))
		t.Description += fmt.Sprintf(" A write's watch event, from updates watched by %d watches against the same unwatched: %.3fms of the server's CPU "+
			"(server.event_cpu) and %.3fms of the watcher's (cost.event_ns, kro's informer).", w.Watchers, ms(w.Server), ms(w.Client))
	}
	if note != "" {
		t.Description += " " + note
	}
	return t, note
}

// HeldInstanceBytes and HeldObjectBytes are what the API server holds on
// kro v0.9.4's objects beyond what krosim renders of them
// (server.instance_bytes, server.object_bytes), read back from the
// real-API harness with their managedFields after runs of
// fidelity/fanout.yaml (testdata/realapi/measured/objects): a FanoutApp
// instance 3,131 bytes against 990 rendered, a StandinConfigMap child
// 1,409 against 553.
const (
	HeldInstanceBytes = 3131 - 990
	HeldObjectBytes   = 1409 - 553
)

// processors estimates how many requests a server works on at once from
// the throughput of each verb at the first and the highest concurrency: a
// server of C processors, saturated, completes C times as many requests per
// second as one request at a time does.
func processors(rows []LatencyRow, concurrency []int) float64 {
	first, top := concurrency[0], slices.Max(concurrency)
	if top <= first {
		return 0
	}
	atTop := map[verb.Verb]float64{} // verb -> requests per second at top
	for _, r := range rows {
		if r.Concurrency == top {
			atTop[r.Verb] = r.OpsPerSec
		}
	}
	var ratios []float64
	for _, r := range rows {
		if r.Concurrency == first && !reportOnly(r.Verb) && r.OpsPerSec > 0 {
			if x := atTop[r.Verb]; x > 0 {
				ratios = append(ratios, x/r.OpsPerSec*float64(first))
			}
		}
	}
	if len(ratios) == 0 {
		return 0
	}
	sort.Float64s(ratios)
	return ratios[len(ratios)/2]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func perObject(row LatencyRow) string {
	if row.Verb != "list" {
		return ""
	}
	return fmt.Sprintf("  (+%.1fus per object listed)", float64(row.PerObject)/1e3)
}

// measure is one concurrency level's measurements.
type measure struct {
	dyn    dynamic.Interface
	n      int
	c      int
	ns     string
	pidDir string
	cpu    map[string]time.Duration // the last timed stage's CPU time by process
	fields int                      // extra fields in every object (sizedFields for the larger objects)
}

// sizedFields are the fields the larger objects of the second measurement
// carry beyond the usual ones, short as most of an RGD's are: about 1 KiB.
const sizedFields = 60

func (m *measure) object(i int, value string) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "standin.krosim.dev/v1",
		"kind":       "StandinConfigMap",
		"metadata": map[string]any{
			"name":      fmt.Sprintf("cal-%05d", i),
			"namespace": m.ns,
			// Labels like the ones kro puts on its children.
			"labels": map[string]any{
				"kro.run/owned": "true", "kro.run/instance-name": fmt.Sprintf("cal-%05d", i),
				"kro.run/instance-namespace": m.ns, "kro.run/node-id": "config",
				"kro.run/resource-graph-definition-name": "calibrate.krosim.dev",
				"applyset.kubernetes.io/part-of":         "applyset-krosim-calibrate-v1",
			},
		},
		"data": map[string]any{"GREETING": value, "PORT": "8080",
			"PAYLOAD": strings.Repeat("x", 128)},
	}}
	if m.fields > 0 {
		data := o.Object["data"].(map[string]any)
		for j := range m.fields {
			data[fmt.Sprintf("FIELD%03d", j)] = fmt.Sprintf("v%d", j)
		}
	}
	return o
}

// timed runs f for 0..n-1 with m.c in flight and returns each call's latency.
func (m *measure) timed(ctx context.Context, f func(i int) error) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, m.n)
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	cpu := cluster.ProcessCPU(m.pidDir)
	start := time.Now()
	for w := 0; w < m.c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				err := f(i)
				lat[i] = time.Since(t)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < m.n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	wall := time.Since(start)
	m.cpu = cpuSince(m.pidDir, cpu)
	return lat, wall, first
}

// cpuSince is the CPU time each process of pidDir spent since before, a
// reading of cluster.ProcessCPU.
func cpuSince(pidDir string, before map[string]time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, d := range cluster.ProcessCPU(pidDir) {
		if was, ok := before[name]; ok {
			out[name] = d - was
		}
	}
	return out
}

// serverClient splits processes' CPU time into the server's (etcd's and
// the API server's; kro does not serve requests) and the client's
// (krosim's own).
func serverClient(cpu map[string]time.Duration) (server, client time.Duration) {
	for name, d := range cpu {
		switch name {
		case "krosim":
			client += d
		case "kro":
		default:
			server += d
		}
	}
	return server, client
}

func (m *measure) row(v verb.Verb, lat []time.Duration, wall time.Duration) LatencyRow {
	xs := make([]float64, len(lat))
	for i, d := range lat {
		xs[i] = float64(d)
	}
	sort.Float64s(xs)
	q := func(p float64) time.Duration { return time.Duration(stat.Quantile(p, stat.Empirical, xs, nil)) }
	row := LatencyRow{Verb: v, Concurrency: m.c, P50: q(0.5), P95: q(0.95), P99: q(0.99),
		OpsPerSec: float64(len(lat)) / wall.Seconds(), Objects: len(lat)}
	if m.pidDir != "" && len(lat) > 0 {
		server, client := serverClient(m.cpu)
		row.ServerCPU = server / time.Duration(len(lat))
		row.ClientCPU = client / time.Duration(len(lat))
	}
	return row
}

// fetch reads every calibration object, untimed.
func (m *measure) fetch(ctx context.Context, res dynamic.ResourceInterface) ([]*unstructured.Unstructured, error) {
	objs := make([]*unstructured.Unstructured, m.n)
	for i := range objs {
		o, err := res.Get(ctx, fmt.Sprintf("cal-%05d", i), metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		objs[i] = o
	}
	return objs, nil
}

// run measures every verb, in an order that leaves each stage the objects
// it needs: create, get, list, update, patch (writing, then not), update_status,
// delete. With timeWatch it also times the creates' watch events.
func (m *measure) run(ctx context.Context, timeWatch bool) ([]LatencyRow, time.Duration, error) {
	res := m.dyn.Resource(standins).Namespace(m.ns)
	m.clear(ctx, res)
	create, delay, err := m.create(ctx, res, timeWatch)
	if err != nil {
		return nil, 0, err
	}
	rows := []LatencyRow{create}
	for _, stage := range []func(context.Context, dynamic.ResourceInterface) (LatencyRow, error){
		m.get, m.list, m.update, m.patchWrites, m.patch, m.updateStatus, m.delete, m.patchCreates,
	} {
		row, err := stage(ctx, res)
		if err != nil {
			return nil, 0, err
		}
		rows = append(rows, row)
	}
	return rows, delay, nil
}

// clear deletes the leftovers of an interrupted calibration, which would
// turn creates into conflicts.
func (m *measure) clear(ctx context.Context, res dynamic.ResourceInterface) {
	if list, err := res.List(ctx, metav1.ListOptions{}); err == nil {
		for _, o := range list.Items {
			_ = res.Delete(ctx, o.GetName(), metav1.DeleteOptions{})
		}
	}
}

// create times creating every object; with timeWatch it also returns the
// median time from a create's response to its watch event.
func (m *measure) create(ctx context.Context, res dynamic.ResourceInterface, timeWatch bool) (LatencyRow, time.Duration, error) {
	var adds *addWatch
	if timeWatch {
		var err error
		if adds, err = watchAdds(ctx, res); err != nil {
			return LatencyRow{}, 0, err
		}
	}
	responded := make([]time.Time, m.n)
	lat, wall, err := m.timed(ctx, func(i int) error {
		_, err := res.Create(ctx, m.object(i, "create"), metav1.CreateOptions{})
		responded[i] = time.Now()
		return err
	})
	if err != nil {
		if adds != nil {
			adds.w.Stop()
		}
		return LatencyRow{}, 0, fmt.Errorf("create: %w", err)
	}
	var delay time.Duration
	if adds != nil {
		delay = adds.medianDelay(responded)
	}
	return m.row(verb.Create, lat, wall), delay, nil
}

// addWatch records when each object's ADDED event arrives.
type addWatch struct {
	w      watch.Interface
	events sync.Map // name -> time the event arrived
}

func watchAdds(ctx context.Context, res dynamic.ResourceInterface) (*addWatch, error) {
	w, err := res.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	a := &addWatch{w: w}
	go func() {
		for ev := range w.ResultChan() {
			if o, ok := ev.Object.(*unstructured.Unstructured); ok && ev.Type == watch.Added {
				a.events.LoadOrStore(o.GetName(), time.Now())
			}
		}
	}()
	return a, nil
}

// medianDelay waits for the last events, stops the watch and returns the
// median time from each object's response to its event.
func (a *addWatch) medianDelay(responded []time.Time) time.Duration {
	time.Sleep(500 * time.Millisecond)
	a.w.Stop()
	var ds []float64
	for i := range responded {
		if at, ok := a.events.Load(fmt.Sprintf("cal-%05d", i)); ok {
			ds = append(ds, float64(at.(time.Time).Sub(responded[i])))
		}
	}
	if len(ds) == 0 {
		return 0
	}
	sort.Float64s(ds)
	return time.Duration(stat.Quantile(0.5, stat.Empirical, ds, nil))
}

func (m *measure) get(ctx context.Context, res dynamic.ResourceInterface) (LatencyRow, error) {
	lat, wall, err := m.timed(ctx, func(i int) error {
		_, err := res.Get(ctx, fmt.Sprintf("cal-%05d", i), metav1.GetOptions{})
		return err
	})
	if err != nil {
		return LatencyRow{}, fmt.Errorf("get: %w", err)
	}
	return m.row(verb.Get, lat, wall), nil
}

// list times LISTs of one object (in a namespace of its own, as each of
// kro's instances lists its own children) and of every object, for the
// per-object cost.
func (m *measure) list(ctx context.Context, res dynamic.ResourceInterface) (LatencyRow, error) {
	one := m.dyn.Resource(standins).Namespace(m.ns + "-one")
	oneObj := m.object(0, "list")
	oneObj.SetNamespace(m.ns + "-one")
	if _, err := one.Create(ctx, oneObj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return LatencyRow{}, fmt.Errorf("list: %w", err)
	}
	sel := metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/part-of=applyset-krosim-calibrate-v1"}
	latOne, wallOne, err := m.timed(ctx, func(int) error { _, err := one.List(ctx, sel); return err })
	if err != nil {
		return LatencyRow{}, fmt.Errorf("list: %w", err)
	}
	lists := m.n / 4 // listing every object is slow: fewer samples do
	all := &measure{dyn: m.dyn, n: lists, c: m.c, ns: m.ns}
	latAll, _, err := all.timed(ctx, func(int) error { _, err := res.List(ctx, sel); return err })
	if err != nil {
		return LatencyRow{}, fmt.Errorf("list: %w", err)
	}
	_ = one.Delete(ctx, oneObj.GetName(), metav1.DeleteOptions{})
	listRow := m.row(verb.List, latOne, wallOne)
	allRow := all.row("list", latAll, time.Second)
	if m.n > 1 {
		listRow.PerObject = max(0, (allRow.P50-listRow.P50)/time.Duration(m.n-1))
	}
	// The simulator adds PerObject for each object listed: the base is the
	// one-object latency minus one object's share.
	listRow.P50 -= listRow.PerObject
	listRow.P95 -= listRow.PerObject
	listRow.P99 -= listRow.PerObject
	return listRow, nil
}

// update times PUTs of every object, read first so only the PUT is timed.
func (m *measure) update(ctx context.Context, res dynamic.ResourceInterface) (LatencyRow, error) {
	objs, err := m.fetch(ctx, res)
	if err != nil {
		return LatencyRow{}, err
	}
	lat, wall, err := m.timed(ctx, func(i int) error {
		o := objs[i]
		_ = unstructured.SetNestedField(o.Object, "update", "data", "GREETING")
		_, err := res.Update(ctx, o, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return LatencyRow{}, fmt.Errorf("update: %w", err)
	}
	return m.row(verb.Update, lat, wall), nil
}

// patchWrites times a server-side apply that changes every object.
func (m *measure) patchWrites(ctx context.Context, res dynamic.ResourceInterface) (LatencyRow, error) {
	return m.applies(ctx, res, PatchWrites)
}

// patchCreates times applies that create every object (deleted before),
// and deletes them again, untimed.
func (m *measure) patchCreates(ctx context.Context, res dynamic.ResourceInterface) (LatencyRow, error) {
	row, err := m.applies(ctx, res, PatchCreates)
	m.clear(ctx, res)
	return row, err
}

// patch times the same apply again, which changes nothing, as most of
// kro's applies.
func (m *measure) patch(ctx context.Context, res dynamic.ResourceInterface) (LatencyRow, error) {
	return m.applies(ctx, res, verb.Patch)
}

// applies times a server-side apply of every object as kro's field manager.
func (m *measure) applies(ctx context.Context, res dynamic.ResourceInterface, v verb.Verb) (LatencyRow, error) {
	force := true
	lat, wall, err := m.timed(ctx, func(i int) error {
		o := m.object(i, "apply")
		data, err := o.MarshalJSON()
		if err != nil {
			return err
		}
		_, err = res.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "kro", Force: &force})
		return err
	})
	if err != nil {
		return LatencyRow{}, fmt.Errorf("patch: %w", err)
	}
	return m.row(v, lat, wall), nil
}

// updateStatus times status updates of every object, read first.
func (m *measure) updateStatus(ctx context.Context, res dynamic.ResourceInterface) (LatencyRow, error) {
	objs, err := m.fetch(ctx, res)
	if err != nil {
		return LatencyRow{}, err
	}
	lat, wall, err := m.timed(ctx, func(i int) error {
		o := objs[i]
		o.Object["status"] = map[string]any{"state": "ACTIVE", "observedGeneration": o.GetGeneration()}
		_, err := res.UpdateStatus(ctx, o, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return LatencyRow{}, fmt.Errorf("update_status: %w", err)
	}
	return m.row(verb.UpdateStatus, lat, wall), nil
}

func (m *measure) delete(ctx context.Context, res dynamic.ResourceInterface) (LatencyRow, error) {
	lat, wall, err := m.timed(ctx, func(i int) error {
		return res.Delete(ctx, fmt.Sprintf("cal-%05d", i), metav1.DeleteOptions{})
	})
	if err != nil {
		return LatencyRow{}, fmt.Errorf("delete: %w", err)
	}
	return m.row(verb.Delete, lat, wall), nil
}
