package kro

import "testing"

// TestScratchBoxesListsOnce checks that a boxed list is the list itself,
// that a reconcile after reset gets the same box for a list of the same
// length (no new header) and a fresh one for another length, and that a
// nil scratch allocates.
func TestScratchBoxesListsOnce(t *testing.T) {
	sc := &scratch{}
	l, box := sc.boxedList(3)
	l[0] = "a"
	if b := box.([]any); len(b) != 3 || &b[0] != &l[0] || b[0] != "a" {
		t.Fatalf("box %v is not the list %v", box, l)
	}
	sc.reset()
	l2, box2 := sc.boxedList(3)
	if &l2[0] != &l[0] || l2[0] != nil {
		t.Fatalf("the list was not recycled empty: %v", l2)
	}
	if n := testing.AllocsPerRun(10, func() { sc.reset(); _, box2 = sc.boxedList(3) }); n != 0 {
		t.Errorf("a recycled list of the same length allocates %v times", n)
	}
	if b := box2.([]any); &b[0] != &l2[0] {
		t.Error("the recycled box is not the recycled list")
	}
	sc.reset()
	l3, box3 := sc.boxedList(2)
	if b := box3.([]any); len(b) != 2 || &b[0] != &l3[0] {
		t.Errorf("a shorter list's box %v is not the list", box3)
	}
	var none *scratch
	l4, box4 := none.boxedList(1)
	if b := box4.([]any); len(b) != 1 || &b[0] != &l4[0] {
		t.Error("a nil scratch's box is not its list")
	}
}
