package main

import (
	"strings"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	const gib = int64(1) << 30
	info := "MemTotal:       24576000 kB\nMemFree:        20000000 kB\n"
	total := memTotal(strings.NewReader(info))
	if total != 24576000<<10 {
		t.Fatalf("MemTotal read as %d bytes", total)
	}
	if got := memoryLimit(total); got != total/4 {
		t.Errorf("limit %d on a 23 GiB machine, want a quarter, %d", got, total/4)
	}
	for _, m := range []int64{0, 4 * gib, memTotal(strings.NewReader("MemTotal: lots kB\n"))} {
		if got := memoryLimit(m); got != 3*gib {
			t.Errorf("limit %d for %d bytes of memory, want the 3 GiB floor", got, m)
		}
	}
}
