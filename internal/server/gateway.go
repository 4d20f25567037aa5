package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/tracing"
)

// forwardedHeaders are the HTTP headers the gateway passes to gRPC besides
// the standard ones (Authorization among them). No others: a REST caller
// must not set metadata the gRPC server believes only from the gateway
// (gatewayMetadata).
var forwardedHeaders = map[string]bool{
	"x-request-id":             true,
	"x-handoff-channel":        true,
	"x-handoff-channel-detail": true,
}

// NewGateway returns the REST API handler and the connection it uses. It
// dials our own gRPC server instead of calling the service in process, so
// every interceptor (auth, validation, logging, metrics) applies to REST
// exactly as to gRPC. With tlsCfg (nil when the gRPC server is plaintext) it
// dials over TLS, trusting only the server's own certificate.
func NewGateway(ctx context.Context, grpcAddr string, maxMsgBytes int, tlsCfg *TLS, traces *tracing.Tracing) (http.Handler, *grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg.gateway.Clone())
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgBytes), grpc.MaxCallSendMsgSize(maxMsgBytes)),
	}
	if traces != nil && traces.Enabled {
		// The REST request's span is the parent of the gRPC call's.
		dial = append(dial, grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(traces.Provider), otelgrpc.WithPropagators(traces.Propagator))))
	}
	conn, err := grpc.NewClient(grpcAddr, dial...)
	if err != nil {
		return nil, nil, fmt.Errorf("dialing the gRPC server at %s for the gateway: %w", grpcAddr, err)
	}
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions: protojson.MarshalOptions{EmitUnpopulated: true},
			// Unknown fields are refused: a typo in a field name must not
			// silently drop a customer's answer.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			if k := strings.ToLower(key); forwardedHeaders[k] {
				return k, true
			}
			return runtime.DefaultHeaderMatcher(key)
		}),
		runtime.WithOutgoingHeaderMatcher(func(key string) (string, bool) {
			if key == RequestIDHeader {
				return "X-Request-Id", true
			}
			return "", false
		}),
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD { return gatewayMetadata(r.Context()) }),
		runtime.WithErrorHandler(errorHandler),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
	)
	if err := handoffv1.RegisterJourneyServiceHandler(ctx, mux, conn); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("registering the REST gateway: %w", err)
	}
	if err := handoffv1.RegisterJourneyTypeServiceHandler(ctx, mux, conn); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("registering the REST gateway: %w", err)
	}
	if err := handoffv1.RegisterIdentityServiceHandler(ctx, mux, conn); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("registering the REST gateway: %w", err)
	}
	return mux, conn, nil
}

// routingErrorHandler answers a known path called with a method it does
// not serve with 405, as HTTP says (grpc-gateway's default answers 501, as
// for a method the server does not implement at all); everything else as
// grpc-gateway does.
func routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus == http.StatusMethodNotAllowed {
		writeStatus(w, http.StatusMethodNotAllowed, status.Newf(codes.Unimplemented, "%s is not a method of %s; see /openapi.json for what each path takes", r.Method, r.URL.Path))
		return
	}
	runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
}

// fieldInDecodeError finds the field a JSON or query decoding error is
// about, e.g. `invalid value for string field step` or `parsing field "page_size"`.
var fieldInDecodeError = regexp.MustCompile(`(?:field "?([A-Za-z_][A-Za-z0-9_.]*)"?)`)

// errorHandler adds a google.rpc.BadRequest to the gateway's own decoding
// errors (malformed JSON, a wrong-type field, a bad query parameter), which
// grpc-gateway reports as a bare INVALID_ARGUMENT, so REST clients get the
// same field violations whichever layer refused their input.
func errorHandler(ctx context.Context, mux *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) || strings.Contains(err.Error(), "http: request body too large") {
		writeStatus(w, http.StatusRequestEntityTooLarge, invalidBody("BODY_TOO_LARGE", "larger than the server's limit (--max-body-bytes)"))
		return
	}
	st, ok := status.FromError(err)
	if ok && st.Code() == codes.InvalidArgument && len(st.Details()) == 0 {
		field, reason := "body", "INVALID_JSON"
		if m := fieldInDecodeError.FindStringSubmatch(st.Message()); m != nil {
			field, reason = m[1], "INVALID_VALUE"
		}
		if strings.Contains(st.Message(), "unknown field") {
			reason = "UNKNOWN_FIELD"
		}
		desc := strings.TrimPrefix(st.Message(), "proto: ")
		err = apierr.BadRequest(field+": "+desc, &errdetails.BadRequest_FieldViolation{Field: field, Reason: reason, Description: desc})
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, errorMarshaler, w, r, err)
}

// errorMarshaler writes error bodies without empty fields: a field
// violation has no localized message, and null would say it might.
var errorMarshaler = &runtime.JSONPb{}
