package target

import (
	"fmt"
	"math"
	"time"
)

// Speed is how fast the host was when a target's CPU costs were measured,
// by the probe real runs take of their host (results.json
// real.host.probe): on a virtual machine other tenants crowd the processors'
// shared cache, and the CPU time the API server, etcd and kro spend per
// request follows the probe from one run to the next. krosim calibrate
// --cpu-from sets it from calibration runs that carry the probe, and
// AtSpeed moves the costs to another probe reading.
type Speed struct {
	// ProbeUS is the probe's median, in microseconds, at which the
	// target's CPU costs and latencies hold.
	ProbeUS float64 `json:"probe_us" yaml:"probe_us"`
	// Elasticity is how the costs grow with the probe: as ProbeUS to this
	// power (0.73 between runs of the harness's fidelity rows).
	Elasticity float64 `json:"elasticity" yaml:"elasticity"`
	// Idle says the probe was read in the phases' quiet ends, when the
	// harness's own work stood still (real.phases[].idle_probe_us), rather
	// than over whole phases (probe_us), whose reading follows the run's
	// own load too. A reading to move the target to must be of the same
	// kind.
	Idle bool `json:"idle,omitempty" yaml:"idle,omitempty"`
}

// MaxElasticity bounds Speed.Elasticity: costs that grew faster than the
// probe's own time would not be the probe's doing.
const MaxElasticity = 2

// AtSpeed moves t to a host whose probe reads probeUS: every CPU cost
// (cost.*, server.wakeup_cpu and active_cpu, latency.VERB.cpu) and every
// latency grows by (probeUS / speed.probe_us) ^ speed.elasticity. A
// target without speed cannot be moved.
func (t *Target) AtSpeed(probeUS float64) error {
	if t.Speed == nil {
		return fmt.Errorf("target %s has no speed (speed.probe_us): calibrate it from runs that probed their host", t.Name)
	}
	if !(probeUS > 0) || math.IsInf(probeUS, 0) {
		return fmt.Errorf("host probe must be a positive number of microseconds, got %g", probeUS)
	}
	f := math.Pow(probeUS/t.Speed.ProbeUS, t.Speed.Elasticity)
	d := func(x Duration) Duration { return Duration(time.Duration(float64(x) * f)) }
	c := &t.Cost
	for _, ns := range []*float64{&c.EvalBaseNS, &c.EvalUnitNS, &c.CompileByteNS, &c.CompileBaseNS, &c.NodeNS, &c.EdgeNS, &c.EncodeByteNS, &c.RequestNS, &c.ReconcileNS, &c.EventNS} {
		*ns *= f
	}
	t.Server.WakeupCPU = d(t.Server.WakeupCPU)
	t.Server.EventCPU = d(t.Server.EventCPU)
	t.Server.ActiveCPU *= f
	for v, l := range t.Latency {
		l.P50, l.P95, l.P99, l.PerObject, l.CPU, l.CPUPerKiB = d(l.P50), d(l.P95), d(l.P99), d(l.PerObject), d(l.CPU), d(l.CPUPerKiB)
		t.Latency[v] = l
	}
	t.Speed = &Speed{ProbeUS: probeUS, Elasticity: t.Speed.Elasticity, Idle: t.Speed.Idle}
	return nil
}

func (c *checker) speed(s *Speed) {
	if s == nil {
		return
	}
	if !(s.ProbeUS > 0) || math.IsInf(s.ProbeUS, 0) {
		c.bad("speed.probe_us", "speed.probe_us must be a positive number of microseconds, got %g", s.ProbeUS)
	}
	c.number("speed.elasticity", s.Elasticity, 0, MaxElasticity)
}
