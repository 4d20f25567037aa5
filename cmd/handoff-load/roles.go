package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// runRole runs the helper process role names, returning its exit code.
func runRole(role string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch role {
	case roleEmptyGRPC:
		err = serveEmptyGRPC(ctx, stdout)
	case roleWebhookSink:
		err = serveWebhookSink(ctx, stdout)
	default:
		err = fmt.Errorf("unknown %s %q", roleEnv, role)
	}
	if err != nil {
		fmt.Fprintln(stderr, "handoff-load:", err)
		return 1
	}
	return 0
}

// serveEmptyGRPC is the floor's server: grpc-go with nothing added (no
// interceptors, no TLS), answering grpc.health.v1.Health/Check, a unary
// call that does a map lookup, and, given Redis, the relay (relay.go). It
// prints "listening <addr>" once bound.
func serveEmptyGRPC(ctx context.Context, stdout io.Writer) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	closeRelay, err := registerRelay(ctx, srv)
	if err != nil {
		return err
	}
	defer func() { _ = closeRelay() }()
	fmt.Fprintf(stdout, "listening %s\n", l.Addr())
	go func() {
		<-ctx.Done()
		srv.Stop()
	}()
	return srv.Serve(l)
}
