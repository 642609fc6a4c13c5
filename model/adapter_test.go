package model

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/traits"
)

// TestAdapterReusesOnlyWhatIsTheSame checks the caching adapter: a map or
// string converted again is the same CEL value, a map whose length changed
// (a recycled map refilled) gets a value of its new size, and everything
// converts as cel-go's default adapter does.
func TestAdapterReusesOnlyWhatIsTheSame(t *testing.T) {
	a := newAdapter()
	m := map[string]any{"name": "x"}
	first := a.NativeToValue(m)
	if again := a.NativeToValue(m); again != first {
		t.Error("the same map converted twice: two values")
	}
	m["other"] = int64(1)
	grown := a.NativeToValue(m)
	if got := grown.(traits.Sizer).Size(); got != types.Int(2) {
		t.Errorf("a grown map's size is %v, want 2", got)
	}
	s := fmt.Sprint("a", "b") // not a constant: its own bytes
	if a.NativeToValue(s) != a.NativeToValue(s) {
		t.Error("the same string converted twice: two values")
	}
	def := types.DefaultTypeAdapter
	for _, x := range []any{nil, "", "ab", s, int64(3), 2.5, true, map[string]any(nil), m, []any{"a"}} {
		if got, want := a.NativeToValue(x), def.NativeToValue(x); got.Equal(want) != types.True || got.Type() != want.Type() {
			t.Errorf("%#v converts to %v (%v), want %v (%v)", x, got, got.Type(), want, want.Type())
		}
	}
}

// TestAdapterIsSafeInParallel converts from several goroutines at once, as
// a sweep's parallel runs do (go test -race checks the locking).
func TestAdapterIsSafeInParallel(t *testing.T) {
	a := newAdapter()
	maps := make([]map[string]any, 64)
	for i := range maps {
		maps[i] = map[string]any{"i": int64(i)}
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 100; r++ {
				for i, m := range maps {
					v, _ := a.NativeToValue(m).(traits.Mapper).Find(types.String("i"))
					if v != types.Int(i) {
						t.Errorf("map %d reads %v", i, v)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
