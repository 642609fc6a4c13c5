package verb

import "testing"

func TestParse(t *testing.T) {
	for _, v := range All {
		got, ok := Parse(string(v))
		if !ok || got != v {
			t.Errorf("Parse(%q) = %q, %v; want %q, true", v, got, ok, v)
		}
	}
	for _, s := range []string{"", "GET", "watch", "apply", "get "} {
		if v, ok := Parse(s); ok {
			t.Errorf("Parse(%q) = %q, true; want false", s, v)
		}
	}
}

func TestMethod(t *testing.T) {
	tests := []struct {
		v    Verb
		want string
	}{
		{Get, "GET"}, {List, "GET"}, {Create, "POST"}, {Update, "PUT"},
		{Patch, "PATCH"}, {UpdateStatus, "PUT"}, {Delete, "DELETE"}, {"watch", ""},
	}
	for _, tt := range tests {
		if got := tt.v.Method(); got != tt.want {
			t.Errorf("%q.Method() = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestAllInReportOrder(t *testing.T) {
	want := "get list create update patch update_status delete"
	got := ""
	for i, v := range All {
		if i > 0 {
			got += " "
		}
		got += string(v)
	}
	if got != want {
		t.Errorf("All = %s, want %s", got, want)
	}
	if len(All) != Count {
		t.Errorf("Count = %d, want len(All) = %d", Count, len(All))
	}
}

// TestIndexIsPlaceInAll checks Index against All, whose order it must follow.
func TestIndexIsPlaceInAll(t *testing.T) {
	for i, v := range All {
		if got := v.Index(); got != i {
			t.Errorf("%q.Index() = %d, want %d", v, got, i)
		}
	}
	for _, v := range []Verb{"", "GET", "watch", "apply"} {
		if got := v.Index(); got != -1 {
			t.Errorf("%q.Index() = %d, want -1", v, got)
		}
	}
}
