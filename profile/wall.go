package profile

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"github.com/krosim/krosim/sim"
	"github.com/krosim/krosim/sim/result"
	"github.com/krosim/krosim/sim/span"
)

// Sample types of the virtual-time profile. SampleWall, the default, is the
// time of kro's controller threads. SampleQueueWait is instance time, not
// thread time, so it is a type of its own: the two do not add up.
const (
	SampleWall      = "wall"
	SampleQueueWait = "queue_wait"
)

// Sample labels of the virtual-time profile.
const (
	LabelPhase    = "phase"
	LabelRGD      = "rgd"
	LabelResource = "resource"
	LabelVerb     = "verb"
	LabelPass     = "pass"
	LabelThread   = "thread"
)

// Frame kinds, written as each function's file name so that pprof keeps a
// resource and a verb of the same name apart.
const (
	kindThread   = "thread"
	kindRGD      = "rgd"
	kindPass     = "pass"
	kindResource = "resource"
	kindPhase    = "phase"
	kindDetail   = "detail"
)

// Frame is one frame of a virtual-time stack.
type Frame struct {
	Name string
	Kind string // thread, rgd, pass, resource, phase or detail
}

// Frames names the frames of s, root first: thread; rgd; reconcile pass;
// resource; phase; detail. An RGD controller's stacks have no pass or
// resource; a worker's instance-level work is under "(instance)".
func Frames(s span.Stack) []Frame {
	fs := []Frame{{s.Thread, kindThread}}
	rgd := s.RGD
	if rgd == "" {
		rgd = "(unknown rgd)"
	}
	fs = append(fs, Frame{rgd, kindRGD})
	if s.Pass != "" {
		fs = append(fs, Frame{passName(s.Pass), kindPass})
		res := s.Resource
		if res == "" {
			res = "(instance)"
		}
		fs = append(fs, Frame{res, kindResource})
	} else if s.Resource != "" {
		fs = append(fs, Frame{s.Resource, kindResource})
	}
	fs = append(fs, Frame{s.Phase.String(), kindPhase})
	if d := s.Detail.String(); d != "" {
		fs = append(fs, Frame{d, kindDetail})
	}
	return fs
}

func passName(p string) string {
	if p == "delete" {
		return "delete reconcile"
	}
	return "reconcile #" + p
}

func labels(s span.Stack) map[string][]string {
	l := map[string][]string{LabelPhase: {s.Phase.String()}, LabelThread: {s.Thread}}
	if s.RGD != "" {
		l[LabelRGD] = []string{s.RGD}
	}
	if s.Resource != "" {
		l[LabelResource] = []string{s.Resource}
	}
	if s.Pass != "" {
		l[LabelPass] = []string{s.Pass}
	}
	if v := s.Detail.Verb; v != "" {
		l[LabelVerb] = []string{string(v)}
	}
	return l
}

type stackSample struct {
	frames []Frame
	labels map[string][]string
	values []int64
	key    string
}

