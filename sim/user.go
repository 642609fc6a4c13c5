package sim

import (
	"github.com/krosim/krosim/sim/api"
	"github.com/krosim/krosim/sim/kernel"
	"github.com/krosim/krosim/sim/verb"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// user is whoever creates, changes and deletes the instances: a client of
// the API server like kro, whose every write is a request that takes the
// server's processors and latency, parallel of them in flight at once, in
// the order sent (as krosim's real runs send theirs). On the harness the
// workload's own 100 DELETEs took 0.36 to 0.51 s and held the server while
// kro's first deletion reconciles ran: made free and instant, the simulated
// delete phases with 1, 2 and 4 workers ended early in 25 of 26 rows, most
// by 0.15 to 0.35 s.
// The faults a target injects are kro's to meet, not the user's: its
// requests see none, and a 429 is retried as client-go retries it.
type user struct {
	k        *kernel.Kernel
	client   *api.Client
	parallel int
	queue    []func(p *kernel.Proc)
	running  int
}

func newUser(k *kernel.Kernel, srv *api.Server, parallel int) *user {
	c := srv.NewClient(0, 0)
	c.NoFaults = true
	return &user{k: k, client: c, parallel: max(1, parallel)}
}

// send queues f, one request or a few in a row, to run in its turn.
func (u *user) send(f func(p *kernel.Proc)) {
	u.queue = append(u.queue, f)
	if u.running == u.parallel {
		return
	}
	u.running++
	u.k.Go("workload", func(p *kernel.Proc) {
		for len(u.queue) > 0 {
			f := u.queue[0]
			u.queue[0] = nil
			u.queue = u.queue[1:]
			f(p)
		}
		u.running--
	})
}

// do sends one request whose effect is op, and returns its error.
func (u *user) do(p *kernel.Proc, v verb.Verb, k api.Key, op func() error) error {
	return u.client.Do(p, v, k, 0, op).Err
}

// once makes a shared object once per run: the first to need it sends its
// create, the others wait for that. One that exists already is fine.
type once struct {
	done    bool
	err     error
	waiting []*kernel.Proc
}

func (u *user) createOnce(p *kernel.Proc, made map[api.Key]*once, k api.Key, create func() error) error {
	if o := made[k]; o != nil {
		for !o.done {
			o.waiting = append(o.waiting, p)
			p.Park()
		}
		return o.err
	}
	o := &once{}
	made[k] = o
	if err := u.do(p, verb.Create, k, create); err != nil && !apierrors.IsAlreadyExists(err) {
		o.err = err
	}
	o.done = true
	for _, w := range o.waiting {
		w.Unpark()
	}
	o.waiting = nil
	return o.err
}
