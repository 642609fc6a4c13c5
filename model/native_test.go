package model_test

import (
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/krosim/krosim/model"
)

// TestNativeStringsKeepTheirBox checks that a string result converts to
// the same string, as a string (not types.String), without allocating: it
// shares the CEL value's box.
func TestNativeStringsKeepTheirBox(t *testing.T) {
	for _, s := range []string{"", "a", "synth-svc0002", string(make([]byte, 1000))} {
		var v ref.Val = types.String(s)
		got, err := model.Native(v)
		if err != nil {
			t.Fatal(err)
		}
		if g, ok := got.(string); !ok || g != s {
			t.Errorf("Native(%q) = %#v, want the string", s, got)
		}
	}
	var v ref.Val = types.String("synth-" + "svc0002")
	var sink any
	if n := testing.AllocsPerRun(100, func() { sink, _ = model.Native(v) }); n != 0 {
		t.Errorf("Native of a string allocates %v times", n)
	}
	if sink != "synth-svc0002" {
		t.Errorf("sink = %#v", sink)
	}
}
