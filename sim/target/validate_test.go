package target

import (
	"fmt"
	"strings"
	"testing"
)

// TestParseBadNumbers wants every number a target file gets wrong reported
// at its line and column, naming the field: NaN and Inf used to pass the
// range checks, and negative costs, retries, timeouts and memory, and worker
// counts that exhaust memory, were not checked at all.
func TestParseBadNumbers(t *testing.T) {
	base, err := builtin.ReadFile("builtin/kro-defaults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(base) + "faults:\n  get: {err500: 0.01}\n"
	tests := []struct {
		name, old, new string
		at             string // where the problem is: the first occurrence of at in the new source
		want           string
	}{
		{"NaN client.qps", "  qps: 0\n", "  qps: .nan\n", ".nan", "client.qps must be a finite number, at least 0, got NaN"},
		{"Inf client.qps", "  qps: 0\n", "  qps: .inf\n", ".inf", "client.qps must be a finite number, at least 0, got +Inf"},
		{"NaN queue_qps", "queue_qps: 10", "queue_qps: .NaN", ".NaN", "controller.queue_qps must be a finite number, at least 0, got NaN"},
		{"Inf queue_qps", "queue_qps: 10", "queue_qps: .inf", ".inf", "controller.queue_qps must be a finite number, at least 0, got +Inf"},
		{"NaN fault", "err500: 0.01", "err500: .nan", ".nan", "faults.get.err500 must be a number in [0, 1], got NaN"},
		{"negative fault", "err500: 0.01", "err500: -0.5", "-0.5", "faults.get.err500 must be a number in [0, 1], got -0.5"},
		{"NaN cost", "eval_unit_ns: 90", "eval_unit_ns: .nan", ".nan", "cost.eval_unit_ns must be a number in [0, 1e+09], got NaN"},
		{"negative cost", "request_ns: 20000", "request_ns: -20000", "-20000", "cost.request_ns must be a number in [0, 1e+09], got -20000"},
		{"infinite cost", "node_ns: 200", "node_ns: .inf", ".inf", "cost.node_ns must be a number in [0, 1e+09], got +Inf"},
		{"negative memory", "base_bytes: 67108864", "base_bytes: -67108864", "-67108864", "memory.base_bytes must be in [0, 1099511627776], got -67108864"},
		{"negative controller retries", "max_retries: 20", "max_retries: -1", "-1", "controller.max_retries must be at least 0, got -1"},
		{"negative client retries", "max_retries: 10", "max_retries: -3", "-3", "client.max_retries must be at least 0, got -3"},
		{"negative timeout", "timeout: 60s", "timeout: -60s", "-60s", "server.timeout must be in [0, 876000h0m0s], got -1m0s"},
		{"negative retry delay", "retry_min_delay: 200ms", "retry_min_delay: -200ms", "-200ms", "controller.retry_min_delay must be in [0, 876000h0m0s], got -200ms"},
		{"huge latency", "get: {p50: 1.43ms, p95: 2.41ms, p99: 6.33ms}", "get: {p50: 1.43ms, p95: 2.41ms, p99: 6000h}", "6000h", "latency.get.p99 must be in [0, 1h0m0s], got 6000h0m0s"},
		{"negative per_object", "per_object: 115us", "per_object: -115us", "-115us", "latency.list.per_object must be in [0, 1h0m0s], got -115µs"},
		{"too many workers", "workers: 1\n", "workers: 100000000\n", "100000000", "controller.workers must be in [1, 10000], got 100000000"},
		{"zero vcpus", "vcpus: 8", "vcpus: 0", "0", "vcpus must be in [1, 10000], got 0"},
		{"NaN object_slowdown", "  timeout: 60s\n", "  timeout: 60s\n  object_slowdown: .nan\n", ".nan", "server.object_slowdown must be a number in [0, 1], got NaN"},
		{"negative progress_delay", "  timeout: 60s\n", "  timeout: 60s\n  progress_delay: -5ms\n", "-5ms", "server.progress_delay must be in [0, 876000h0m0s], got -5ms"},
		{"negative wakeup_cpu", "  timeout: 60s\n", "  timeout: 60s\n  cpus: 2\n  wakeup_cpu: -2ms\n", "-2ms", "server.wakeup_cpu must be in [0, 1s], got -2ms"},
		{"wakeup_cpu without cpus", "server:\n", "server:\n  wakeup_cpu: 2ms\n", "server:", "server.shared_cpus, server.active_cpu, server.wakeup_cpu and server.event_cpu need server.cpus: the processors kro shares with the server"},
		{"negative event_ns", "request_ns: 20000\n", "request_ns: 20000\n  event_ns: -300\n", "-300", "cost.event_ns must be a number in [0, 1e+09], got -300"},
		{"negative instance_bytes", "  timeout: 60s\n", "  timeout: 60s\n  instance_bytes: -1\n", "-1", "server.instance_bytes must be in [0, 1572864], got -1"},
		{"object_bytes beyond etcd's limit", "  timeout: 60s\n", "  timeout: 60s\n  object_bytes: 2000000\n", "2000000", "server.object_bytes must be in [0, 1572864], got 2000000"},
		{"event_cpu without cpus", "server:\n", "server:\n  event_cpu: 200us\n", "server:", "server.shared_cpus, server.active_cpu, server.wakeup_cpu and server.event_cpu need server.cpus: the processors kro shares with the server"},
		{"missing field at its parent", "  workers: 1\n", "", "controller:", "controller.workers must be in [1, 10000], got 0"},
		{"zero speed.probe_us", "vcpus: 8\n", "vcpus: 8\nspeed: {probe_us: 0, elasticity: 0.7}\n", "0,", "speed.probe_us must be a positive number of microseconds, got 0"},
		{"NaN speed.probe_us", "vcpus: 8\n", "vcpus: 8\nspeed: {probe_us: .nan, elasticity: 0.7}\n", ".nan", "speed.probe_us must be a positive number of microseconds, got NaN"},
		{"huge speed.elasticity", "vcpus: 8\n", "vcpus: 8\nspeed: {probe_us: 2000, elasticity: 5}\n", "5}", "speed.elasticity must be a number in [0, 2], got 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(src, tt.old) {
				t.Fatalf("%q is not in the target", tt.old)
			}
			bad := strings.Replace(src, tt.old, tt.new, 1)
			i := strings.Index(bad, tt.new) + strings.Index(tt.new, tt.at)
			if tt.new == "" {
				i = strings.Index(bad, tt.at)
			}
			line := strings.Count(bad[:i], "\n") + 1
			col := i - strings.LastIndexByte(bad[:i], '\n')
			want := fmt.Sprintf("t.yaml:%d:%d: %s", line, col, tt.want)
			_, err := Parse("t.yaml", []byte(bad))
			if err == nil || err.Error() != want {
				t.Errorf("Parse() = %v\nwant %s", err, want)
			}
		})
	}
	if _, err := Parse("t.yaml", []byte(src)); err != nil {
		t.Errorf("the target with a fault: %v", err)
	}
}

