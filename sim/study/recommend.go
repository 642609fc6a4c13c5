package study

import (
	"fmt"
	"strings"
)

// WhatIfNote is said by every sweep: kro's own QPS flags do nothing.
const WhatIfNote = "A QPS limit is a what-if: kro's --client-qps and --client-burst have no effect " +
	"(controller-runtime's GetConfig sets QPS -1, which turns client-side limiting off), " +
	"so kro really runs with no client-side limit (qps=none)."

// own is the constraint each resource dimension eases.
var own = map[string]Constraint{QPS: ClientQPS, Burst: ClientQPS, Workers: WorkerBound, CPUs: VCPUBound}

// maxKneeSentences bounds the knee sentences; sweep.json has every knee.
const maxKneeSentences = 12

// recommend turns the knees into plain sentences, best setting first and the
// what-if note last. Knees that say the same thing along one other dimension
// share a sentence.
func recommend(s *Sweep) []string {
	var out []string
	if best := bestGroup(s.Groups); best != nil {
		where := describe(s, best.Params, "", "", nil)
		if where == "" {
			where = "the only setting"
		}
		out = append(out, fmt.Sprintf("Fastest: %s: converged in %s; %s %s.",
			where, seconds(best.ConvergeSeconds.Mean), best.Constraint.Label(), best.Constraint.verb()))
	} else if len(s.Groups) > 0 {
		out = append(out, "No point converged within max_time: raise max_time or ease the tightest setting.")
	}
	knees := s.Knees
	for n := 0; len(knees) > 0; n++ {
		if n == maxKneeSentences {
			out = append(out, fmt.Sprintf("(%d more knees in sweep.json)", len(knees)))
			break
		}
		run, along := mergeable(knees)
		var list []float64
		if len(run) > 1 {
			for _, k := range run {
				list = append(list, k.Fixed[along])
			}
		}
		out = append(out, kneeSentence(s, run[0], along, list))
		knees = knees[len(run):]
	}
	return append(out, WhatIfNote)
}

// mergeable returns the leading knees that say the same thing and differ in
// one other dimension only (returned too; "" for a single knee).
func mergeable(knees []Knee) ([]Knee, string) {
	first := knees[0]
	along := ""
	n := 1
	for ; n < len(knees); n++ {
		k := knees[n]
		if k.Dimension != first.Dimension || kind(k) != kind(first) {
			break
		}
		diff := ""
		for d, v := range k.Fixed {
			if first.Fixed[d] != v {
				if diff != "" {
					diff = "+" // two differ
				}
				diff += d
			}
		}
		if diff == "" || strings.Contains(diff, "+") || (along != "" && diff != along) {
			break
		}
		along = diff
	}
	return knees[:n], along
}

// kind is what a knee's sentence says, without the numbers; it follows the
// cases of kneeSentence.
func kind(k Knee) string {
	d, c := k.Dimension, k.Constraint
	shape := "middle"
	switch {
	case IsLoad(d) && k.Value == k.Tightest:
		shape = "load-flat"
	case IsLoad(d):
		shape = "load"
	case k.Value == k.Tightest:
		shape = "flat"
	case k.Value == k.Loosest && d == QPS && k.Value == 0:
		shape, c = "no-limit", "" // the sentence names no constraint
	case k.Value == k.Loosest && c == own[d]:
		shape, c = "edge-own", ""
	case k.Value == k.Loosest:
		shape = "edge"
	}
	return fmt.Sprintf("%s %s %g %g %g", shape, c, k.Value, k.Tightest, k.Loosest)
}

func bestGroup(gs []Group) *Group {
	var best *Group
	for i := range gs {
		g := &gs[i]
		if g.ConvergeSeconds != nil && (best == nil || g.ConvergeSeconds.Mean < best.ConvergeSeconds.Mean) {
			best = g
		}
	}
	return best
}

