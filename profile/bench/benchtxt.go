package bench

import (
	"fmt"
	"strings"
)

// BenchTxt renders the report in the Go benchmark format (golang.org/x/perf/
// benchfmt), one result line per repetition, so benchstat can compare two
// runs: sec/op is the time per operation (1/throughput), beside the
// throughput's own unit, API calls and errors per operation; host lines
// carry B/op and allocs/op. Configuration lines say which lines are
// simulated and which measured on this host.
func BenchTxt(r *Report) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "pkg: krosim/bench\nformat: %s\nrgd: %s\n", Format, r.Config.RGD)
	if t := r.Config.Target; t != nil {
		fmt.Fprintf(&b, "target: %s\n", t.Name)
	}
	if !r.Complete {
		fmt.Fprintf(&b, "incomplete: %s\n", oneLine(r.Incomplete))
	}
	mode := ""
	emit := func(bm Benchmark) {
		if bm.Mode != mode {
			mode = bm.Mode
			fmt.Fprintf(&b, "mode: %s\n", mode)
		}
		name := "Benchmark" + suiteName(bm.Suite) + "/" + benchName(bm)
		unit := strings.ReplaceAll(bm.ThroughputUnit, " ", "-")
		for _, tp := range bm.Throughput.Runs {
			if tp <= 0 {
				continue
			}
			fmt.Fprintf(&b, "%s %d %.6g sec/op %.6g %s", name, max(1, bm.Ops), 1/tp, tp, unit)
			for _, m := range []struct{ key, unit string }{
				{"api_calls_per_op", "api-calls/op"}, {"cost_units", "cost-units/op"},
				{"bytes_per_op", "B/op"}, {"allocs_per_op", "allocs/op"},
			} {
				if v, ok := bm.Metrics[m.key]; ok {
					fmt.Fprintf(&b, " %.6g %s", v, m.unit)
				}
			}
			if bm.Suite == CRUD {
				fmt.Fprintf(&b, " %.6g errors/op", bm.ErrorRate)
			}
			b.WriteString("\n")
		}
	}
	for _, bm := range r.Benchmarks {
		emit(bm)
	}
	if r.Workers != nil {
		mode = ""
		for _, p := range r.Workers.Points {
			bm := Benchmark{Suite: Workers, Name: fmt.Sprintf("workers=%d/vcpus=%d", p.Workers, p.VCPUs), Mode: "sim",
				Ops: r.Config.Instances, Throughput: p.Throughput, ThroughputUnit: "instances/s"}
			emit(bm)
		}
	}
	if r.Usage != nil {
		fmt.Fprintf(&b, "mode: %s\n", r.Usage.Mode)
		for _, p := range r.Usage.Points {
			fmt.Fprintf(&b, "BenchmarkUsage/instances=%d 1 %.6g peak-B %d resources %.6g cpu-sec\n", p.Instances, float64(p.PeakBytes), p.Resources, p.CPUSeconds)
		}
	}
	if h := r.Host; h != nil {
		fmt.Fprintf(&b, "goos: %s\ngoarch: %s\ncpus: %d\ngo: %s\n", h.GOOS, h.GOARCH, h.CPUs, h.GoVersion)
		mode = ""
		for _, bm := range h.Benchmarks {
			emit(bm)
		}
	}
	return []byte(b.String())
}

func suiteName(s string) string {
	switch s {
	case CRUD:
		return "CRUD"
	case CEL:
		return "CEL"
	default:
		return strings.ToUpper(s[:1]) + s[1:]
	}
}

func benchName(bm Benchmark) string {
	switch bm.Suite {
	case CRUD:
		return "op=" + bm.Name
	case CEL:
		return "expr=" + bm.Name
	default:
		return bm.Name
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
