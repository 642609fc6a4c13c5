package api

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/kernel"
)

// BenchmarkCalls measures the API model alone: one process issuing GETs and
// no-op server-side applies against a store of 10,000 objects, each call
// sampled for latency, admitted, timed in virtual time and run on the store.
func BenchmarkCalls(b *testing.B) {
	k := kernel.New()
	srv := NewServer(k, testTarget(b, time.Millisecond), rand.New(rand.NewPCG(1, 1)))
	var keys []Key
	for i := 0; i < 10000; i++ {
		name := fmt.Sprintf("cm-%05d", i)
		key := Key{cmGVR, "ns", name}
		if _, err := srv.Store.Create(key, configMap(name, map[string]any{IndexLabel: "x"}, map[string]any{"k": "v"})); err != nil {
			b.Fatal(err)
		}
		keys = append(keys, key)
	}
	c := srv.NewClient(0, 0)
	b.ResetTimer()
	k.Go("client", func(p *kernel.Proc) {
		for i := 0; i < b.N; i++ {
			key := keys[i%len(keys)]
			if i%2 == 0 {
				c.Get(p, key)
			} else {
				c.Apply(p, key, configMap(key.Name, map[string]any{IndexLabel: "x"}, map[string]any{"k": "v"}))
			}
		}
	})
	if err := k.Run(0, nil); err != nil {
		b.Fatal(err)
	}
	k.Shutdown()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
