package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	pprofile "github.com/google/pprof/profile"
	"github.com/krosim/krosim/profile"
	"github.com/krosim/krosim/profile/flame"
)

// hostMeter measures krosim itself on this machine while it profiles a run: real
// time, CPU, memory, and a CPU profile labeled by phase. None of it is
// deterministic, so all of it goes to host.* files.
type hostMeter struct {
	start   time.Time
	ru0     rusage
	cpu     bytes.Buffer
	running bool
	cpuErr  error // why there is no CPU profile
	stages  []stageTime
}

type stageTime struct {
	Phase   string  `json:"phase"`
	Seconds float64 `json:"elapsed_seconds"`
}

// startHost starts the clock and the CPU profile. Only one CPU profile can
// run in a process at a time: if another is running (go test -cpuprofile),
// the run goes on without one and host.json says why.
func startHost() *hostMeter {
	h := &hostMeter{start: time.Now(), ru0: getRusage()}
	if err := pprof.StartCPUProfile(&h.cpu); err != nil {
		h.cpuErr = err
		return h
	}
	h.running = true
	return h
}

// abandon stops the CPU profile if finish did not.
func (h *hostMeter) abandon() {
	if h.running {
		pprof.StopCPUProfile()
		h.running = false
	}
}

// stage runs f labeled phase=name, timing it.
func (h *hostMeter) stage(name string, f func(ctx context.Context)) {
	start := time.Now()
	pprof.Do(context.Background(), pprof.Labels("phase", name), f)
	h.stages = append(h.stages, stageTime{name, hostSeconds(time.Since(start))})
}

// hostReport is host.json.
type hostReport struct {
	Note             string      `json:"note"`
	ElapsedSeconds   float64     `json:"elapsed_seconds"`
	CPUSeconds       float64     `json:"cpu_seconds"`
	UserCPUSeconds   float64     `json:"user_cpu_seconds"`
	SystemCPUSeconds float64     `json:"system_cpu_seconds"`
	MaxRSSBytes      int64       `json:"max_rss_bytes"`
	GOMAXPROCS       int         `json:"gomaxprocs"`
	NumCPU           int         `json:"num_cpu"`
	GoVersion        string      `json:"go_version"`
	GOOS             string      `json:"goos"`
	GOARCH           string      `json:"goarch"`
	HeapInuseBytes   uint64      `json:"heap_inuse_bytes"`
	TotalAllocBytes  uint64      `json:"total_alloc_bytes"`
	NumGC            uint32      `json:"num_gc"`
	Stages           []stageTime `json:"stages"`
	CPUProfile       struct {
		Error   string       `json:"error,omitempty"`
		Samples int          `json:"samples"`
		Seconds float64      `json:"seconds"`
		ByPhase []phaseShare `json:"by_phase"`
	} `json:"cpu_profile"`
}

type phaseShare struct {
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
	Percent float64 `json:"percent"`
}

// hostResult is what finish measured, and the host.* files.
type hostResult struct {
	report hostReport
	files  outputs
}

// finish stops the CPU profile, takes a heap profile, and reads the
// process's resource usage.
func (h *hostMeter) finish() (*hostResult, error) {
	h.abandon()
	elapsed := time.Since(h.start)
	ru := getRusage()
	// No runtime.GC first: it would cost as much as the rest of profiling,
	// and a heap profile is as of the last collection anyway.
	var heap bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&heap, 0); err != nil {
		return nil, fmt.Errorf("host heap profile: %w", err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r := hostReport{
		Note:             "krosim itself on this host, not the modeled target; not deterministic",
		ElapsedSeconds:   hostSeconds(elapsed),
		UserCPUSeconds:   hostSeconds(ru.user - h.ru0.user),
		SystemCPUSeconds: hostSeconds(ru.sys - h.ru0.sys),
		MaxRSSBytes:      ru.maxRSS,
		GOMAXPROCS:       runtime.GOMAXPROCS(0),
		NumCPU:           runtime.NumCPU(),
		GoVersion:        runtime.Version(),
		GOOS:             runtime.GOOS,
		GOARCH:           runtime.GOARCH,
		HeapInuseBytes:   ms.HeapInuse,
		TotalAllocBytes:  ms.TotalAlloc,
		NumGC:            ms.NumGC,
		Stages:           h.stages,
	}
	r.CPUSeconds = hostSeconds(ru.user + ru.sys - h.ru0.user - h.ru0.sys)
	files := outputs{"host.heap.pb.gz": heap.Bytes()}
	if h.cpuErr != nil {
		r.CPUProfile.Error = h.cpuErr.Error()
	} else if cpu, err := pprofile.ParseData(h.cpu.Bytes()); err != nil {
		return nil, fmt.Errorf("host CPU profile: %w", err)
	} else {
		files["host.cpu.pb.gz"] = bytes.Clone(h.cpu.Bytes())
		if idx, err := flame.SampleIndex(cpu, "cpu"); err == nil {
			for _, s := range cpu.Sample {
				r.CPUProfile.Samples += int(s.Value[0])
			}
			for _, sh := range profile.ByLabel(cpu, "phase", idx) {
				r.CPUProfile.Seconds += float64(sh.Total) / 1e9
				r.CPUProfile.ByPhase = append(r.CPUProfile.ByPhase, phaseShare{sh.Value, float64(sh.Total) / 1e9, 100 * sh.Fraction})
			}
		}
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	files["host.json"] = append(js, '\n')
	return &hostResult{report: r, files: files}, nil
}

func hostSeconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1e6 }

// text is the host section of krosim profile's report.
func (h *hostResult) text() string {
	r := h.report
	var b strings.Builder
	b.WriteString("Host: krosim itself on this machine (this host, not the target; not deterministic)\n")
	fmt.Fprintf(&b, "  elapsed %.3fs, CPU %.3fs (user %.3fs, system %.3fs), max RSS %.1f MiB, GOMAXPROCS %d, %s\n",
		r.ElapsedSeconds, r.CPUSeconds, r.UserCPUSeconds, r.SystemCPUSeconds, float64(r.MaxRSSBytes)/(1<<20), r.GOMAXPROCS, r.GoVersion)
	var st []string
	for _, s := range r.Stages {
		st = append(st, fmt.Sprintf("%s %.3fs", s.Phase, s.Seconds))
	}
	fmt.Fprintf(&b, "  elapsed by stage: %s\n", strings.Join(st, ", "))
	if r.CPUProfile.Error != "" {
		fmt.Fprintf(&b, "  no CPU profile: %s\n", r.CPUProfile.Error)
		return b.String()
	}
	fmt.Fprintf(&b, "  CPU profile by phase label (%d samples, %.2fs):\n", r.CPUProfile.Samples, r.CPUProfile.Seconds)
	for _, p := range r.CPUProfile.ByPhase {
		name := p.Phase
		if name == "(none)" {
			name += " GC, runtime"
		}
		fmt.Fprintf(&b, "    %-18s %8.3fs %6.1f%%\n", name, p.Seconds, p.Percent)
	}
	return b.String()
}
