package bench_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/profile/bench"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/target"
	"github.com/krosim/krosim/sim/workload"
)

var errInterrupted = errors.New("interrupted")

func run(t *testing.T, cfg bench.Config) *bench.Report {
	t.Helper()
	gs, err := model.Load(bench.ExampleRGDName, bench.ExampleRGD)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bench.Run(cfg, gs[0], bench.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func findB(bs []bench.Benchmark, name string) (bench.Benchmark, bool) {
	for _, b := range bs {
		if b.Name == name {
			return b, true
		}
	}
	return bench.Benchmark{}, false
}

func findHost(r *bench.Report, name string) (bench.Benchmark, bool) {
	if r.Host == nil {
		return bench.Benchmark{}, false
	}
	return findB(r.Host.Benchmarks, name)
}

func convergeOf(t *testing.T, cfg bench.Config) float64 {
	t.Helper()
	gs, _ := model.Load(bench.ExampleRGDName, bench.ExampleRGD)
	res, err := sim.Run(result.Config{RGDFiles: []string{cfg.RGD}, Target: cfg.Target, Workload: workload.Default(cfg.Instances),
		Seed: 1, MaxTime: target.Duration(4 * 3600e9)}, gs, sim.Options{})
	if err != nil || res.Summary.ConvergeSeconds == nil {
		t.Fatalf("%v %v", err, res.Incomplete)
	}
	return *res.Summary.ConvergeSeconds
}

func encodeWithoutHost(t *testing.T, r *bench.Report) []byte {
	t.Helper()
	cp := *r
	cp.Host = nil
	b, err := bench.Encode(&cp)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return b
}
