package api

import "testing"

// TestNumbersInOrderFirstSeen checks that values are numbered from 0 in
// the order first seen, once each, and read back.
func TestNumbersInOrderFirstSeen(t *testing.T) {
	var n Numbers[string]
	if _, ok := n.Lookup("a"); ok {
		t.Fatal("an empty numbering found a value")
	}
	for i, v := range []string{"a", "b", "a", "c", "b"} {
		want := map[string]int32{"a": 0, "b": 1, "c": 2}[v]
		if got := n.Of(v); got != want {
			t.Errorf("value %d (%s) numbered %d, want %d", i, v, got, want)
		}
	}
	for want, v := range []string{"a", "b", "c"} {
		if i, ok := n.Lookup(v); !ok || i != int32(want) || n.At(i) != v {
			t.Errorf("%s: number %d, %v, reads back %q", v, i, ok, n.At(i))
		}
	}
}