// Wall builds the virtual-time profile of res: one sample per stack of
// controller-thread time (idle time is not sampled), plus the instances'
// total workqueue wait under its own sample type. IDs are assigned in sorted
// order and samples are sorted, so the same run gives the same bytes.
func Wall(res *sim.Result) *profile.Profile {
	var samples []stackSample
	for _, s := range res.Samples {
		if s.D <= 0 {
			continue
		}
		samples = append(samples, stackSample{frames: Frames(s.Stack), labels: labels(s.Stack), values: []int64{int64(s.D), 0}})
	}
	if res.QueueWait > 0 {
		samples = append(samples, stackSample{
			frames: []Frame{{"workqueue", kindThread}, {SampleQueueWait, kindPhase}},
			labels: map[string][]string{LabelPhase: {SampleQueueWait}, LabelThread: {"workqueue"}},
			values: []int64{0, int64(res.QueueWait)},
		})
	}
	for i := range samples {
		samples[i].key = sampleKey(samples[i])
	}
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].key < samples[j].key })

	// Functions and locations: one of each per distinct frame, IDs in sorted order.
	seen := map[Frame]bool{}
	var frames []Frame
	for _, s := range samples {
		for _, f := range s.frames {
			if !seen[f] {
				seen[f] = true
				frames = append(frames, f)
			}
		}
	}
	sort.Slice(frames, func(i, j int) bool {
		if frames[i].Name != frames[j].Name {
			return frames[i].Name < frames[j].Name
		}
		return frames[i].Kind < frames[j].Kind
	})
	p := &profile.Profile{
		SampleType:        []*profile.ValueType{{Type: SampleWall, Unit: "nanoseconds"}, {Type: SampleQueueWait, Unit: "nanoseconds"}},
		DefaultSampleType: SampleWall,
		PeriodType:        &profile.ValueType{Type: SampleWall, Unit: "nanoseconds"},
		Period:            1,
		DurationNanos:     int64(res.Duration),
		Comments:          comments(res),
	}
	// A mapping that says the functions are already known, so pprof names
	// the "binary" and never tries to symbolize.
	m := &profile.Mapping{ID: 1, File: "krosim-virtual-time", HasFunctions: true}
	p.Mapping = []*profile.Mapping{m}
	locs := map[Frame]*profile.Location{}
	for i, f := range frames {
		id := uint64(i + 1)
		fn := &profile.Function{ID: id, Name: f.Name, SystemName: f.Name, Filename: f.Kind}
		loc := &profile.Location{ID: id, Mapping: m, Line: []profile.Line{{Function: fn}}}
		p.Function = append(p.Function, fn)
		p.Location = append(p.Location, loc)
		locs[f] = loc
	}
	for _, s := range samples {
		ps := &profile.Sample{Value: s.values, Label: s.labels}
		for i := len(s.frames) - 1; i >= 0; i-- { // pprof stacks are leaf first
			ps.Location = append(ps.Location, locs[s.frames[i]])
		}
		p.Sample = append(p.Sample, ps)
	}
	return p
}

// sampleKey orders samples by their frames, then their labels.
func sampleKey(s stackSample) string {
	var b strings.Builder
	for _, f := range s.frames {
		b.WriteString(f.Name)
		b.WriteByte(0)
		b.WriteString(f.Kind)
		b.WriteByte(1)
	}
	b.WriteByte(2)
	keys := make([]string, 0, len(s.labels))
	for k := range s.labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + "=" + strings.Join(s.labels[k], ",") + "\x00")
	}
	return b.String()
}

func comments(res *sim.Result) []string {
	t := res.Config.Target
	var rgds []string
	for _, g := range res.RGDs {
		rgds = append(rgds, g.Name)
	}
	workers := len(res.Threads)
	idle := time.Duration(0)
	for _, th := range res.Threads {
		idle += th.By[span.Idle]
	}
	return []string{
		"krosim virtual-time profile of kro's controller threads on the modeled target (not this host)",
		fmt.Sprintf("%d instances of %s on %s: %s, %d vCPUs, seed %d",
			res.Summary.InstancesTotal, strings.Join(rgds, ", "), t.Name, result.Workers(workers), t.VCPUs, res.Config.Seed),
		fmt.Sprintf("virtual duration %s; worker idle time %s is not sampled", seconds(res.Duration), seconds(idle)),
		"sample type queue_wait: time instances waited in the workqueue (instance time, not thread time)",
	}
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// Encode writes p as gzip-compressed protobuf with a fixed gzip header (no
// name, no modification time), so equal profiles are equal bytes.
func Encode(p *profile.Profile) ([]byte, error) {
	var raw bytes.Buffer
	if err := p.WriteUncompressed(&raw); err != nil {
		return nil, fmt.Errorf("profile: encode: %w", err)
	}
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Header = gzip.Header{OS: 255} // unknown OS, zero ModTime, no name
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
