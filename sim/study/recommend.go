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
// what-if note last.
func recommend(s *Sweep) []string {
	var out []string
	if best := bestGroup(s.Groups); best != nil {
		where := describe(s, best.Params, "")
		if where == "" {
			where = "the only setting"
		}
		out = append(out, fmt.Sprintf("Fastest: %s: converged in %s; %s %s.",
			where, seconds(best.ConvergeSeconds.Mean), best.Constraint.Label(), best.Constraint.verb()))
	} else if len(s.Groups) > 0 {
		out = append(out, "No point converged within max_time: raise max_time or ease the tightest setting.")
	}
	n := 0
	for _, k := range s.Knees {
		if n == maxKneeSentences {
			out = append(out, fmt.Sprintf("(%d more knees in sweep.json)", len(s.Knees)-n))
			break
		}
		out = append(out, kneeSentence(s, k))
		n++
	}
	return append(out, WhatIfNote)
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

func kneeSentence(s *Sweep, k Knee) string {
	d := k.Dimension
	at := func(v float64) string { return d + "=" + FormatValue(d, v) }
	where := describe(s, k.Fixed, d)
	if where != "" {
		where = "at " + where + ", "
	}
	c := k.Constraint
	binds := c.Label() + " " + c.verb() + "; " + c.Advice()
	if IsLoad(d) {
		noun := d
		if d == Instances {
			noun = "the instance count"
		}
		switch {
		case k.Value == k.Tightest:
			return capital(fmt.Sprintf("%s%s makes no difference up to %s (converge %s): %s.",
				where, noun, at(k.Tightest), seconds(k.ConvergeSeconds), binds))
		default:
			return capital(fmt.Sprintf("%sconverge stays within 5%% of the best (%s) up to %s; beyond it %s.",
				where, seconds(k.BestSeconds), at(k.Value), binds))
		}
	}
	switch {
	case k.Value == k.Tightest:
		return capital(fmt.Sprintf("%s%s makes no difference from %s to %s (converge %s): %s.",
			where, d, FormatValue(d, k.Tightest), FormatValue(d, k.Loosest), seconds(k.ConvergeSeconds), binds))
	case k.Value == k.Loosest && d == QPS && k.Value == 0:
		return capital(fmt.Sprintf("%severy qps limit tried costs time: only no limit is within 5%% of the best (%s, vs %s at %s).",
			where, seconds(k.ConvergeSeconds), secondsOrNot(k.BeforeSeconds), at(*k.BeforeValue)))
	case k.Value == k.Loosest && c == own[d]:
		return capital(fmt.Sprintf("%s%s still pays off at the largest value tried (%s at %s, vs %s at %s): try more.",
			where, d, seconds(k.ConvergeSeconds), at(k.Value), secondsOrNot(k.BeforeSeconds), at(*k.BeforeValue)))
	case k.Value == k.Loosest:
		return capital(fmt.Sprintf("%s%s is the fastest tried (%s, vs %s at %s), and there %s %s, not %s: %s.",
			where, at(k.Value), seconds(k.ConvergeSeconds), secondsOrNot(k.BeforeSeconds), at(*k.BeforeValue),
			c.Label(), c.verb(), d, c.Advice()))
	}
	return capital(fmt.Sprintf("%sraising %s above %s buys nothing (%s, best %s): %s.",
		where, d, FormatValue(d, k.Value), seconds(k.ConvergeSeconds), seconds(k.BestSeconds), binds))
}

// describe says where in the grid a line or group sits: "2,000 instances with
// workers=1", leaving out dimension skip.
func describe(s *Sweep, params map[string]float64, skip string) string {
	var parts []string
	inst := ""
	if skip != Instances {
		n, ok := params[Instances]
		if !ok {
			n = float64(s.Study.Workload.Instances)
		}
		inst = count(int(n)) + " instances"
	}
	for _, d := range s.Dimensions {
		if v, ok := params[d]; ok && d != skip && d != Instances {
			parts = append(parts, d+"="+FormatValue(d, v))
		}
	}
	switch {
	case inst == "":
		return strings.Join(parts, ", ")
	case len(parts) == 0:
		return inst
	}
	return inst + " with " + strings.Join(parts, ", ")
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