// TestParseDecodeErrorPositions wants yaml.v3's errors as file:line:col.
func TestParseDecodeErrorPositions(t *testing.T) {
	_, err := Parse("t.yaml", []byte("name: x\nvcpus: many\n"))
	if want := "t.yaml:2:1: cannot unmarshal !!str `many` into int"; err == nil || err.Error() != want {
		t.Errorf("Parse() = %v, want %s", err, want)
	}
	_, err = Parse("t.yaml", []byte("name: x\ncontroller:\n  requeue_interval: 9999999999h\n"))
	if want := `t.yaml:3:1: bad duration "9999999999h": want a number with a unit, like 3s or 1.5ms`; err == nil || err.Error() != want {
		t.Errorf("Parse() = %v, want %s", err, want)
	}
	_, err = Parse("t.yaml", []byte("name: x\nnope: 1\n"))
	if want := "t.yaml:2:1: field nope not found in type target.Target"; err == nil || err.Error() != want {
		t.Errorf("Parse() = %v, want %s", err, want)
	}
}

// TestSampleInRange wants samples of the widest latency a target may give
// (a 1ns p95 and a 1h p99) to stay positive: the tail extrapolation used to
// overflow time.Duration and come out negative.
func TestSampleInRange(t *testing.T) {
	l := Latency{P50: 1, P95: 1, P99: Duration(MaxLatency), PerObject: Duration(MaxLatency)}
	for _, z := range []float64{-10, 0, 2, 3, 5, 100} {
		if d := l.Sample(z, 1000); d < 0 {
			t.Errorf("Sample(%g, 1000) = %d, negative", z, d)
		}
	}
}
