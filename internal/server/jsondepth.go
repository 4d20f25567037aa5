package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// maxJSONDepth bounds how deeply a request body may nest. Deeper bodies are
// refused before decoding: the gateway would decode them, but the gRPC
// server's protobuf decoder stops at its recursion limit and the client
// would get an INTERNAL error instead of a clear INVALID_ARGUMENT. The
// service holds answers to a tighter depth still.
const maxJSONDepth = 64

// limitJSONDepth refuses request bodies nested deeper than maxJSONDepth, or
// with anything but whitespace after their JSON value.
func limitJSONDepth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			// Too large, or the client went away: let the gateway say so.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
			next.ServeHTTP(w, r)
			return
		}
		if jsonDepth(body) > maxJSONDepth {
			writeStatus(w, http.StatusBadRequest, invalidBody("the JSON body nests deeper than 64 levels"))
			return
		}
		if trailingData(body) {
			writeStatus(w, http.StatusBadRequest, invalidBody("data follows the end of the JSON value; send exactly one JSON object"))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
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

func invalidBody(desc string) *status.Status {
	return badRequest("body: "+desc, &errdetails.BadRequest_FieldViolation{Field: "body", Description: desc})
}

// writeStatus answers as the gateway's error handler does: the status as
// JSON, with its details.
func writeStatus(w http.ResponseWriter, httpCode int, st *status.Status) {
	b, _ := protojson.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCode)
	_, _ = w.Write(b)
}
