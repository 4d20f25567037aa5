package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// Benchmarks of what every save costs before it reaches the service: the
// gateway's JSON decoding, the gRPC server's protobuf decoding, the
// validation interceptor and the JSON depth guard. Run them with
//
//	go test -run '^$' -bench . -count 10 ./internal/server

// benchJourneyName is the journey every benchmark request saves to.
const benchJourneyName = "customers/c-42/journeys/anna-quote"

// benchAnswerCounts are the journey sizes measured: a typical quote, and
// one ten times larger to show how the cost grows.
var benchAnswerCounts = []int{20, 200}

// saveBody is the PATCH body of a save of n answers on the cover step, with
// the etag read last, as a website sends it.
func saveBody(tb testing.TB, n int) []byte {
	tb.Helper()
	b, err := json.Marshal(map[string]any{"step": "cover", "etag": "7", "data": storetest.QuoteAnswers(n)})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// gatewayDecoder is the marshaler the REST gateway decodes a JSON request
// body with, taken from the gateway itself so the benchmark cannot drift
// from its options. The gateway never dials here: grpc.NewClient connects
// on the first call.
func gatewayDecoder(b *testing.B) runtime.Marshaler {
	b.Helper()
	h, conn, err := NewGateway(b.Context(), "127.0.0.1:1", 1<<20, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	mux, ok := h.(*runtime.ServeMux)
	if !ok {
		b.Fatalf("the gateway is a %T, not a *runtime.ServeMux", h)
	}
	r := httptest.NewRequest(http.MethodPatch, "/v1/"+benchJourneyName, nil)
	r.Header.Set("Content-Type", "application/json")
	in, _ := runtime.MarshalerForRequest(mux, r)
	return in
}

// decodeAsGateway turns a PATCH body into the UpdateJourneyRequest the
// gateway sends on, with the steps of the generated handler
// (request_JourneyService_UpdateJourney_0 in journey_service.pb.gw.go):
// decode the body into journey, derive the update mask from the body, set
// the name from the path.
func decodeAsGateway(in runtime.Marshaler, body []byte) (*handoffv1.UpdateJourneyRequest, error) {
	req := &handoffv1.UpdateJourneyRequest{}
	if err := in.NewDecoder(bytes.NewReader(body)).Decode(&req.Journey); err != nil {
		return nil, err
	}
	mask, err := runtime.FieldMaskFromRequestBody(bytes.NewReader(body), req.Journey)
	if err != nil {
		return nil, err
	}
	req.UpdateMask = mask
	if err := runtime.PopulateFieldFromPath(req, "journey.name", benchJourneyName); err != nil {
		return nil, err
	}
	return req, nil
}

// checkDecoded fails the benchmark unless req is the save of n answers, so
// a benchmark never measures a decoder that dropped half the body.
func checkDecoded(b *testing.B, req *handoffv1.UpdateJourneyRequest, n int) {
	b.Helper()
	j := req.GetJourney()
	if j.GetName() != benchJourneyName || j.GetStep() != "cover" || j.GetEtag() != "7" {
		b.Fatalf("decoded name %q, step %q, etag %q", j.GetName(), j.GetStep(), j.GetEtag())
	}
	leaves := 0
	for _, step := range j.GetData().GetFields() {
		leaves += len(step.GetStructValue().GetFields())
	}
	if leaves != n {
		b.Fatalf("decoded %d answers, want %d", leaves, n)
	}
	// The gateway's mask names every answer, plus step and etag.
	if got := len(req.GetUpdateMask().GetPaths()); got != n+2 {
		b.Fatalf("the derived mask has %d paths, want %d: %v", got, n+2, req.GetUpdateMask().GetPaths())
	}
	if !slices.Contains(req.GetUpdateMask().GetPaths(), "data.vehicle.plate") {
		b.Fatalf("the derived mask does not name data.vehicle.plate: %v", req.GetUpdateMask().GetPaths())
	}
}

// BenchmarkDecodeUpdateJourney decodes one save: as JSON the way the REST
// gateway does (body, derived mask, name from the path), and as the
// protobuf the gRPC server receives, from the gateway or a gRPC client.
func BenchmarkDecodeUpdateJourney(b *testing.B) {
	for _, n := range benchAnswerCounts {
		body := saveBody(b, n)
		b.Run("format=json/answers="+strconv.Itoa(n), func(b *testing.B) {
			in := gatewayDecoder(b)
			req, err := decodeAsGateway(in, body)
			if err != nil {
				b.Fatal(err)
			}
			checkDecoded(b, req, n)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeAsGateway(in, body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("format=proto/answers="+strconv.Itoa(n), func(b *testing.B) {
			want, err := decodeAsGateway(gatewayDecoder(b), body)
			if err != nil {
				b.Fatal(err)
			}
			wire, err := proto.Marshal(want)
			if err != nil {
				b.Fatal(err)
			}
			got := &handoffv1.UpdateJourneyRequest{}
			if err := proto.Unmarshal(wire, got); err != nil {
				b.Fatal(err)
			}
			checkDecoded(b, got, n)
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				// A fresh message each time, as the gRPC server decodes into.
				if err := proto.Unmarshal(wire, &handoffv1.UpdateJourneyRequest{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeriveUpdateMask is the part of the gateway's decoding that
// derives the update mask from a PATCH body without one: grpc-gateway
// parses the body a second time for it.
func BenchmarkDeriveUpdateMask(b *testing.B) {
	for _, n := range benchAnswerCounts {
		b.Run("answers="+strconv.Itoa(n), func(b *testing.B) {
			body := saveBody(b, n)
			req, err := decodeAsGateway(gatewayDecoder(b), body)
			if err != nil {
				b.Fatal(err)
			}
			checkDecoded(b, req, n)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := runtime.FieldMaskFromRequestBody(bytes.NewReader(body), req.Journey); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkValidateUpdateJourney runs the validation interceptor's check
// on a decoded save: one that passes, and one refused for its name (the
// refusal builds the google.rpc.BadRequest).
func BenchmarkValidateUpdateJourney(b *testing.B) {
	v, err := protovalidate.New()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range benchAnswerCounts {
		for _, tc := range []struct {
			request string
			name    string
			want    codes.Code
		}{
			{"valid", benchJourneyName, codes.OK},
			{"bad-name", "customers/c-42/journeys/Anna Quote", codes.InvalidArgument},
		} {
			b.Run("request="+tc.request+"/answers="+strconv.Itoa(n), func(b *testing.B) {
				req, err := decodeAsGateway(gatewayDecoder(b), saveBody(b, n))
				if err != nil {
					b.Fatal(err)
				}
				req.Journey.Name = tc.name
				// The first check also compiles the rules; it is kept out of
				// the measurement, as a running server compiled them long ago.
				if got := status.Code(validationStatus(v.Validate(req))); got != tc.want {
					b.Fatalf("validation answered %v, want %v", got, tc.want)
				}
				b.ReportAllocs()
				for b.Loop() {
					_ = validationStatus(v.Validate(req))
				}
			})
		}
	}
}

// BenchmarkJSONDepth measures the depth guard every REST body passes
// through: the scan alone, and the middleware (readBody), which also
// buffers the body, checks a large body's token and refuses trailing data.
func BenchmarkJSONDepth(b *testing.B) {
	for _, n := range benchAnswerCounts {
		body := saveBody(b, n)
		// Journey, data, step: the guard must see three levels.
		if got := jsonDepth(body); got != 3 {
			b.Fatalf("jsonDepth = %d, want 3", got)
		}
		b.Run("part=scan/answers="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				jsonDepth(body)
			}
		})
		b.Run("part=middleware/answers="+strconv.Itoa(n), func(b *testing.B) {
			passed := 0
			// The 200 answers are over unauthenticatedBodyBytes: their
			// token is checked first, as the website's is.
			tokens, entries := auth.DevTokens()
			h := readBody(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				passed++
				// What the gateway does with the body next.
				_, _ = io.Copy(io.Discard, r.Body)
			}), tokens, time.Minute)
			r := httptest.NewRequest(http.MethodPatch, "/v1/"+benchJourneyName, nil)
			r.ContentLength = int64(len(body))
			r.Header.Set("Authorization", "Bearer "+entries[0].Token)
			w := httptest.NewRecorder()
			rd := bytes.NewReader(body)
			serve := func() {
				rd.Reset(body)
				r.Body = io.NopCloser(rd)
				h.ServeHTTP(w, r)
			}
			serve()
			if passed != 1 || w.Code != http.StatusOK {
				b.Fatalf("the guard refused a %d-byte body of depth 3: status %d", len(body), w.Code)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}
