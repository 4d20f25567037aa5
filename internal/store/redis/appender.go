package redis

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// maxAppendBatch bounds how many events.lua calls one pipeline carries.
const maxAppendBatch = 128

// appender sends concurrent writes' events.lua calls together (a group
// commit, docs/reach.md): a call that finds no batch in flight goes at
// once, alone; calls that arrive while one is in flight wait and go as
// the next batch, one go-redis pipeline of EVALSHAs in arrival order (in
// a Cluster all in the `{_events}` slot, so on one node). There is no
// timer: a batch is whatever waited while the one before was in flight.
// Each call gets its own reply; a failed pipeline fails each of its calls.
type appender struct {
	mu      sync.Mutex
	busy    bool          // a batch is in flight
	waiting []*appendCall // the next batches, in arrival order

	// sent counts pipelines sent and calls in them (tests read them).
	sent, calls int64
}

// appendCall is one events.lua call, waiting for its reply.
type appendCall struct {
	ctx  context.Context
	keys []string
	args []any
	cmd  *goredis.Cmd
	// done is closed once cmd holds the reply, or when the call is to
	// send lead, the next batch (itself first).
	done chan struct{}
	lead []*appendCall
}

// run is sc's reply to keys and args, sent with the calls that wait
// alongside.
func (a *appender) run(ctx context.Context, c goredis.UniversalClient, sc *goredis.Script, keys []string, args []any) *goredis.Cmd {
	call := &appendCall{ctx: ctx, keys: keys, args: args}
	a.mu.Lock()
	if !a.busy {
		a.busy = true
		a.mu.Unlock()
		a.send(c, sc, []*appendCall{call})
		return call.cmd
	}
	call.done = make(chan struct{})
	a.waiting = append(a.waiting, call)
	a.mu.Unlock()
	<-call.done
	if call.lead != nil {
		a.send(c, sc, call.lead)
	}
	return call.cmd
}

// send sends batch (its first call the caller's own), answers the others
// and hands what waits meanwhile to the first of the next batch.
func (a *appender) send(c goredis.UniversalClient, sc *goredis.Script, batch []*appendCall) {
	a.pipeline(c, sc, batch)
	a.mu.Lock()
	a.sent++
	a.calls += int64(len(batch))
	var next []*appendCall
	if len(a.waiting) == 0 {
		a.busy = false
	} else {
		n := min(len(a.waiting), maxAppendBatch)
		next = a.waiting[:n:n]
		a.waiting = a.waiting[n:]
		if len(a.waiting) == 0 {
			a.waiting = nil // let the array go
		}
	}
	a.mu.Unlock()
	for _, call := range batch[1:] {
		close(call.done)
	}
	if next != nil {
		next[0].lead = next
		close(next[0].done)
	}
}

// pipeline sends batch's calls as EVALSHAs in one pipeline (a call alone
// as Script.Run does) and, for those Redis did not know the script for
// (NOSCRIPT: a restarted or new node), loads it once and sends them
// again. A call whose caller has given up already is answered with its
// context's error, unsent.
func (a *appender) pipeline(c goredis.UniversalClient, sc *goredis.Script, batch []*appendCall) {
	if len(batch) == 1 {
		// Alone: as any script, EVALSHA and on NOSCRIPT EVAL, with no
		// pipeline to build.
		call := batch[0]
		call.cmd = sc.Run(call.ctx, c, call.keys, call.args...)
		return
	}
	var live []*appendCall
	for _, call := range batch {
		if err := call.ctx.Err(); err != nil {
			call.cmd = goredis.NewCmd(call.ctx)
			call.cmd.SetErr(err)
			continue
		}
		live = append(live, call)
	}
	if len(live) == 0 {
		return
	}
	// The batch is its first call's: the others' deadlines are theirs to
	// mind, the client's timeouts bound the round trip.
	ctx := context.WithoutCancel(live[0].ctx)
	send := func(calls []*appendCall) {
		_, _ = c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, call := range calls {
				call.cmd = sc.EvalSha(ctx, p, call.keys, call.args...)
			}
			return nil
		})
	}
	send(live)
	var again []*appendCall
	for _, call := range live {
		if goredis.HasErrorPrefix(call.cmd.Err(), "NOSCRIPT") {
			again = append(again, call)
		}
	}
	if len(again) == 0 {
		return
	}
	if err := sc.Load(ctx, c).Err(); err != nil {
		for _, call := range again {
			call.cmd.SetErr(err)
		}
		return
	}
	send(again)
}
