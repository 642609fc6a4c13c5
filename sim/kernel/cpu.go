package kernel

import "time"

// CPU is a pool of identical processors. Work holds one processor for its
// duration; when all are busy, processes queue first come, first served.
type CPU struct {
	n       int
	busy    int
	waiters []*Proc
	busyNS  time.Duration // total processor time used
}

// NewCPU returns a pool of n processors.
func NewCPU(n int) *CPU { return &CPU{n: max(n, 1)} }

// Size is the number of processors.
func (c *CPU) Size() int { return c.n }

// Busy is the processor time used so far.
func (c *CPU) Busy() time.Duration { return c.busyNS }

// Acquire takes a processor for p, waiting if none is free, and returns how
// long it waited.
func (c *CPU) Acquire(p *Proc) time.Duration {
	start := p.k.now
	if c.busy < c.n && len(c.waiters) == 0 {
		c.busy++
		return 0
	}
	c.waiters = append(c.waiters, p)
	p.Park() // Release hands the processor straight to us
	return p.k.now - start
}

// Turn waits for p's turn on a processor and gives it back at once: a
// short task that a real scheduler runs as soon as a processor frees, ahead
// of the work queued for one (a woken thread's low latency). It returns how
// long it waited.
func (c *CPU) Turn(p *Proc) time.Duration {
	start := p.k.now
	if c.busy < c.n && len(c.waiters) == 0 {
		return 0
	}
	c.waiters = append(c.waiters, nil)
	copy(c.waiters[1:], c.waiters)
	c.waiters[0] = p
	p.Park()
	c.Release(0)
	return p.k.now - start
}

// Release returns p's processor after it used it for d, passing it to the next waiter.
func (c *CPU) Release(d time.Duration) {
	c.busyNS += d
	if len(c.waiters) > 0 {
		next := c.waiters[0]
		c.waiters[0] = nil
		c.waiters = c.waiters[1:]
		next.Unpark()
		return
	}
	c.busy--
}

// RunAfter holds a processor for d of work in a process of its own, off
// the caller's path: work that follows a request, such as its watch
// event's or the CPU beyond its latency.
func (c *CPU) RunAfter(k *Kernel, name string, d time.Duration) {
	if d > 0 {
		k.Go(name, func(p *Proc) { c.Run(p, d) })
	}
}

// Run holds a processor for d of work and returns the time spent waiting for it.
func (c *CPU) Run(p *Proc, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	wait := c.Acquire(p)
	p.Sleep(d)
	c.Release(d)
	return wait
}
