package model

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// FuzzLoad's seeds are the testdata RGDs, valid, invalid and the smaller
// hostile ones; the findings
// `go test -fuzz` keeps are in testdata/fuzz/FuzzLoad, which plain `go test`
// runs too.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"rgd/*.yaml", "rgd/invalid/*.yaml", "hostile/*.yaml"} {
		files, _ := filepath.Glob(filepath.Join("..", "testdata", pattern))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			if len(data) > 8<<10 && strings.HasPrefix(pattern, "hostile") {
				continue // the giant ones only slow the fuzzer down
			}
			f.Add(data)
		}
	}
	fuzzing := flag.Lookup("test.fuzz").Value.String() != ""
	f.Fuzz(func(t *testing.T, data []byte) {
		if fuzzing {
			// A hang is a finding too. Panicking off the test goroutine kills
			// the worker, so the fuzzer records the input.
			watchdog := time.AfterFunc(20*time.Second, func() {
				panic(fmt.Sprintf("Load ran for over 20s on %q", data))
			})
			defer watchdog.Stop()
		}
		defer func() {
			if t.Failed() {
				t.Logf("input (%d bytes): %.300q", len(data), data)
			}
		}()
		const name = "fuzz.yaml"
		rgds, err := Load(name, data)
		if err != nil {
			checkProblems(t, name, data, err)
			if _, err2 := Load(name, data); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("second load gave different problems:\n%v\nthen\n%v", err, err2)
			}
			return
		}
		if len(rgds) == 0 {
			t.Fatal("Load succeeded without an RGD")
		}
		for _, g := range rgds {
			checkGraph(t, g)
		}
		again, err := Load(name, data)
		if err != nil {
			t.Fatalf("second load failed: %v", err)
		}
		for i, g := range rgds {
			if !reflect.DeepEqual(g.Order, again[i].Order) || !reflect.DeepEqual(g.Edges(), again[i].Edges()) {
				t.Fatalf("second load ordered %q differently: %v then %v", g.Name, g.Order, again[i].Order)
			}
		}
	})
}

// checkProblems asserts that err is a non-empty Problems whose every entry
// points into the file.
func checkProblems(t *testing.T, name string, data []byte, err error) {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load error %v is a %T, want Problems", err, err)
	}
	if len(ps) == 0 {
		t.Fatal("Load returned an empty Problems")
	}
	// YAML breaks lines at \n, \r\n and a lone \r.
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n")
	for _, p := range ps {
		switch {
		case p.Pos.File != name:
			t.Errorf("problem %q has file %q, want %q", p.Msg, p.Pos.File, name)
		case p.Msg == "":
			t.Errorf("problem at %v has no message", p.Pos)
		case p.Pos.Line < 0 || p.Pos.Col < 0:
			t.Errorf("problem %v has a negative position", p)
		case p.Pos.Line > len(lines):
			t.Errorf("problem %v: line %d is past the end of the file (%d lines)", p, p.Pos.Line, len(lines))
		case p.Pos.Line > 0 && p.Pos.Col < 1:
			t.Errorf("problem %v has a line but no column", p)
		case p.Pos.Line > 0 && p.Line != lines[p.Pos.Line-1]:
			t.Errorf("problem %v quotes %q, but line %d is %q", p, p.Line, p.Pos.Line, lines[p.Pos.Line-1])
		}
	}
	if !sort.SliceIsSorted(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	}) {
		t.Errorf("problems are not in file order:\n%v", ps)
	}
	_ = ps.Detail()
}

// checkGraph asserts that a loaded RGD's order, levels and waves agree with its edges.
func checkGraph(t *testing.T, g *RGD) {
	t.Helper()
	n := len(g.Resources)
	pos := make([]int, n)
	for i := range pos {
		pos[i] = -1
	}
	if len(g.Order) != n {
		t.Fatalf("%s: order %v has %d entries for %d resources", g.Name, g.Order, len(g.Order), n)
	}
	for k, i := range g.Order {
		if i < 0 || i >= n || pos[i] >= 0 {
			t.Fatalf("%s: order %v is not a permutation of 0..%d", g.Name, g.Order, n-1)
		}
		pos[i] = k
	}
	if want := kroOrder(g.Resources); !slices.Equal(g.Order, want) {
		t.Errorf("%s: order %v, want %v (the ready resource with the lowest index first)", g.Name, g.Order, want)
	}
	wave := make([]int, n)
	for i := range wave {
		wave[i] = -1
	}
	for w, ids := range g.Waves {
		for _, i := range ids {
			if i < 0 || i >= n || wave[i] >= 0 {
				t.Fatalf("%s: waves %v do not partition the resources", g.Name, g.Waves)
			}
			wave[i] = w
		}
	}
	for i, r := range g.Resources {
		if r.Index != i {
			t.Errorf("%s: resource %q has index %d at position %d", g.Name, r.ID, r.Index, i)
		}
		if wave[i] < 0 {
			t.Errorf("%s: resource %q is in no deletion wave", g.Name, r.ID)
		}
		if !sort.IntsAreSorted(r.Deps) || !sort.IntsAreSorted(r.Dependents) {
			t.Errorf("%s: %q deps %v / dependents %v not ascending", g.Name, r.ID, r.Deps, r.Dependents)
		}
		level := 0
		for _, d := range r.Deps {
			if d == i {
				t.Errorf("%s: %q depends on itself", g.Name, r.ID)
				continue
			}
			if pos[d] > pos[i] {
				t.Errorf("%s: %q comes before its dependency %q in order %v", g.Name, r.ID, g.Resources[d].ID, g.Order)
			}
			if wave[d] <= wave[i] {
				t.Errorf("%s: %q is deleted no later than its dependent %q (waves %v)", g.Name, g.Resources[d].ID, r.ID, g.Waves)
			}
			if !contains(g.Resources[d].Dependents, i) {
				t.Errorf("%s: %q depends on %q, which does not list it as a dependent", g.Name, r.ID, g.Resources[d].ID)
			}
			level = max(level, g.Resources[d].Level+1)
		}
		if r.Level != level {
			t.Errorf("%s: %q has level %d, want %d", g.Name, r.ID, r.Level, level)
		}
	}
}

// kroOrder is kro's topological order computed the slow, obvious way:
// repeatedly take the lowest-index resource whose dependencies are all placed.
func kroOrder(rs []*Resource) []int {
	placed := make([]bool, len(rs))
	var order []int
	for len(order) < len(rs) {
		next := -1
		for i, r := range rs {
			if placed[i] {
				continue
			}
			ready := true
			for _, d := range r.Deps {
				ready = ready && placed[d]
			}
			if ready {
				next = i
				break
			}
		}
		if next < 0 {
			return nil // a cycle
		}
		placed[next] = true
		order = append(order, next)
	}
	return order
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
