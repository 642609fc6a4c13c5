package world

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/target"
)

// TestDeviatesAreStandardNormal checks that the deviates of 20,000 objects
// named alike have a standard normal's mean, spread and tail, and that each
// is the object's own: drawn again, the same; another generation, another
// seed or the same letters split otherwise, another.
func TestDeviatesAreStandardNormal(t *testing.T) {
	const n = 20000
	d := NewDraws(1)
	var sum, sq float64
	tail := 0
	for i := range n {
		z := d.Deviate("apps/v1", "Deployment", fmt.Sprintf("ns-%d", i), "web", 1)
		sum += z
		sq += z * z
		if z > 1.6448536 { // the 95th percentile
			tail++
		}
	}
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	// Standard errors: 0.007 for the mean, 0.005 for the spread, 0.0015 for
	// the tail's share; the bounds are four of them.
	if math.Abs(mean) > 0.03 || math.Abs(sd-1) > 0.02 || math.Abs(float64(tail)/n-0.05) > 0.006 {
		t.Errorf("mean %.4f, sd %.4f, share above the 95th percentile %.4f: want 0, 1, 0.05", mean, sd, float64(tail)/n)
	}
	z := d.Deviate("v1", "ConfigMap", "ns", "cfg", 1)
	for _, c := range []struct {
		name string
		z    float64
		same bool
	}{
		{"drawn again", d.Deviate("v1", "ConfigMap", "ns", "cfg", 1), true},
		{"by other draws of the same seed", NewDraws(1).Deviate("v1", "ConfigMap", "ns", "cfg", 1), true},
		{"generation 2", d.Deviate("v1", "ConfigMap", "ns", "cfg", 2), false},
		{"seed 2", NewDraws(2).Deviate("v1", "ConfigMap", "ns", "cfg", 1), false},
		{"namespace nsc, name fg", d.Deviate("v1", "ConfigMap", "nsc", "fg", 1), false},
	} {
		if (c.z == z) != c.same {
			t.Errorf("%s: %v against %v, want the same: %v", c.name, c.z, z, c.same)
		}
	}
}

// TestReadinessDoesNotFollowOrder creates the same Deployments in two
// orders, a second apart: each becomes ready the same delay after its
// creation either way, and that delay is the target's readiness at the
// object's own deviate.
func TestReadinessDoesNotFollowOrder(t *testing.T) {
	tg, err := target.Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	tg = tg.Clone()
	r := target.Readiness{P50: target.Duration(2 * time.Second), P95: target.Duration(3 * time.Second), P99: target.Duration(4 * time.Second)}
	tg.Readiness = map[string]target.Readiness{"Deployment": r}
	names := []string{"a", "b", "c", "d", "e", "f"}
	delays := func(order []string) map[string]time.Duration {
		k := kernel.New()
		defer k.Shutdown()
		store := api.NewStore(k.Now)
		New(k, store, tg, 7, func(api.Key) bool { return false })
		created, ready := map[string]time.Duration{}, map[string]time.Duration{}
		store.OnWrite(func(e api.Event) {
			if _, ok := ready[e.Key.Name]; !ok && e.Type == "MODIFIED" {
				ready[e.Key.Name] = k.Now() - created[e.Key.Name]
			}
		})
		for i, name := range order {
			k.At(time.Duration(i)*time.Second, func() {
				created[name] = k.Now()
				key := api.Key{GVR: store.GVR("apps/v1", "Deployment"), Namespace: "ns", Name: name}
				if _, err := store.Create(key, object("apps/v1", "Deployment", name, map[string]any{"replicas": int64(1)})); err != nil {
					t.Error(err)
				}
			})
		}
		if err := k.Run(0, nil); err != nil {
			t.Fatal(err)
		}
		return ready
	}
	forward := delays(names)
	backward := delays([]string{"f", "e", "d", "c", "b", "a"})
	distinct := map[time.Duration]bool{}
	for _, name := range names {
		want := r.Sample(NewDraws(7).Deviate("apps/v1", "Deployment", "ns", name, 1))
		if forward[name] != want || backward[name] != want {
			t.Errorf("%s: ready %s after its creation in one order, %s in the other, want %s", name, forward[name], backward[name], want)
		}
		distinct[want] = true
	}
	if len(distinct) < len(names) {
		t.Errorf("%d distinct delays for %d objects: the draws are not per object", len(distinct), len(names))
	}
}
