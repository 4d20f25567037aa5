package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/auth"
)

// maxJSONDepth bounds how deeply a request body may nest. Deeper bodies are
// refused before decoding: the gateway would decode them, but the gRPC
// server's protobuf decoder stops at its recursion limit and the client
// would get an INTERNAL error instead of a clear INVALID_ARGUMENT. The
// service holds answers to a tighter depth still.
const maxJSONDepth = 64

// unauthenticatedBodyBytes is the largest body read before its sender's
// bearer token is checked. Anyone can send a body, and one that arrives
// slowly holds a connection and, as it comes, memory: a larger one, or one
// of unknown length (chunked), is read only from a caller whose token is
// good, and anyone else gets 401 at once. Most saves are smaller, so their
// token is checked once, by the gRPC server.
const unauthenticatedBodyBytes = 4 << 10

// readBody reads each /v1/ request body in full before the gateway sees it:
// a large one only from an authenticated caller (authn checks the token as
// the gRPC server will), any within timeout (else 408), and each checked
// for what the gateway's decoder lets through: nesting deeper than
// maxJSONDepth, and data after the JSON value.
//
// The time limit is a read deadline on this request alone, cleared once the
// body is in. http.Server.ReadTimeout would bound bodies too, but its
// deadline stays on the connection while the handler runs: the server's
// background read (its watch for a client that went away) then fails and
// cancels the request, so every watch stream would end after the timeout.
func readBody(next http.Handler, authn auth.Authenticator, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength < 0 || r.ContentLength > unauthenticatedBodyBytes {
			if _, err := auth.Authenticate(r.Context(), authn, r.Header.Values("Authorization")); err != nil {
				st := status.Convert(err)
				refuseUnread(w, r, httpStatus(st), st)
				return
			}
		}
		rc := http.NewResponseController(w)
		// Every ResponseWriter net/http gives a handler supports deadlines.
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
		body, err := io.ReadAll(r.Body)
		_ = rc.SetReadDeadline(time.Time{})
		var netErr net.Error
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			// 413, as HTTP says; the rest of the body is not read.
			refuseUnread(w, r, http.StatusRequestEntityTooLarge, invalidBody("BODY_TOO_LARGE", "larger than the server's limit (--max-body-bytes)"))
			return
		case errors.As(err, &netErr) && netErr.Timeout():
			refuseUnread(w, r, http.StatusRequestTimeout, status.Newf(codes.DeadlineExceeded,
				"the request body did not arrive within the server's limit (--body-read-timeout, %s)", timeout))
			return
		case err != nil:
			// Too large, or the client went away: let the gateway say so.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
			next.ServeHTTP(w, r)
			return
		case jsonDepth(body) > maxJSONDepth:
			writeStatus(w, http.StatusBadRequest, invalidBody("BODY_TOO_DEEP", "the JSON body nests deeper than 64 levels"))
			return
		case trailingData(body):
			writeStatus(w, http.StatusBadRequest, invalidBody("DATA_AFTER_JSON", "data follows the end of the JSON value; send exactly one JSON object"))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// refuseUnread answers a request whose body was not read in full, and
// reads no more of it. After the handler, net/http reads up to 256 KiB of
// what is left, at the client's pace, hoping to use the connection again,
// even one it is about to close: a read deadline in the past makes that
// fail at once. Over HTTP/1 the connection is then closed, since the rest
// of the body is still on it; an HTTP/2 stream ends alone, leaving the
// other streams of its connection be.
func refuseUnread(w http.ResponseWriter, r *http.Request, httpCode int, st *status.Status) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0))
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
	writeStatus(w, httpCode, st)
}

// trailingData reports whether b holds anything but whitespace after its
// first JSON value. The gateway decodes one value and ignores the rest, so
// `{…}{…}` would save the first object and answer 200. A body whose first
// value does not parse is left to the gateway, which says where it broke.
// Run it after the depth check: the decoder gives up on deep nesting with
// an error of its own.
func trailingData(b []byte) bool {
	// One scan without allocating passes every well-formed body; only a
	// bad one pays for the decoder (about four times the cost) to tell
	// trailing data from a body the gateway will refuse anyway.
	if json.Valid(b) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return false
	}
	return len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// jsonDepth is the deepest nesting of objects and arrays in b, reading
// strings (and their escapes) as opaque.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func invalidBody(reason, desc string) *status.Status {
	return status.Convert(apierr.BadRequest("body: "+desc, &errdetails.BadRequest_FieldViolation{Field: "body", Reason: reason, Description: desc}))
}

// writeStatus answers as the gateway's error handler does: the status as
// JSON, with its details.
func writeStatus(w http.ResponseWriter, httpCode int, st *status.Status) {
	b, _ := protojson.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCode)
	_, _ = w.Write(b)
}
