package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/krosim/krosim/sim/result"
)

// The host's load while a real run runs. A run taken while other work
// loaded the machine is 20% to 5x slower and says nothing of it in its
// timings; the run records the load so compare and calibrate can refuse it.
//
// Everything here reads /proc (Linux); elsewhere a run records no host.

// Thresholds of a quiet host, as shares of all the host's CPUs over the run.
const (
	// QuietOther is the most CPU that processes other than the measured
	// ones (kro, the API server, etcd, krosim) may use at the same or a
	// higher priority. Work at a lower one (nice > 0) yields the processors
	// to them and is recorded apart, as background.
	QuietOther = 0.10
	// QuietSteal is the most CPU the hypervisor may steal.
	QuietSteal = 0.05
)

// hostSample is one reading of the host's CPU counters, in clock ticks.
type hostSample struct {
	ok       bool
	total    uint64  // all CPUs, every state
	busy     uint64  // all but idle and iowait
	steal    uint64  // stolen by the hypervisor
	nice     uint64  // user time of processes at a lower priority (nice > 0)
	measured uint64  // the measured processes' user + system time
	load1    float64 // 1-minute load average
	pids     int     // measured processes found
}

// sampleHost reads /proc/stat, /proc/loadavg and the CPU time of the
// measured processes: krosim itself and the PIDs in pidDir (the harness's
// state dir's pids/, one file per component), when given.
func sampleHost(pidDir string) hostSample {
	var s hostSample
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		s.total += n
		switch i {
		case 3, 4: // idle, iowait
		case 7:
			s.steal += n
		case 1:
			s.nice += n
			s.busy += n
		default:
			s.busy += n
		}
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			s.load1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	s.measured, s.pids = procTicks("self"), 1
	if pidDir != "" {
		files, _ := filepath.Glob(filepath.Join(pidDir, "*.pid"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				continue
			}
			pid := strings.TrimSpace(string(b))
			if t := procTicks(pid); t > 0 {
				s.measured += t
				s.pids++
			}
		}
	}
	s.ok = true
	return s
}

// procTicks is a process's user + system CPU time in clock ticks, 0 when
// it cannot be read.
func procTicks(pid string) uint64 {
	data, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields start after it.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return utime + stime
}

// hostLoad is the load between two samples, nil when either failed.
func hostLoad(a, b hostSample, seconds float64) *result.Host {
	if !a.ok || !b.ok || b.total <= a.total {
		return nil
	}
	total := float64(b.total - a.total)
	share := func(x, y uint64) float64 {
		if y < x {
			return 0
		}
		return result.Round(float64(y-x) / total)
	}
	h := &result.Host{
		CPUs:      runtime.NumCPU(),
		Seconds:   result.Round(seconds),
		LoadStart: a.load1,
		LoadEnd:   b.load1,
		Busy:      share(a.busy, b.busy),
		Steal:     share(a.steal, b.steal),
		Measured:  share(a.measured, b.measured),
		Processes: b.pids,
	}
	h.Background = result.Round(min(share(a.nice, b.nice), max(0, h.Busy-h.Measured)))
	h.Other = result.Round(max(0, h.Busy-h.Measured-h.Background))
	h.Quiet = true
	var why []string
	if h.Other > QuietOther {
		why = append(why, fmt.Sprintf("other processes used %.0f%% of the host's %d CPUs (quiet: at most %.0f%%)", h.Other*100, h.CPUs, QuietOther*100))
	}
	if h.Steal > QuietSteal {
		why = append(why, fmt.Sprintf("the hypervisor stole %.0f%% of the CPU time (quiet: at most %.0f%%)", h.Steal*100, QuietSteal*100))
	}
	if len(why) > 0 {
		h.Quiet = false
		h.Verdict = "busy: " + strings.Join(why, "; ")
	}
	return h
}
