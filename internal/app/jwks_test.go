package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/config"
)

func TestStoppingTheAppEndsTheJWKSRefresh(t *testing.T) {
	var fetches atomic.Int64
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"keys":[]}`)
	}))
	defer jwks.Close()
	baseline := goleak.IgnoreCurrent()

	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.JWT.JWKSURL, cfg.JWT.Issuer, cfg.JWT.Audience = jwks.URL, "https://idp.example", "handoff"
	require.NoError(t, cfg.Validate())
	ctx, stop := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard)
	require.NoError(t, err)
	require.Positive(t, fetches.Load(), "the JWKS is fetched at start")
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the app did not stop")
	}
	jwks.CloseClientConnections()
	require.NoError(t, goleak.Find(baseline, goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"), goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")),
		"the JWKS cache's goroutines outlive the app")
}
