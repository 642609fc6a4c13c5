package world

import "math/rand/v2"

// Draws gives every object its own readiness delay: the standard normal
// deviate of one generation of one object is a function of the seed, the
// object's apiVersion, kind, namespace and name, and the generation, and of
// nothing else. So the order in which objects come to a controller, which
// kro's worker count and the host's speed change, never changes which object
// draws a tail delay: a simulation and the stand-in controller of a real run
// with the same seed make each object ready after the same delay, and two
// what-if runs that differ only in workers or CPUs share one world.
type Draws struct {
	seed uint64
	src  rand.PCG
	rng  *rand.Rand
}

// NewDraws returns the draws of seed.
func NewDraws(seed uint64) *Draws {
	d := &Draws{seed: seed}
	d.rng = rand.New(&d.src)
	return d
}

// Deviate is the standard normal deviate of generation gen of the object.
// It is not safe for concurrent use.
func (d *Draws) Deviate(apiVersion, kind, namespace, name string, gen int64) float64 {
	h := uint64(fnvOffset)
	for _, s := range [...]string{apiVersion, kind, namespace, name} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * fnvPrime
		}
		h = (h ^ 0xff) * fnvPrime // no byte of a name: "a"+"bc" and "ab"+"c" differ
	}
	d.src.Seed(d.seed, mix(h^mix(uint64(gen))))
	return d.rng.NormFloat64()
}

// FNV-1a's 64-bit parameters.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// mix is SplitMix64's finalizer: nearby inputs give unrelated outputs.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
