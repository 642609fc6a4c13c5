package kro

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/krosim/krosim/sim/api"
)

// TestDeleteSettled checks which instances settle the delete phase: gone
// ones, and ones kro dropped after the workload deleted them; never one
// that failed at create and is still there.
func TestDeleteSettled(t *testing.T) {
	tests := []struct {
		name  string
		steps []func(c *Controller, in *Instance) // one per second of virtual time
		want  int
	}{
		{"failed at create, still there", []func(*Controller, *Instance){fail, deleteReq}, 0},
		{"failed at create, gone", []func(*Controller, *Instance){fail, deleteReq, gone}, 1},
		{"failed while deleting", []func(*Controller, *Instance){deleteReq, fail}, 1},
		{"failed at create, retried and failed while deleting", []func(*Controller, *Instance){fail, deleteReq, recovered, fail}, 1},
		{"ready, deletion in progress", []func(*Controller, *Instance){deleteReq}, 0},
		{"ready, gone", []func(*Controller, *Instance){deleteReq, gone}, 1},
		{"failed, never deleted", []func(*Controller, *Instance){fail}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, rgdYAML("", "", "", ""))
			in := h.c.tracked[0]
			for i, step := range tt.steps {
				h.k.At(time.Duration(i+1)*time.Second, func() { step(h.c, in) })
			}
			if err := h.k.Run(0, func() bool { return false }); err != nil {
				t.Fatal(err)
			}
			if got := h.c.Progress().DeleteSettled; got != tt.want {
				t.Errorf("DeleteSettled = %d, want %d (record %+v)", got, tt.want, in.rec)
			}
		})
	}
}

func fail(c *Controller, in *Instance)      { c.setFailed(in, true) }
func recovered(c *Controller, in *Instance) { c.setFailed(in, false) }
func deleteReq(c *Controller, in *Instance) { c.DeleteRequested(in) }
func gone(c *Controller, in *Instance) {
	c.watch(api.Event{Type: "DELETED", Key: in.Key()})
}

// TestDuplicateObjectsFail checks kro's ApplySet duplicate check: a
// collection whose items render the same object fails the reconcile
// before the ApplySet patch and before anything is applied.
func TestDuplicateObjectsFail(t *testing.T) {
	const same = `    - id: shards
      forEach:
        - shard: ${["a", "b", "c"]}
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.spec.name}-same
        data:
          value: ${shard}`
	h := newHarness(t, rgdYAML("", "", "", same))
	out, reqs := h.reconcile()
	if !errors.Is(out.err, ErrDuplicateResource) {
		t.Fatalf("reconcile ended %+v, want ErrDuplicateResource", out)
	}
	const want = "found resources with conflicts: resourceID: shards-1 conflicts with resourceID: shards-0, resourceID: shards-2 conflicts with resourceID: shards-1"
	if out.err.Error() != want {
		t.Errorf("error %q, want %q", out.err, want)
	}
	for _, r := range reqs {
		if strings.HasPrefix(r, "patch configmaps") {
			t.Errorf("applied %q despite the conflict; requests:\n%s", r, strings.Join(reqs, "\n"))
		}
	}
}

// TestDistinctObjectsPass checks that distinct items raise no conflict.
func TestDistinctObjectsPass(t *testing.T) {
	h := newHarness(t, rgdYAML("", "", "", collection))
	if out, _ := h.reconcile(); out.err != nil {
		t.Fatalf("reconcile failed: %v", out.err)
	}
}

// TestLastSeenIsTheLatest checks that the duplicate check names the last
// object seen under an identity, as kro's map of identities does.
func TestLastSeenIsTheLatest(t *testing.T) {
	a := identity{name: "a"}
	seen := []seenID{{a, "first"}, {identity{name: "b"}, "other"}, {a, "second"}}
	for _, tc := range []struct {
		name   string
		key    identity
		want   string
		wantOK bool
	}{
		{"repeated", a, "second", true},
		{"once", identity{name: "b"}, "other", true},
		{"never", identity{name: "c"}, "", false},
		{"other namespace", identity{namespace: "x", name: "a"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := lastSeen(seen, tc.key)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("lastSeen = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
