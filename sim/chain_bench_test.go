//go:build unix

package sim

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/model/synth"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

// BenchmarkChain is a whole run of `krosim gen --shape chain --nodes 10
// --edges 9 --seed 1` at 2,000 instances with 8 workers on kro-defaults, the
// per-core benchmark of issue 14. It reports kro's API calls and the kernel's
// events per CPU-second (user + system of this process around the run), ns
// and allocations per API call, and the live heap per stored object at the
// peak: after a GC when every instance's creation has settled (Options.Created;
// nothing is deleted later). That measurement is outside the timed CPU.
//
// It collects garbage as `krosim run` does: cmd/krosim sets GCPercent (400)
// unless GOGC is set (its soft memory limit, at least 3 GiB, is far above this
// run's heap and never acts here), so the benchmark does the same; run it
// with GOGC=100 in the environment for Go's default, which the numbers
// before chain-after3.txt used. KROSIM_CHAIN_INSTANCES sets another instance
// count (the numbers kept in testdata/bench are at 2,000).
func BenchmarkChain(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	}
	data, err := synth.Generate(synth.Options{Shape: synth.Chain, Nodes: 10, Edges: 9, Complexity: synth.Simple, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	rgds, err := model.Load("chain-10-9.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		b.Fatal(err)
	}
	tg = tg.Clone()
	tg.Controller.Workers = 8
	instances := 2000
	if n, err := strconv.Atoi(os.Getenv("KROSIM_CHAIN_INSTANCES")); err == nil && n > 0 {
		instances = n // e.g. 100000: the live heap per object at the scale issue 14 asks
	}
	cfg := result.Config{Target: tg, Workload: workload.Default(instances), Seed: 1, MaxTime: target.Duration(4 * time.Hour)}

	var calls, events, allocs uint64
	var cpu time.Duration
	var heapPerObject float64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mallocs := ms.Mallocs
		start := cpuTime()
		var inspected time.Duration
		res, err := Run(cfg, rgds, Options{Created: func(objects int) {
			b.StopTimer()
			t0 := cpuTime()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heapPerObject = float64(ms.HeapAlloc) / float64(objects)
			writeHeapProfile(b)
			inspected = cpuTime() - t0
			b.StartTimer()
		}})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - start - inspected
		runtime.ReadMemStats(&ms)
		allocs += ms.Mallocs - mallocs
		if !res.Complete || res.Summary.InstancesReady != instances {
			b.Fatalf("run incomplete: %d of %d ready (%s)", res.Summary.InstancesReady, instances, res.Incomplete)
		}
		for _, v := range res.Summary.APICalls {
			calls += uint64(v)
		}
		events += res.Summary.SimulatedEvents
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(calls), "ns/call")
	b.ReportMetric(float64(calls)/cpu.Seconds(), "calls/CPU-s")
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/CPU-s")
	b.ReportMetric(float64(allocs)/float64(calls), "allocs/call")
	b.ReportMetric(heapPerObject, "heap-B/object")
}

// writeHeapProfile writes the heap profile at the peak to the file
// $KROSIM_PEAK_HEAPPROFILE names, when set: where the heap per object goes.
func writeHeapProfile(b *testing.B) {
	path := os.Getenv("KROSIM_PEAK_HEAPPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is this process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
