package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// The principals of the story, as a tokens file gives them.
const (
	websiteToken = "web-secret"   // shop-website, service
	aliceToken   = "alice-secret" // alice, agent
	bobToken     = "bob-secret-x" // bob, agent
	c42Token     = "c42-secret"   // c-42, customer
	c1Token      = "c1-secret-x"  // c-1, customer
	c2Token      = "c2-secret-x"  // c-2, customer
	adminToken   = "admin-secret" // root, admin
	kees         = "kees-secret-" // kees, analyst
)

const tokensYAML = `tokens:
  - {token: "web-secret", principal: "shop-website", role: service}
  - {token: "alice-secret", principal: "alice", role: agent}
  - {token: "bob-secret-x", principal: "bob", role: agent}
  - {token: "c42-secret", principal: "c-42", role: customer}
  - {token: "c1-secret-x", principal: "c-1", role: customer}
  - {token: "c2-secret-x", principal: "c-2", role: customer}
  - {token: "admin-secret", principal: "root", role: admin}
  - {token: "kees-secret-", principal: "kees", role: analyst}
`

// harness is one running handoffd on free loopback ports.
type harness struct {
	app   *app.App
	conn  *grpc.ClientConn
	api   handoffv1.JourneyServiceClient
	base  string // http://host:port
	logs  *testutil.SyncBuffer
	redis *testutil.Redis
	// stop stops handoffd as SIGTERM does and returns Run's error; the
	// test's cleanup calls it too (once is enough).
	stop func() error
}

type storeKind string

const (
	memoryStore storeKind = "memory"
	redisStore  storeKind = "redis"
	// durableRedisStore fsyncs every write to its append-only file, as
	// production should: it survives its own restart.
	durableRedisStore storeKind = "durable-redis"
)

// start runs handoffd with the given store; change adjusts the config.
func start(t testing.TB, kind storeKind, change ...func(*config.Config)) *harness {
	t.Helper()
	h := &harness{logs: &testutil.SyncBuffer{}}
	cfg := config.Default()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(cfg.TokensFile, []byte(tokensYAML), 0o600))
	cfg.ShutdownTimeout = 5 * time.Second
	switch kind {
	case memoryStore:
	case redisStore:
		h.redis = testutil.StartRedis(t)
	case durableRedisStore:
		h.redis = testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	default:
		// Any other kind is the URL of a Redis another harness started:
		// several handoffd instances on one Redis.
		cfg.RedisURL = string(kind)
	}
	if h.redis != nil {
		cfg.RedisURL = h.redis.URL()
	}
	for _, c := range change {
		c(&cfg)
	}
	require.NoError(t, cfg.Validate())
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log, io.Discard)
	require.NoError(t, err)
	h.app = a
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var stopped error
	var once sync.Once
	h.stop = func() error {
		once.Do(func() { cancel(); stopped = <-done })
		return stopped
	}
	t.Cleanup(func() { require.NoError(t, h.stop()) })

	h.conn, err = grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.conn.Close() })
	h.api = handoffv1.NewJourneyServiceClient(h.conn)
	h.base = "http://" + a.HTTPAddr()
	return h
}

// sharedRedis makes a storeKind that runs on the Redis of h.
func sharedRedis(h *harness) storeKind { return storeKind(h.redis.URL()) }

// as is a context that calls as the token's principal, with optional extra
// metadata pairs (e.g. the channel header).
func as(t testing.TB, token string, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(t.Context(), append([]string{"authorization", "Bearer " + token}, kv...)...)
}

// rest calls the REST API and decodes the JSON answer into a map.
func (h *harness) rest(t *testing.T, method, path, token string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, h.base+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]any{}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out), "body: %s", raw)
	} else {
		out["_text"] = string(raw)
	}
	return resp.StatusCode, out
}

var httpClient = http.DefaultClient

func newRequest(ctx context.Context, url, token string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
}

// startStoppable runs handoffd on the Redis at redisURL until the test
// calls stop, which is what SIGTERM does in main; done then receives Run's
// result, expected within grace.
func startStoppable(t *testing.T, redisURL string) (a *app.App, api handoffv1.JourneyServiceClient, stop context.CancelFunc, done <-chan error, grace time.Duration) {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RedisURL = redisURL
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(cfg.TokensFile, []byte(tokensYAML), 0o600))

	ctx, stop := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()

	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return a, handoffv1.NewJourneyServiceClient(conn), stop, ran, cfg.ShutdownTimeout
}
