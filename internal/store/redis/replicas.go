package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/store"
)

// WithMinReplicasAck makes every write of journeys and codes, and every
// erasure, wait until n replicas acknowledged it (Redis WAIT), for at most
// timeout; a write that fewer replicas acknowledged in time fails as
// unavailable, although the primary did it. Redis replicates asynchronously: without this, what a
// primary acknowledged and had not yet sent to a replica is lost when that
// replica takes over. n <= 0 (the default) does not wait.
func WithMinReplicasAck(n int, timeout time.Duration) Option {
	return func(s *Store) {
		s.replicasAck = max(n, 0)
		s.replicasAckTimeout = timeout
	}
}

// runWrite runs a writing script; with WithMinReplicasAck it then waits
// for the replicas (see replicated).
func (s *Store) runWrite(ctx context.Context, sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	if s.replicasAck == 0 {
		return sc.Run(ctx, s.client, keys, args...)
	}
	var cmd *goredis.Cmd
	err := s.replicated(ctx, keys[0], func(p goredis.Pipeliner) goredis.Cmder {
		cmd = sc.EvalSha(ctx, p, keys, args...)
		return cmd
	})
	if goredis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		err = s.replicated(ctx, keys[0], func(p goredis.Pipeliner) goredis.Cmder {
			cmd = sc.Eval(ctx, p, keys, args...)
			return cmd
		})
	}
	if err != nil {
		cmd.SetErr(err)
	}
	return cmd
}

// replicated pipelines one write (fill adds it) and a WAIT for
// WithMinReplicasAck's replicas, on the primary that holds key: WAIT
// counts the acknowledgements of its own connection's writes. It returns
// the write's error, else WAIT's verdict.
func (s *Store) replicated(ctx context.Context, key string, fill func(goredis.Pipeliner) goredis.Cmder) error {
	return s.replicatedOn(ctx, s.client, key, fill)
}

// replicatedOn is replicated through c: the store's client, which finds
// key's primary, or a primary's own client (erasure walks them).
func (s *Store) replicatedOn(ctx context.Context, c goredis.UniversalClient, key string, fill func(goredis.Pipeliner) goredis.Cmder) error {
	var primary interface {
		Pipelined(context.Context, func(goredis.Pipeliner) error) ([]goredis.Cmder, error)
	} = c
	cluster, isCluster := c.(*goredis.ClusterClient)
	if isCluster {
		// A node's own client, so that the write and its WAIT share a
		// connection (a cluster pipeline sends a keyless WAIT anywhere).
		node, err := cluster.MasterForKey(ctx, key)
		if err != nil {
			return err
		}
		primary = node
	}
	var write goredis.Cmder
	wait := goredis.NewIntCmd(ctx, "wait", s.replicasAck, max(s.replicasAckTimeout.Milliseconds(), 1))
	_, _ = primary.Pipelined(ctx, func(p goredis.Pipeliner) error {
		write = fill(p)
		return p.Process(ctx, wait)
	})
	if err := write.Err(); err != nil {
		if isCluster && (isRedirect(err) || unavailable(err)) {
			// The slot moved (a failover) since the map was read, or its
			// primary is gone, and a node client neither follows redirects
			// nor reloads the map: the caller may try again once the
			// cluster client has the new one.
			cluster.ReloadState(ctx)
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	if err := wait.Err(); err != nil {
		return fmt.Errorf("waiting for replicas: %w", err)
	}
	if acked := wait.Val(); acked < int64(s.replicasAck) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, &NotReplicatedError{Acked: int(acked), Wanted: s.replicasAck})
	}
	return nil
}

// NotReplicatedError says a write reached the primary but fewer replicas
// than WithMinReplicasAck asked for acknowledged it in time: it may be
// lost in a failover. Writing it again is safe.
type NotReplicatedError struct{ Acked, Wanted int }

func (e *NotReplicatedError) Error() string {
	return fmt.Sprintf("written on the primary, acknowledged by %d of the %d replicas required", e.Acked, e.Wanted)
}

// isRedirect reports a Cluster's MOVED or ASK reply, which a node client
// (unlike the cluster client) does not follow.
func isRedirect(err error) bool {
	return goredis.HasErrorPrefix(err, "MOVED") || goredis.HasErrorPrefix(err, "ASK")
}
