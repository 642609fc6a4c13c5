package calibration

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/krosim/krosim/sim/cluster"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// watchers is how many watches of the written kind the watched writes are
// measured with: enough that their cost stands out of the rounds' scatter.
const watchers = 8

// writeRounds is how many times the writes are measured without watchers
// and with them, alternately, so that the host's drift falls on both.
const writeRounds = 3

// WatchedWrite is what a write costs for each watcher of its kind (a watch
// event the API server encodes and sends, and the watcher decodes), beyond
// the write itself: the CPU per write of updates watched by Watchers
// watches less that of the same updates unwatched, per watcher, on the
// server's processes (etcd, the API server) and in the client that
// watched.
type WatchedWrite struct {
	Watchers       int
	Server, Client time.Duration
}

// watchedWrites measures m.n updates writeRounds times unwatched and as
// often watched by watchers watches, on objects of their own.
func (c *Calibration) watchedWrites(ctx context.Context, m *measure, log io.Writer) error {
	res := m.dyn.Resource(standins).Namespace(m.ns)
	m.clear(ctx, res)
	if _, _, err := m.create(ctx, res, false); err != nil {
		return err
	}
	defer m.clear(ctx, res)
	objs, err := m.fetch(ctx, res)
	if err != nil {
		return err
	}
	var sum [2][2]time.Duration // [unwatched, watched][server, client]
	for r := range writeRounds {
		for i, n := range []int{0, watchers} {
			server, client, err := m.writeRound(ctx, res, objs, fmt.Sprintf("w%d-%d", r, n), n)
			if err != nil {
				return err
			}
			sum[i][0] += server
			sum[i][1] += client
		}
	}
	per := func(j int) time.Duration {
		return max(0, (sum[1][j]-sum[0][j])/time.Duration(writeRounds*watchers))
	}
	c.Watched = WatchedWrite{Watchers: watchers, Server: per(0), Client: per(1)}
	fmt.Fprintf(log, "krosim calibrate: a write watched by %d: %.2fms of the server's CPU and %.2fms of the watcher's per watcher (%d rounds of %d)\n",
		watchers, ms(c.Watched.Server), ms(c.Watched.Client), writeRounds, m.n)
	return nil
}

// writeRound updates every object to value with n watches of the kind open
// and returns the CPU per update of the server's processes and of this
// client, counted until every watch has seen every update.
func (m *measure) writeRound(ctx context.Context, res dynamic.ResourceInterface, objs []*unstructured.Unstructured, value string, n int) (server, client time.Duration, err error) {
	list, err := res.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return 0, 0, err
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var seen atomic.Int64
	var wg sync.WaitGroup
	for range n {
		w, err := res.Watch(wctx, metav1.ListOptions{ResourceVersion: list.GetResourceVersion()})
		if err != nil {
			return 0, 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.Stop()
			for ev := range w.ResultChan() {
				if ev.Type == watch.Modified {
					seen.Add(1)
				}
			}
		}()
	}
	before := cluster.ProcessCPU(m.pidDir)
	_, _, err = m.timed(ctx, func(i int) error {
		o := objs[i].DeepCopy()
		_ = unstructured.SetNestedField(o.Object, value, "data", "GREETING")
		u, err := res.Update(ctx, o, metav1.UpdateOptions{})
		if err == nil {
			objs[i] = u
		}
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("watched update: %w", err)
	}
	for deadline := time.Now().Add(10 * time.Second); seen.Load() < int64(n*len(objs)) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cpu := cpuSince(m.pidDir, before)
	stop()
	wg.Wait()
	if got := seen.Load(); got < int64(n*len(objs)) {
		return 0, 0, fmt.Errorf("watched update: %d watches saw %d of %d events", n, got, n*len(objs))
	}
	server, client = serverClient(cpu)
	k := time.Duration(len(objs))
	return server / k, client / k, nil
}
