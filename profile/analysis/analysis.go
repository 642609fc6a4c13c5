package analysis

// Analysis is what analyze reports: each metric summarized, the changes
// against a baseline, and recommendations derived from the inputs.
type Analysis struct {
	Inputs   []InputRef `json:"inputs"`
	Baseline []InputRef `json:"baseline,omitempty"`
	Metrics  []Summed   `json:"metrics"`
	Changes  []Change   `json:"changes,omitempty"`
	// OnlyNew and OnlyBaseline are metrics one side lacks, not compared.
	OnlyNew      []string `json:"only_new,omitempty"`
	OnlyBaseline []string `json:"only_baseline,omitempty"`
	// Regressions counts the changes for the worse beyond their threshold.
	Regressions     int              `json:"regressions"`
	Recommendations []Recommendation `json:"recommendations"`
}

// InputRef names one input directory and what it holds.
type InputRef struct {
	Dir  string `json:"dir"`
	Kind Kind   `json:"kind"`
	Real bool   `json:"real"`
}

// Summed is a metric and its summary.
type Summed struct {
	Metric
	Summary Summary `json:"summary"`
}

func sources(ins []*Input) []InputRef {
	var out []InputRef
	for _, in := range ins {
		out = append(out, InputRef{Dir: in.Dir, Kind: in.Kind, Real: in.Real()})
	}
	return out
}

// Analyze summarizes ins, compares them with base when given (each metric
// with the last matching threshold rule) and derives recommendations from ins.
func Analyze(ins, base []*Input, rules []Threshold) *Analysis {
	a := &Analysis{Inputs: sources(ins), Baseline: sources(base), Recommendations: Recommend(ins)}
	cur := Metrics(ins)
	for _, name := range cur.Names() {
		m := cur.Get(name)
		a.Metrics = append(a.Metrics, Summed{Metric: *m, Summary: Summarize(m.Values)})
	}
	if len(base) == 0 {
		return a
	}
	old := Metrics(base)
	for _, name := range cur.Names() {
		o := old.Get(name)
		if o == nil {
			a.OnlyNew = append(a.OnlyNew, name)
			continue
		}
		c := Compare(o, cur.Get(name), thresholdFor(rules, name))
		if c.Regression {
			a.Regressions++
		}
		a.Changes = append(a.Changes, c)
	}
	for _, name := range old.Names() {
		if cur.Get(name) == nil {
			a.OnlyBaseline = append(a.OnlyBaseline, name)
		}
	}
	return a
}