// kneeSentence says what knee k means. With list, it speaks for every value
// in list of dimension along, and leaves out the numbers that differ.
func kneeSentence(s *Sweep, k Knee, along string, list []float64) string {
	d := k.Dimension
	at := func(v float64) string { return d + "=" + FormatValue(d, v) }
	where := describe(s, k.Fixed, d, along, list)
	if where != "" {
		where = "at " + where + ", "
	}
	merged := len(list) > 1
	num := func(format string, args ...any) string {
		if merged {
			return ""
		}
		return fmt.Sprintf(format, args...)
	}
	c := k.Constraint
	binds := c.Label() + " " + c.verb() + "; " + c.Advice()
	var b string
	switch {
	case IsLoad(d) && k.Value == k.Tightest:
		noun := d
		if d == Instances {
			noun = "the instance count"
		}
		b = fmt.Sprintf("%s%s makes no difference up to %s%s: %s", where, noun, at(k.Tightest), num(" (converge %s)", seconds(k.ConvergeSeconds)), binds)
	case IsLoad(d):
		b = fmt.Sprintf("%sconverge stays within 5%% of the best%s up to %s; beyond it %s", where, num(" (%s)", seconds(k.BestSeconds)), at(k.Value), binds)
	case k.Value == k.Tightest:
		b = fmt.Sprintf("%s%s makes no difference from %s to %s%s: %s", where, d,
			FormatValue(d, k.Tightest), FormatValue(d, k.Loosest), num(" (converge %s)", seconds(k.ConvergeSeconds)), binds)
	case k.Value == k.Loosest && d == QPS && k.Value == 0:
		b = fmt.Sprintf("%severy qps limit tried costs time: only no limit is within 5%% of the best%s", where,
			num(" (%s, vs %s at %s)", seconds(k.ConvergeSeconds), secondsOrNot(k.BeforeSeconds), at(*k.BeforeValue)))
	case k.Value == k.Loosest && c == own[d]:
		b = fmt.Sprintf("%s%s still pays off at the largest value tried%s: try more", where, d,
			num(" (%s at %s, vs %s at %s)", seconds(k.ConvergeSeconds), at(k.Value), secondsOrNot(k.BeforeSeconds), at(*k.BeforeValue)))
	case k.Value == k.Loosest:
		b = fmt.Sprintf("%s%s is the fastest tried%s, and there %s %s, not %s: %s", where, at(k.Value),
			num(" (%s, vs %s at %s)", seconds(k.ConvergeSeconds), secondsOrNot(k.BeforeSeconds), at(*k.BeforeValue)),
			c.Label(), c.verb(), d, c.Advice())
	default:
		b = fmt.Sprintf("%sraising %s above %s buys nothing%s: %s", where, d, FormatValue(d, k.Value),
			num(" (%s, best %s)", seconds(k.ConvergeSeconds), seconds(k.BestSeconds)), binds)
	}
	return capital(b + ".")
}

// describe says where in the grid a line or group sits: "2,000 instances with
// workers=1", leaving out dimension skip; dimension along, when set, takes
// every value in list ("workers=1, 2 or 4").
func describe(s *Sweep, params map[string]float64, skip, along string, list []float64) string {
	var parts []string
	inst := ""
	if skip != Instances {
		switch {
		case along == Instances && len(list) > 1:
			inst = orList(Instances, list, func(v float64) string { return Thousands(int(v)) }) + " instances"
		default:
			n, ok := params[Instances]
			if !ok {
				n = float64(s.Study.Workload.Instances)
			}
			inst = Thousands(int(n)) + " instances"
		}
	}
	for _, d := range s.Dimensions {
		v, ok := params[d]
		if !ok || d == skip || d == Instances {
			continue
		}
		if d == along && len(list) > 1 {
			parts = append(parts, d+"="+orList(d, list, func(v float64) string { return FormatValue(d, v) }))
			continue
		}
		parts = append(parts, d+"="+FormatValue(d, v))
	}
	switch {
	case inst == "":
		return strings.Join(parts, ", ")
	case len(parts) == 0:
		return inst
	}
	return inst + " with " + strings.Join(parts, ", ")
}

// orList renders "1, 2 or 4".
func orList(dim string, vals []float64, format func(float64) string) string {
	var s []string
	for _, v := range vals {
		s = append(s, format(v))
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// seconds renders a duration in seconds with sensible precision.
func seconds(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0fs", x)
	case x >= 10:
		return fmt.Sprintf("%.1fs", x)
	}
	return fmt.Sprintf("%.2fs", x)
}

func secondsOrNot(x *float64) string {
	if x == nil {
		return "no convergence"
	}
	return seconds(*x)
}
