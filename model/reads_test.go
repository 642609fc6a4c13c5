package model

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestStatusReads finds the status fields an RGD waits for: read
// anywhere, typed by the kind's schema where it has one, with the constant
// a readyWhen compares them with; not those it tests with has().
func TestStatusReads(t *testing.T) {
	gs, err := LoadFile("../testdata/rgd/waits.yaml")
	if err != nil {
		t.Fatal(err)
	}
	paths := func(rs []Read) (out []string) {
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s/%s/%v%s", strings.Join(r.Path, "."), kindNames[r.Kind], r.Want, r.Condition))
		}
		return out
	}
	bucket := gs[0].StatusReads("bucket")
	want := []string{"status.ackResourceMetadata.arn/dyn/<nil>", "status.phase/string/Synced", "status.region/string/<nil>"}
	if got := paths(bucket); !reflect.DeepEqual(got, want) {
		t.Errorf("bucket reads %q, want %q", got, want)
	}
	want = []string{"status.active/integer/2", "status.completionTime/timestamp/<nil>", "status.conditions/list/<nil>",
		"status.conditions/list/<nil>Complete", "status.ready/dyn/<nil>", "status.startTime/timestamp/<nil>", "status.succeeded/integer/1",
		"status.uncountedTerminatedPods.succeeded.[0]/string/<nil>"}
	if got := paths(gs[0].StatusReads("job")); !reflect.DeepEqual(got, want) {
		t.Errorf("job reads %q, want %q", got, want)
	}
	if cm := gs[0].StatusReads("cm"); len(cm) != 0 {
		t.Errorf("cm reads %+v, want none", cm)
	}
}
