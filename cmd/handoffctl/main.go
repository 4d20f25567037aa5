// Command handoffctl is a command-line client of handoffd's gRPC API: get,
// list, save, hand off, redeem, claim, release, transfer, watch, read the
// timeline and erase, with JSON or table output. `handoffctl --help` says
// how it finds handoffd and its token.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/journeyhandoff/handoff/internal/ctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ctl.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
