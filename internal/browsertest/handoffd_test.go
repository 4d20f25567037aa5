package browsertest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// The people of the story, as a tokens file gives them.
const (
	annaToken = "anna-c42-secret" // customer c-42
	raviToken = "ravi-secret-123" // agent ravi, "Ravi", on the phone
	samToken  = "sam-secret-4567" // agent sam, "Sam", social-media desk
)

const tokensYAML = `tokens:
  - {token: "anna-c42-secret", principal: "c-42", role: customer}
  - {token: "ravi-secret-123", principal: "ravi", role: agent, display_name: "Ravi"}
  - {token: "sam-secret-4567", principal: "sam", role: agent, display_name: "Sam"}
`

// handoffd is one server on free loopback ports with the memory store and
// the example journey types (examples/journey-types), which the console and
// the demo draw their forms from.
type handoffd struct {
	base string
	grpc string // the gRPC address
	logs *testutil.SyncBuffer
}

func startHandoffd(t *testing.T, change ...func(*config.Config)) *handoffd {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(cfg.TokensFile, []byte(tokensYAML), 0o600))
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.JourneyTypesDir = filepath.Join(testutil.RepoRoot(t), "examples", "journey-types")
	for _, c := range change {
		c(&cfg)
	}
	require.NoError(t, cfg.Validate())
	logs := &testutil.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log, io.Discard)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		if t.Failed() {
			t.Logf("handoffd logs:\n%s", logs.String())
		}
	})
	return &handoffd{base: "http://" + a.HTTPAddr(), grpc: a.GRPCAddr(), logs: logs}
}

// journey reads a journey over REST as the customer (a customer's reads are
// not recorded on the timeline, so checking does not change what the pages
// show).
func (s *handoffd) journey(t *testing.T, name string) map[string]any {
	t.Helper()
	return s.get(t, annaToken, name)
}

// timeline is a journey's touchpoints as the customer reads them.
func (s *handoffd) timeline(t *testing.T, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, tp := range s.get(t, annaToken, name+"/touchpoints?pageSize=1000")["touchpoints"].([]any) {
		out = append(out, tp.(map[string]any))
	}
	return out
}

// post is POST /v1/<path> with a token and a JSON body; the answer as JSON.
func (s *handoffd) post(t *testing.T, token, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.base+"/v1/"+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return s.do(t, req)
}

// get is GET /v1/<path> with a token, as JSON.
func (s *handoffd) get(t *testing.T, token, path string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.base+"/v1/"+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	return s.do(t, req)
}

func (s *handoffd) do(t *testing.T, req *http.Request) map[string]any {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	out := map[string]any{}
	require.NoError(t, json.Unmarshal(body, &out))
	return out
}

// answer is data.<step>.<key> of a journey read with journey.
func answer(j map[string]any, path string) any {
	var v any = j["data"]
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
