// Command handoffd serves the journey handoff API over gRPC and REST.
//
// With no flags it runs on a bare machine: journeys in memory, dev-mode
// tokens printed at start. See README.md for production settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/config"
)

func main() {
	cfg, err := config.Load(os.Args[1:], os.LookupEnv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "handoffd:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := app.New(ctx, cfg, log, os.Stderr)
	if err != nil {
		log.Error("cannot start", "error", err)
		os.Exit(1)
	}
	if err := a.Run(ctx); err != nil {
		log.Error("stopped with an error", "error", err)
		os.Exit(1)
	}
}
