package sim

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestFirstNamesKeepsTheSmallest checks that names added in any order,
// duplicates included, leave the first maxNames of them sorted.
func TestFirstNamesKeepsTheSmallest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 12 {
		var all, first []string
		for range n {
			name := "ns/" + strconv.Itoa(rng.IntN(8))
			all = append(all, name)
			first = firstNames(first, name)
		}
		slices.Sort(all)
		want := all[:min(len(all), maxNames)]
		if !slices.Equal(first, want) {
			t.Errorf("%d names: kept %v, want %v", n, first, want)
		}
	}
}
