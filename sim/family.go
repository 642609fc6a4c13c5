package sim

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// family is one metric family as a time series: what each of its series
// observed, and when, in virtual time.
type family struct {
	name, help string
	typ        dto.MetricType
	buckets    []float64
	labels     []string
	series     map[string]*series
	last       *series // the series added to last: logs add runs of one label set
}

// series is one label set's observations, or for a gauge its settings.
type series struct {
	values []string
	points []point
	// gauge, when set, makes for each rendering a gauge computed at its
	// scrapes, a function of increasing times.
	gauge func() func(time.Duration) float64
}

type point struct {
	at time.Duration
	v  float64
}

func newFamily(name, help string, typ dto.MetricType, buckets []float64, labels ...string) *family {
	return &family{name: name, help: help, typ: typ, buckets: buckets, labels: labels, series: map[string]*series{}}
}

func (f *family) get(values []string) *series {
	if len(values) != len(f.labels) {
		panic("sim: " + f.name + ": label values do not match label names")
	}
	if f.last != nil && slices.Equal(f.last.values, values) {
		return f.last
	}
	key := strings.Join(values, "\xff")
	s := f.series[key]
	if s == nil {
		s = &series{values: values}
		f.series[key] = s
	}
	f.last = s
	return s
}

// add counts v at virtual time at: an increment of a counter, an
// observation of a histogram.
func (f *family) add(at time.Duration, v float64, values ...string) {
	s := f.get(values)
	s.points = append(s.points, point{at, v})
}

// set sets a gauge to v at virtual time at.
func (f *family) set(at time.Duration, v float64, values ...string) { f.add(at, v, values...) }

// gaugeFunc makes a gauge whose value at a scrape is a function of its time;
// each rendering calls gauge for a new one, and that at increasing times.
func (f *family) gaugeFunc(gauge func() func(time.Duration) float64, values ...string) {
	f.get(values).gauge = gauge
}

// render is the family scraped at each of times (increasing): one metric a
// series a scrape, series sorted by label values, each series' scrapes
// together and stamped from Epoch when stamp is set, as OpenMetrics wants.
// Series nothing was recorded in are left out, as client_golang leaves out
// label sets never used.
func (f *family) render(times []time.Duration, stamp bool) *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: proto.String(f.name), Help: proto.String(f.help), Type: f.typ.Enum()}
	keys := make([]string, 0, len(f.series))
	for k := range f.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := f.series[k]
		if len(s.points) == 0 && s.gauge == nil {
			continue
		}
		points := s.points
		if !slices.IsSortedFunc(points, byTime) {
			points = slices.Clone(points)
			slices.SortStableFunc(points, byTime)
		}
		var gauge func(time.Duration) float64
		if s.gauge != nil {
			gauge = s.gauge()
		}
		st := newState(f.buckets)
		next := 0
		for _, t := range times {
			for ; next < len(points) && points[next].at <= t; next++ {
				st.apply(f.typ, points[next].v)
			}
			if gauge != nil {
				st.gauge = gauge(t)
			}
			m := st.metric(f.typ)
			m.Label = f.labelPairs(s.values)
			if stamp {
				m.TimestampMs = proto.Int64(Epoch.Add(t).UnixMilli())
			}
			mf.Metric = append(mf.Metric, m)
		}
	}
	return mf
}

func byTime(a, b point) int { return cmp.Compare(a.at, b.at) }

func (f *family) labelPairs(values []string) []*dto.LabelPair {
	pairs := make([]*dto.LabelPair, len(values))
	for i, v := range values {
		pairs[i] = &dto.LabelPair{Name: proto.String(f.labels[i]), Value: proto.String(v)}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].GetName() < pairs[j].GetName() })
	return pairs
}

// state is a series' value so far.
type state struct {
	counter, gauge float64
	count          uint64
	sum            float64
	buckets        []float64
	inBucket       []uint64 // observations in each bucket alone, not cumulative
}

func newState(buckets []float64) *state {
	return &state{buckets: buckets, inBucket: make([]uint64, len(buckets))}
}

func (st *state) apply(typ dto.MetricType, v float64) {
	switch typ {
	case dto.MetricType_COUNTER:
		st.counter += v
	case dto.MetricType_GAUGE:
		st.gauge = v
	case dto.MetricType_HISTOGRAM:
		st.count++
		st.sum += v
		if i := sort.SearchFloat64s(st.buckets, v); i < len(st.inBucket) {
			st.inBucket[i]++
		}
	}
}

func (st *state) metric(typ dto.MetricType) *dto.Metric {
	switch typ {
	case dto.MetricType_COUNTER:
		return &dto.Metric{Counter: &dto.Counter{Value: proto.Float64(st.counter)}}
	case dto.MetricType_GAUGE:
		return &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(st.gauge)}}
	}
	h := &dto.Histogram{SampleCount: proto.Uint64(st.count), SampleSum: proto.Float64(st.sum)}
	var cum uint64
	for i, ub := range st.buckets {
		cum += st.inBucket[i]
		h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: proto.Float64(ub), CumulativeCount: proto.Uint64(cum)})
	}
	return &dto.Metric{Histogram: h}
}
