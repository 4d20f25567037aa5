package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// WatchAcceptedHeader is the response header a watch sends once accepted.
// A refused watch ends trailers-only, and grpc-go then still reports
// (empty) headers, so the header's presence is what tells them apart.
const WatchAcceptedHeader = "x-handoff-watch"

// sseHeartbeat keeps proxies from closing a quiet event stream.
const sseHeartbeat = 15 * time.Second

// WithServerSentEvents serves `GET /v1/{journey}:watch` with
// `Accept: text/event-stream` as Server-Sent Events, for browsers'
// EventSource; every other request goes to next (the gateway, which streams
// the same watch as newline-delimited JSON). The events come from our own
// gRPC server over conn, so auth, validation and logging apply as to any
// call. Each event's id is the journey revision, so EventSource's automatic
// Last-Event-ID resumes exactly after the last change seen.
func WithServerSentEvents(next http.Handler, conn grpc.ClientConnInterface) http.Handler {
	client := handoffv1.NewJourneyServiceClient(conn)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v1/"), ":watch")
		if r.Method != http.MethodGet || !ok || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		serveEvents(w, r, client, name)
	})
}

func serveEvents(w http.ResponseWriter, r *http.Request, client handoffv1.JourneyServiceClient, name string) {
	after, err := resumeRevision(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	md := metadata.MD{}
	for _, h := range []string{"Authorization", "X-Request-Id", "X-Handoff-Channel", "X-Handoff-Channel-Detail"} {
		if v := r.Header.Get(h); v != "" {
			md.Set(strings.ToLower(h), v)
		}
	}
	// EventSource cannot set headers; a browser passes its token as a query
	// parameter instead (over TLS only, in production).
	if tok := r.URL.Query().Get("access_token"); tok != "" && md.Get("authorization") == nil {
		md.Set("authorization", "Bearer "+tok)
	}
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(r.Context(), metadata.Join(md, gatewayMetadata(r.Context()))))
	defer cancel()
	stream, err := client.WatchJourney(ctx, &handoffv1.WatchJourneyRequest{Name: name, AfterRevision: after})
	if err != nil {
		writeStatusEvent(w, err)
		return
	}
	// The service sends headers once it has accepted the watch, so a refused
	// one gets a real HTTP status instead of a 200 event stream, and an
	// accepted one gets its headers at once even when nothing changes.
	if md, err := stream.Header(); err != nil || len(md.Get(WatchAcceptedHeader)) == 0 {
		if err == nil {
			_, err = stream.Recv() // the stream ended without headers: its status
		}
		st := status.Convert(err)
		http.Error(w, st.Message(), httpStatus(st))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	_, _ = fmt.Fprint(w, "retry: 2000\n\n")

	msgs := make(chan *handoffv1.JourneyChange)
	errc := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				errc <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	var next *handoffv1.JourneyChange
	for {
		if next != nil {
			if err := writeChange(w, next); err != nil {
				return
			}
			next = nil
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case next = <-msgs:
		case err := <-errc:
			writeStatusEvent(w, err)
			_ = rc.Flush()
			return
		case <-heartbeat.C:
			_, _ = fmt.Fprint(w, ": keep-alive\n\n")
		case <-r.Context().Done():
			return
		}
	}
}

// resumeRevision reads Last-Event-ID (sent by EventSource on reconnect) or
// the after_revision query parameter.
func resumeRevision(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after_revision")
	}
	if v == "" {
		v = r.URL.Query().Get("afterRevision")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("after_revision (or Last-Event-ID) %q is not a revision: use the id of the last event received", v)
	}
	return n, nil
}

var eventJSON = protojson.MarshalOptions{EmitUnpopulated: true}

func writeChange(w http.ResponseWriter, c *handoffv1.JourneyChange) error {
	b, err := eventJSON.Marshal(c)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", c.GetRevision(), b)
	return err
}

// writeStatusEvent ends the stream with an `error` event carrying the gRPC
// status (code, message, details), e.g. "reconnect with after_revision=N".
func writeStatusEvent(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	b, _ := protojson.Marshal(st.Proto()) // without empty fields, as errorMarshaler
	_, _ = fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
}

func httpStatus(st *status.Status) int { return runtime.HTTPStatusFromCode(st.Code()) }
