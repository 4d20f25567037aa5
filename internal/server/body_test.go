package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/journeyhandoff/handoff/internal/auth"
)

func TestJSONDepth(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{"a_flat_object_is_one_deep", `{"a":1}`, 1},
		{"nested_objects_and_arrays_count", `{"a":[{"b":[1]}]}`, 4},
		{"brackets_inside_strings_do_not_count", `{"a":"{[{[{["}`, 1},
		{"escaped_quotes_do_not_end_a_string", `{"a":"\"{{{"}`, 1},
		{"a_hostile_body_is_measured", strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000), 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jsonDepth([]byte(tt.body)); got != tt.want {
				t.Fatalf("jsonDepth = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTrailingData(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"one_object_has_none", `{"a":1}`, false},
		{"whitespace_after_the_object_is_none", "{\"a\":1} \t\r\n", false},
		{"a_second_object_is_trailing_data", `{"a":1}{"b":2}`, true},
		{"a_second_object_after_a_newline_is_trailing_data", "{\"a\":1}\n{\"b\":2}", true},
		{"garbage_after_the_object_is_trailing_data", `{"a":1} garbage`, true},
		{"a_stray_closing_brace_is_trailing_data", `{"a":1}}`, true},
		{"a_form_feed_is_not_json_whitespace", "{\"a\":1}\f", true},
		{"an_object_after_null_is_trailing_data", `null {"a":1}`, true},
		{"a_malformed_body_is_left_to_the_gateway", `{"a": `, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trailingData([]byte(tt.body)); got != tt.want {
				t.Fatalf("trailingData = %v, want %v", got, tt.want)
			}
		})
	}
}

// authFunc is an Authenticator made of a function.
type authFunc func(ctx context.Context, token string) (auth.Principal, error)

func (f authFunc) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	return f(ctx, token)
}

func TestALargeBodyIsReadOnlyAfterItsTokenChecksOut(t *testing.T) {
	tokens, entries := auth.DevTokens()
	good := "Bearer " + entries[0].Token
	unreachable := authFunc(func(context.Context, string) (auth.Principal, error) {
		return auth.Principal{}, errors.New("the identity provider does not answer")
	})
	small, large := `{"step": "cover"}`, `{"step": "`+strings.Repeat("x", unauthenticatedBodyBytes)+`"}`
	tests := []struct {
		name          string
		body          string
		contentLength int64 // -1: unknown (chunked)
		authorization string
		authn         auth.Authenticator
		want          int // the status, 200 when the body went on to the gateway
	}{
		{"a_small_body_without_a_token_goes_on_to_the_grpc_server_s_check", small, int64(len(small)), "", tokens, http.StatusOK},
		{"a_body_of_the_limit_without_a_token_goes_on", strings.Repeat(" ", unauthenticatedBodyBytes-2) + "{}", unauthenticatedBodyBytes, "", tokens, http.StatusOK},
		{"a_large_body_without_a_token_is_401", large, int64(len(large)), "", tokens, http.StatusUnauthorized},
		{"a_large_body_with_an_unknown_token_is_401", large, int64(len(large)), "Bearer nope", tokens, http.StatusUnauthorized},
		{"a_chunked_body_without_a_token_is_401", small, -1, "", tokens, http.StatusUnauthorized},
		{"a_large_body_with_a_good_token_goes_on", large, int64(len(large)), good, tokens, http.StatusOK},
		{"a_chunked_body_with_a_good_token_goes_on", small, -1, good, tokens, http.StatusOK},
		{"a_token_that_cannot_be_checked_is_503_as_over_grpc", large, int64(len(large)), good, unreachable, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := readBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
			}), tt.authn, time.Minute)
			body := &countingReader{r: strings.NewReader(tt.body)}
			r := httptest.NewRequest(http.MethodPatch, "/v1/customers/c-42/journeys/j", body)
			r.ContentLength = tt.contentLength
			if tt.authorization != "" {
				r.Header.Set("Authorization", tt.authorization)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.want != http.StatusOK && body.n > 0 {
				t.Fatalf("%d bytes of the refused body were read", body.n)
			}
		})
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
