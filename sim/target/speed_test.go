package target

import (
	"strings"
	"testing"
	"time"
)

func TestAtSpeedMovesEveryCost(t *testing.T) {
	base, err := Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	tg := base.Clone()
	tg.Server.CPUs, tg.Server.WakeupCPU, tg.Server.EventCPU = 2, Duration(2*time.Millisecond), Duration(50*time.Microsecond)
	tg.Cost.EventNS = 120e3
	tg.Speed = &Speed{ProbeUS: 2000, Elasticity: 0.5}
	was := tg.Clone()
	if err := tg.AtSpeed(8000); err != nil { // (8000/2000)^0.5: twice as slow
		t.Fatal(err)
	}
	if tg.Cost.RequestNS != 2*was.Cost.RequestNS || tg.Cost.ReconcileNS != 2*was.Cost.ReconcileNS || tg.Cost.EvalUnitNS != 2*was.Cost.EvalUnitNS ||
		tg.Cost.EventNS != 2*was.Cost.EventNS {
		t.Errorf("cost %+v, want twice %+v", tg.Cost, was.Cost)
	}
	if tg.Server.WakeupCPU != 2*was.Server.WakeupCPU || tg.Server.EventCPU != 2*was.Server.EventCPU {
		t.Errorf("wakeup_cpu %s, event_cpu %s, want %s and %s", tg.Server.WakeupCPU, tg.Server.EventCPU, 2*was.Server.WakeupCPU, 2*was.Server.EventCPU)
	}
	for v, l := range tg.Latency {
		w := was.Latency[v]
		if l.P50 != 2*w.P50 || l.P99 != 2*w.P99 || l.CPU != 2*w.CPU || l.PerObject != 2*w.PerObject {
			t.Errorf("latency.%s %+v, want twice %+v", v, l, w)
		}
	}
	if tg.Speed.ProbeUS != 8000 || tg.Speed.Elasticity != 0.5 || was.Speed.ProbeUS != 2000 {
		t.Errorf("speed %+v (the clone's %+v), want probe_us 8000 and the clone's untouched", *tg.Speed, *was.Speed)
	}
	if err := tg.Validate(); err != nil {
		t.Errorf("moved target invalid: %v", err)
	}
	if err := tg.AtSpeed(2000); err != nil || tg.Cost.RequestNS != was.Cost.RequestNS {
		t.Errorf("moved back: %v, request_ns %g, want %g", err, tg.Cost.RequestNS, was.Cost.RequestNS)
	}
}

func TestAtSpeedRefuses(t *testing.T) {
	tg, err := Lookup("kro-defaults")
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Clone().AtSpeed(2000); err == nil || !strings.Contains(err.Error(), "has no speed") {
		t.Errorf("a target without speed moved: %v", err)
	}
	tg = tg.Clone()
	tg.Speed = &Speed{ProbeUS: 2000, Elasticity: 0.7}
	for _, bad := range []float64{0, -5} {
		if err := tg.AtSpeed(bad); err == nil || !strings.Contains(err.Error(), "positive") {
			t.Errorf("AtSpeed(%g): %v, want a refusal", bad, err)
		}
	}
}
