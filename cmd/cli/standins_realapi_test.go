//go:build realapi

package cli

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/verb"
)

// TestRealReadiness checks the simulated world's readiness model against
// real kro waiting on status that krosim's stand-in controller writes:
// 20 instances of testdata/realapi/fidelity-ready.yaml (readyWhen on a
// StandinDeployment's availableReplicas and a StandinIngress's load-balancer
// hostname, and a resource reading both), created then deleted by kro
// v0.9.4 on the harness with the stand-in controller of `run --kubeconfig
// --target ready-target.yaml`, against the simulation of the same workload
// on that target. The kind controllers' requests must be equal (a GET and a
// status PUT per StandinDeployment and StandinIngress, none failed), and
// kro's reconciles and requests by verb and resource, and the converge time,
// within 25%: how many requeue passes an instance takes while its children
// wait for their status depends on timing, which the host shares with
// other work, so they are not exact as they are without readyWhen
// (TestRealFidelity).
//
// It needs the harness running and fails, never skips, without it:
//
//	.ci/realapi/build.sh && .ci/realapi/up.sh
//	go test -tags realapi -run TestRealReadiness -timeout 30m ./cmd/cli
//
// It restarts the harness first (.ci/realapi's down.sh and up.sh, with the
// KROSIM_* settings of its environment).
func TestRealReadiness(t *testing.T) {
	// A fresh server, as TestRealFidelity measures on: on a harness that
	// already ran this RGD, kro restarts its informers of the stand-in
	// kinds, and one of them took 24 s to sync in a second run (kro's
	// reconcile blocked on it), which no model of a single run can predict.
	harness(t) // it must be running
	restartHarness(t)
	kubeconfig, metrics := harness(t)
	const (
		rgd       = "../../testdata/realapi/fidelity-ready.yaml"
		tgt       = "../../testdata/realapi/ready-target.yaml"
		n         = 20
		tolerance = 0.25
	)
	dir := evidenceDir(t)
	krosim(t, "run", "--kubeconfig", kubeconfig, "--kro-metrics", metrics, "--rgd", rgd, "--target", tgt,
		"--instances", strconv.Itoa(n), "--delete", "--quiet", "--out", filepath.Join(dir, "real"))
	krosim(t, "run", "--target", tgt, "--rgd", rgd, "--instances", strconv.Itoa(n), "--delete", "--quiet", "--out", filepath.Join(dir, "sim"))
	var stdout, stderr bytes.Buffer
	Main([]string{"compare", "--tolerance", "0.25", filepath.Join(dir, "sim"), filepath.Join(dir, "real")}, &stdout, &stderr)
	t.Logf("krosim compare (counts are only held within %.0f%% here):\n%s%s", 100*tolerance, stdout.String(), stderr.String())

	real, err := result.Read(filepath.Join(dir, "real"))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := result.Read(filepath.Join(dir, "sim"))
	if err != nil {
		t.Fatal(err)
	}
	st := real.Real.Standins
	if st == nil {
		t.Fatalf("the real run ran no stand-in controller (real.standins absent); notes: %v", real.Real.Notes)
	}
	if st.StatusWrites != 2*n || st.Errors != 0 {
		t.Errorf("stand-in controller: %d statuses written, %d failed; want %d and 0 (a StandinDeployment and a StandinIngress per instance)", st.StatusWrites, st.Errors, 2*n)
	}
	if real.Summary.InstancesReady != n || sim.Summary.InstancesReady != n {
		t.Fatalf("ready: real %d, simulated %d; want %d each", real.Summary.InstancesReady, sim.Summary.InstancesReady, n)
	}
	for _, v := range []verb.Verb{verb.Get, verb.UpdateStatus, verb.Create, verb.Delete} {
		if r, s := real.Summary.WorldAPICalls[v], sim.Summary.WorldAPICalls[v]; r != s {
			t.Errorf("world's %s calls: real %d, simulated %d; want equal", v, r, s)
		}
	}
	within := func(what string, simulated, measured float64) {
		if measured == 0 && simulated == 0 {
			return
		}
		if e := simulated/measured - 1; measured == 0 || math.Abs(e) > tolerance {
			t.Errorf("%s: simulated %g, real %g (%+.1f%%, tolerance %.0f%%)", what, simulated, measured, 100*e, 100*tolerance)
		}
	}
	within("reconciles", float64(sim.Summary.Reconciles), float64(real.Summary.Reconciles))
	for _, v := range verb.All {
		within("api calls "+string(v), float64(sim.Summary.APICalls[v]), float64(real.Summary.APICalls[v]))
	}
	var resources []string
	for r := range real.Summary.APICallsByResource {
		resources = append(resources, r)
	}
	for r := range sim.Summary.APICallsByResource {
		if !slices.Contains(resources, r) {
			resources = append(resources, r)
		}
	}
	slices.Sort(resources)
	for _, r := range resources {
		for _, v := range verb.All {
			within(r+" "+string(v), float64(sim.Summary.APICallsByResource[r][v]), float64(real.Summary.APICallsByResource[r][v]))
		}
	}
	if real.Summary.ConvergeSeconds == nil || sim.Summary.ConvergeSeconds == nil {
		t.Fatalf("converge: real %v, simulated %v", real.Summary.ConvergeSeconds, sim.Summary.ConvergeSeconds)
	}
	within("converge seconds", *sim.Summary.ConvergeSeconds, *real.Summary.ConvergeSeconds)
}
