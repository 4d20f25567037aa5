package app_test

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// otlpReceiver is an OTLP/gRPC collector in the test: it keeps the spans
// handoffd exports.
type otlpReceiver struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (r *otlpReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			r.spans = append(r.spans, ss.GetSpans()...)
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// startOTLPReceiver serves a receiver on a free loopback port.
func startOTLPReceiver(t *testing.T) (*otlpReceiver, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &otlpReceiver{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, r)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return r, "http://" + lis.Addr().String()
}

// attributes are a span's attribute values as text.
func attributes(s *tracepb.Span) []string {
	var out []string
	var text func(v *commonpb.AnyValue)
	text = func(v *commonpb.AnyValue) {
		out = append(out, v.GetStringValue())
		for _, e := range v.GetArrayValue().GetValues() {
			text(e)
		}
	}
	for _, kv := range s.GetAttributes() {
		text(kv.GetValue())
	}
	for _, ev := range s.GetEvents() {
		for _, kv := range ev.GetAttributes() {
			text(kv.GetValue())
		}
	}
	return append(out, s.GetName(), s.GetStatus().GetMessage())
}

func TestOneRESTSaveIsOneTraceFromTheGatewayToRedis(t *testing.T) {
	receiver, endpoint := startOTLPReceiver(t)
	r := testutil.StartRedis(t)
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RedisURL = r.URL()
	cfg.OTLPEndpoint = endpoint
	cfg.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(cfg.TokensFile, []byte(tokensYAML), 0o600))
	require.NoError(t, cfg.Validate())
	logs := &testutil.SyncBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	a, err := app.New(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)), io.Discard)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	h := &harness{app: a, base: "http://" + a.HTTPAddr()}

	status, j := h.rest(t, "POST", "/v1/customers/c-42/journeys", websiteToken, map[string]any{"journeyType": "car-insurance-quote"})
	require.Equal(t, http.StatusOK, status, "%v", j)
	// The caller's trace: every span of the save must be in it.
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	const secret = "AB-123-C-SECRET"
	status, saved := h.rest(t, "PATCH", "/v1/"+j["name"].(string), websiteToken,
		map[string]any{"data": map[string]any{"vehicle": map[string]any{"plate": secret}}},
		"traceparent", "00-"+traceID+"-"+parentID+"-01")
	require.Equal(t, http.StatusOK, status, "%v", saved)

	stop() // SIGTERM: the last spans are exported on the way out
	require.NoError(t, <-done)

	receiver.mu.Lock()
	spans := receiver.spans
	receiver.mu.Unlock()
	byID := map[string]*tracepb.Span{}
	var save []*tracepb.Span
	for _, s := range spans {
		for _, v := range attributes(s) {
			require.NotContains(t, v, secret, "an answer in span %q", s.GetName())
			require.NotContains(t, v, websiteToken, "a token in span %q", s.GetName())
		}
		if hex.EncodeToString(s.GetTraceId()) == traceID {
			save = append(save, s)
			byID[hex.EncodeToString(s.GetSpanId())] = s
		}
	}
	named := func(name string, kind tracepb.Span_SpanKind) *tracepb.Span {
		t.Helper()
		for _, s := range save {
			if s.GetName() == name && s.GetKind() == kind {
				return s
			}
		}
		var names []string
		for _, s := range save {
			names = append(names, s.GetName()+" "+s.GetKind().String())
		}
		t.Fatalf("no %s span %q in the save's trace: %v", kind, name, names)
		return nil
	}
	parentOf := func(s *tracepb.Span) string { return hex.EncodeToString(s.GetParentSpanId()) }

	rest := named("PATCH /v1/…", tracepb.Span_SPAN_KIND_SERVER)
	require.Equal(t, parentID, parentOf(rest), "the REST span continues the caller's trace")
	gatewayCall := named("handoff.v1.JourneyService/UpdateJourney", tracepb.Span_SPAN_KIND_CLIENT)
	require.Equal(t, hex.EncodeToString(rest.GetSpanId()), parentOf(gatewayCall))
	grpcCall := named("handoff.v1.JourneyService/UpdateJourney", tracepb.Span_SPAN_KIND_SERVER)
	require.Equal(t, hex.EncodeToString(gatewayCall.GetSpanId()), parentOf(grpcCall))
	script := named("evalsha", tracepb.Span_SPAN_KIND_CLIENT)
	for s := script; parentOf(s) != hex.EncodeToString(grpcCall.GetSpanId()); {
		parent, ok := byID[parentOf(s)]
		require.True(t, ok, "the Redis script's span is not under the gRPC call's")
		s = parent
	}

	var line string
	for l := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(l, `"grpc.method":"UpdateJourney"`) {
			line = l
		}
	}
	require.Contains(t, line, `"trace_id":"`+traceID+`"`, "the call's log line names its trace")
	require.Contains(t, line, `"request_id":"`)
}
