package api

import (
	"fmt"
	"runtime"
	"testing"
)

// TestUIDsAreTheFormattedNumbers checks the chunked UIDs against the
// format they replace, across chunk boundaries and after collections
// (the boxes point into the chunks, which must stay alive and unchanged).
func TestUIDsAreTheFormattedNumbers(t *testing.T) {
	var u uids
	var got []any
	numbers := []int64{}
	for n := int64(1); n <= 3*uidsPerChunk+5; n++ {
		numbers = append(numbers, n)
	}
	numbers = append(numbers, 999_999_999_999, 1_000_000_000_000, 12_345_678_901_234)
	for _, n := range numbers {
		got = append(got, u.next(n))
		if n%100 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	for i, n := range numbers {
		want := fmt.Sprintf("00000000-0000-0000-0000-%012d", n)
		if s, ok := got[i].(string); !ok || s != want {
			t.Fatalf("UID %d is %#v, want %q", n, got[i], want)
		}
		if uidOf(n) != want {
			t.Fatalf("uidOf(%d) = %q, want %q", n, uidOf(n), want)
		}
	}
}
