package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

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
	// ones (kro, the API server, etcd, krosim) may use, at any priority:
	// work at the lowest (nice 19, recorded apart as background) still
	// made a 200-instance run of kro with 4 workers on 2 CPUs twice as slow
	// (40.5 s against 17.5-22.7 s quiet; measured on the harness).
	QuietOther = 0.10
	// QuietSteal is the most CPU the hypervisor may steal.
	QuietSteal = 0.05
)

// hostSample is one reading of the host's CPU counters, in clock ticks.
type hostSample struct {
	ok       bool
	total    uint64           // all CPUs, every state
	busy     uint64           // all but idle and iowait
	steal    uint64           // stolen by the hypervisor
	procs    map[procKey]proc // every process, for the background's share
	measured uint64           // the measured processes' user + system time
	load1    float64          // 1-minute load average
	pids     int              // measured processes found
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
		default:
			s.busy += n
		}
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			s.load1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	for _, t := range measuredTicks(pidDir) {
		s.measured += t
		s.pids++
	}
	s.procs = readProcs()
	s.ok = true
	return s
}

// procKey names a process across samples (a PID is reused).
type procKey struct {
	pid   int
	start uint64 // clock ticks after boot
}

// proc is one process's priority and CPU time, its reaped children's
// included, in clock ticks.
type proc struct {
	ppid  int
	nice  int
	ticks uint64
}

// readProcs reads every process's CPU time and priority.
func readProcs() map[procKey]proc {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	out := make(map[procKey]proc, len(dirs))
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue // gone
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 20 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		ppid, _ := strconv.Atoi(f[1])
		nice, _ := strconv.Atoi(f[16])
		start, _ := strconv.ParseUint(f[19], 10, 64)
		var ticks uint64
		for _, x := range f[11:15] { // utime, stime, cutime, cstime
			n, _ := strconv.ParseUint(x, 10, 64)
			ticks += n
		}
		out[procKey{pid, start}] = proc{ppid: ppid, nice: nice, ticks: ticks}
	}
	return out
}

// background is the CPU time processes at a lower priority (nice > 0)
// used between two samples, in clock ticks. A process that ended in between
// was reaped into its parent's time, whole: what it had used before the
// first sample comes off its parent's share.
func background(a, b map[procKey]proc) uint64 {
	alive := map[int]procKey{}
	for k := range b {
		alive[k.pid] = k
	}
	var sum, before int64
	for k, p := range b {
		if p.nice > 0 {
			sum += int64(p.ticks) - int64(a[k].ticks)
		}
	}
	for k, p := range a {
		if _, ok := b[k]; ok {
			continue
		}
		if pk, ok := alive[p.ppid]; ok && b[pk].nice > 0 {
			before += int64(p.ticks)
		}
	}
	return uint64(max(0, sum-before))
}

// procTicks is a process's user + system CPU time in clock ticks, and
// whether its /proc entry could be read (a live process may have used none).
func procTicks(pid string) (uint64, bool) {
	data, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: fields start after it.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return utime + stime, true
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
	h.Background = result.Round(min(float64(background(a.procs, b.procs))/total, max(0, h.Busy-h.Measured)))
	h.Other = result.Round(max(0, h.Busy-h.Measured-h.Background))
	h.Quiet = true
	var why []string
	if load := h.Other + h.Background; load > QuietOther {
		why = append(why, fmt.Sprintf("other processes used %.0f%% of the host's %d CPUs, %.0f%% of it at a lower priority (quiet: at most %.0f%%)",
			load*100, h.CPUs, h.Background*100, QuietOther*100))
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

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// ProcessCPU is the CPU time so far of krosim ("krosim") and of each process
// with a PID file in pidDir (by file name: "etcd", "apiserver", "kro"), for
// measuring the work of requests. Processes that cannot be read are left
// out; nothing is returned where /proc does not exist.
func ProcessCPU(pidDir string) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, t := range measuredTicks(pidDir) {
		out[name] = time.Duration(t) * clockTick
	}
	return out
}

// measuredTicks is the CPU time of the measured processes in clock ticks,
// by name: krosim itself ("krosim") and each live process with a PID file in
// pidDir (named by the file).
func measuredTicks(pidDir string) map[string]uint64 {
	out := map[string]uint64{}
	if t, ok := procTicks("self"); ok { // a process may not have used a tick yet
		out["krosim"] = t
	}
	if pidDir == "" {
		return out
	}
	files, _ := filepath.Glob(filepath.Join(pidDir, "*.pid"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		if t, ok := procTicks(strings.TrimSpace(string(b))); ok {
			out[strings.TrimSuffix(filepath.Base(file), ".pid")] = t
		}
	}
	return out
}
