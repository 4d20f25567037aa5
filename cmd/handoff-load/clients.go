package main

import (
	"context"
	"time"

	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// callTimeout bounds one call, so a wedged server ends a phase with errors
// instead of hanging it; it is far above any latency worth reporting.
const callTimeout = 30 * time.Second

// api is one way of calling handoffd: gRPC or REST through the gateway.
// Each workload's requests are built and encoded before its phase, as a
// ring of size requests: request k goes to journey js.pick(k), and a save
// carries newPageSave(k)'s answers. During the phase a call only takes the
// next request off the ring and sends its bytes; the reply is read off the
// connection and dropped undecoded, except the one value a handoff's redeem
// needs (its code). So a call costs the driver about the same whatever the
// method, and throughput ratios measure handoffd rather than the driver.
type api interface {
	saves(js journeys, size int) (workloadOp, error)
	gets(js journeys, size int) (workloadOp, error)
	// handoffs are the website asking for a code for a journey and the
	// journey's agent redeeming it: the two calls of one handoff.
	handoffs(js journeys, size int) (workloadOp, error)
}

// ringLike is what the report needs of a ring: whether it lapped.
type ringLike interface {
	Len() int
	Taken() uint64
}

// workloadOp is a workload's op and the rings it sends from.
type workloadOp struct {
	op    loadgen.Op
	rings []ringLike
}

// laps is how many times over the busiest of the op's rings has been sent:
// above 1, some requests went out twice (same journey, same answers).
func (w workloadOp) laps() float64 {
	most := 0.0
	for _, r := range w.rings {
		most = max(most, float64(r.Taken())/float64(r.Len()))
	}
	return most
}

// journeys is where a workload's requests go: journey first+k for k in
// [0, n), spread evenly over all of them by the request number; salt makes
// each phase pick differently. The journeys below first are the
// save-script floor's own.
type journeys struct {
	first, n int
	salt     uint64
}

func (js journeys) pick(seq uint64) int { return js.first + spread(seq, js.salt, js.n) }

// mixOp sends each request as the kind the mix picks for it; ops are in
// the order of the mix's shares, each taking from its own rings.
func mixOp(m *loadgen.Mix, ops []workloadOp) workloadOp {
	out := workloadOp{op: func(ctx context.Context, w int, seq uint64) error {
		return ops[m.Pick(seq)].op(ctx, w, seq)
	}}
	for _, o := range ops {
		out.rings = append(out.rings, o.rings...)
	}
	return out
}

// timed gives every call of op its own deadline.
func timed(op loadgen.Op) loadgen.Op {
	return func(ctx context.Context, w int, seq uint64) error {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return op(ctx, w, seq)
	}
}
