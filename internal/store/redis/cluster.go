package redis

import (
	"context"
	"errors"
	"net"

	goredis "github.com/redis/go-redis/v9"
)

// reloadOnUnreachable makes a cluster client ask for the slot map again
// when a call fails because a node did not answer. go-redis otherwise keeps
// a dead primary's slots pointed at it until its periodic reload (once a
// minute by default): after a failover every call to those slots would
// fail for up to a minute, although a replica took over within seconds.
// The reload is lazy and go-redis spaces reloads 200 ms apart, so a burst
// of failures costs one CLUSTER SLOTS.
type reloadOnUnreachable struct{ cluster *goredis.ClusterClient }

func (h reloadOnUnreachable) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		h.check(err)
		return conn, err
	}
}

func (h reloadOnUnreachable) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		h.check(err)
		return err
	}
}

func (h reloadOnUnreachable) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		h.check(err)
		return err
	}
}

func (h reloadOnUnreachable) check(err error) {
	if err == nil || errors.Is(err, goredis.Nil) || errors.Is(err, context.Canceled) || !unavailable(err) {
		return
	}
	h.cluster.ReloadState(context.Background())
}
