# krosim: simulate and profile kro without a cluster.
GO      ?= go
BIN     := bin/krosim
EXAMPLE := testdata/rgd/webapp.yaml

.PHONY: build test hostile krodiff demo profile bench bench-chain bench-short report fuzz fidelity realapi-up realapi-down clean

# In a git checkout the binary records its commit (krosim version).
build:
	$(GO) build -buildvcs=$(if $(wildcard .git),true,false) -o $(BIN) ./cmd/krosim

# The README's test command: vet plus every test, then the differential test
# against kro v0.9.4's own builder and CEL environment (model/krodiff, its own
# module so kro's dependencies stay out of go.mod).
test:
	$(GO) vet ./...
	$(GO) test ./...
	cd model/krodiff && $(GO) vet ./... && $(GO) test ./...

# Validate the embedded default example and print its graph.
demo: build
	./$(BIN) validate $(EXAMPLE)

# The README's main command: simulate the embedded example (300 instances of
# it on kro-defaults), write flame graphs, folded stacks, the attribution table
# and host profiles into out/profile, and print the paths and the table.
profile: build
	./$(BIN) profile --rgd $(EXAMPLE) --instances 300 --target kro-defaults --out out/profile

# The performance report from measurements, in a few minutes: the bench
# suites (the embedded example, 3 seeds of 50 instances), a QPS x workers
# sweep and a profile of the embedded example, then out/report/report.html
# (self-contained: open it in a browser) and report.md beside it.
REPORT := out/report
report: build
	./$(BIN) bench --count 3 --instances 50 --out $(REPORT)/bench --quiet
	./$(BIN) sweep --rgd $(EXAMPLE) --instances 100 --vary qps=20,100,none --vary workers=1,2,4 --out $(REPORT)/sweep --quiet
	./$(BIN) profile --rgd $(EXAMPLE) --instances 100 --target kro-defaults --out $(REPORT)/profile > /dev/null
	./$(BIN) report $(REPORT)/bench $(REPORT)/sweep $(REPORT)/profile --out $(REPORT)/report.html \
		--command "krosim bench --count 3 --instances 50 --out $(REPORT)/bench" \
		--command "krosim sweep --rgd $(EXAMPLE) --instances 100 --vary qps=20,100,none --vary workers=1,2,4 --out $(REPORT)/sweep" \
		--command "krosim profile --rgd $(EXAMPLE) --instances 100 --target kro-defaults --out $(REPORT)/profile"

# Only the differential test against kro v0.9.4, verbose: one line per RGD.
krodiff:
	cd model/krodiff && $(GO) test -v -count=1 ./...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Issue 14's per-core and memory benchmark: six whole runs of the
# 2,000-instance 10-resource chain (8 workers), compared by benchstat with
# the numbers before issue 14's changes (sim/testdata/bench/chain-before.txt)
# and the latest kept (CHAIN_LATEST). CPU numbers move with the host's
# load: compare with a base measured in the same session.
CHAIN_LATEST ?= sim/testdata/bench/chain-after10.txt
bench-chain:
	mkdir -p out
	$(GO) test -run='^$$' -bench='^BenchmarkChain$$' -benchtime=1x -count=6 ./sim | tee out/bench-chain.txt
	$(GO) run golang.org/x/perf/cmd/benchstat sim/testdata/bench/chain-before.txt $(CHAIN_LATEST) out/bench-chain.txt

# CI's short simulated bench: every suite of krosim bench at small sizes
# (20 instances, 3 seeds, usage at 100/200/400, 10 ms per host measurement),
# then benchstat reads its bench.txt back. About 9 s of CPU; minutes of wall
# time on a shared, loaded host, so it is not part of make test.
bench-short: build
	./$(BIN) bench --instances 20 --count 3 --usage-instances 100,200,400 --host-seconds 0.01 --out out/bench-short
	$(GO) run golang.org/x/perf/cmd/benchstat out/bench-short/bench.txt >/dev/null

# krosim on every hostile input of testdata/hostile and on bad command lines:
# no panic, no hang, nothing over 30 s or 3 GiB, a positioned error for
# every rejected file, a non-zero exit for every run that did not finish.
hostile:
	.ci/hostile.sh

# A short run of every fuzz target. Minimizing a new input is capped at a
# few executions: a Load compiles CEL, and unbounded minimizing of a large
# input took whole runs (31 executions in 120s). Findings land in each
# package's testdata/fuzz/<target>, which plain go test then runs.
FUZZ := -run='^$$' -fuzzminimizetime=10x -parallel=2
fuzz:
	$(GO) test $(FUZZ) -fuzz='^FuzzLoad$$' -fuzztime=60s ./model
	$(GO) test $(FUZZ) -fuzz='^FuzzTemplate$$' -fuzztime=30s ./model
	$(GO) test $(FUZZ) -fuzz='^FuzzInstance$$' -fuzztime=60s ./sim/workload

# By hand, about an hour: real kro on a real API server (.ci/realapi)
# against the simulation: calibrates the harness (five runs of each
# calibration RGD), then every RGD of the fidelity set at 1, 2, 4 and 8
# workers, 100 instances, one real run each; writes out/fidelity/fidelity.md
# (testdata/realapi/fidelity.md). Knobs: FIDELITY_* and KROSIM_* (see
# .ci/fidelity.sh).
fidelity:
	.ci/fidelity.sh

# The real control plane on 127.0.0.1: etcd, the API server and kro v0.9.4,
# built from the Go module proxy on first use (cached in ~/.cache/krosim).
# Then: source /tmp/krosim-realapi/env (KUBECONFIG, kro's metrics URL).
# KROSIM_KRO_FLAGS passes flags to kro (e.g. its worker count).
realapi-up:
	.ci/realapi/build.sh
	.ci/realapi/up.sh

realapi-down:
	.ci/realapi/down.sh

clean:
	rm -rf bin
