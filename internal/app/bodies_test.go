package app_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/journeyhandoff/handoff/internal/config"
)

// bodyReadTimeout is the --body-read-timeout of these tests, shorter than
// the default so that they wait less.
const bodyReadTimeout = time.Second

func TestASlowBodyIsCutOffAndALargeOneIsReadOnlyFromAnAuthenticatedCaller(t *testing.T) {
	h := start(t, redisStore, func(c *config.Config) { c.BodyReadTimeout = bodyReadTimeout })
	j := newJourney(t, h, "c-42")
	path := "/v1/" + j.GetName()

	// Each request sends its headers, then one byte of body a second.
	tests := []struct {
		name    string
		headers string
		status  int
		code    codes.Code
		// The answer comes no sooner than after and no later than within
		// once the headers are sent, and the connection closes right after.
		after, within time.Duration
	}{
		{"a_large_body_without_a_token_gets_401_before_it_is_read",
			"Content-Length: 262144\r\n", http.StatusUnauthorized, codes.Unauthenticated, 0, 2 * time.Second},
		{"a_large_body_with_a_bad_token_gets_401_before_it_is_read",
			"Content-Length: 262144\r\nAuthorization: Bearer not-a-token\r\n", http.StatusUnauthorized, codes.Unauthenticated, 0, 2 * time.Second},
		{"a_chunked_body_without_a_token_gets_401_before_it_is_read",
			"Transfer-Encoding: chunked\r\n", http.StatusUnauthorized, codes.Unauthenticated, 0, 2 * time.Second},
		{"a_slow_large_body_with_a_token_gets_408_after_the_read_timeout",
			"Content-Length: 262144\r\nAuthorization: Bearer " + websiteToken + "\r\n", http.StatusRequestTimeout, codes.DeadlineExceeded,
			bodyReadTimeout - 100*time.Millisecond, bodyReadTimeout + 1500*time.Millisecond},
		{"a_slow_small_body_without_a_token_gets_408_after_the_read_timeout",
			"Content-Length: 100\r\n", http.StatusRequestTimeout, codes.DeadlineExceeded,
			bodyReadTimeout - 100*time.Millisecond, bodyReadTimeout + 1500*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", h.app.HTTPAddr())
			require.NoError(t, err)
			defer conn.Close()
			_, err = fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: handoff\r\nContent-Type: application/json\r\n%s\r\n", path, tt.headers)
			require.NoError(t, err)
			sent := time.Now()
			go func() {
				unit := " "
				if strings.Contains(tt.headers, "chunked") {
					unit = "1\r\n \r\n"
				}
				for {
					if _, err := io.WriteString(conn, unit); err != nil {
						return // the server closed it, or the test ended
					}
					time.Sleep(time.Second)
				}
			}()

			require.NoError(t, conn.SetReadDeadline(time.Now().Add(tt.within+2*time.Second)))
			rd := bufio.NewReader(conn)
			resp, err := http.ReadResponse(rd, nil)
			require.NoError(t, err, "no answer")
			took := time.Since(sent)
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode, "%s", raw)
			var st struct{ Code codes.Code }
			require.NoError(t, json.Unmarshal(raw, &st), "%s", raw)
			require.Equal(t, tt.code, st.Code, "%s", raw)
			require.GreaterOrEqual(t, took, tt.after)
			require.LessOrEqual(t, took, tt.within)

			// Closed: an end of stream, or a reset when the server closed it
			// with body bytes still unread.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
			_, err = rd.ReadByte()
			require.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "the connection stays open: %v", err)
		})
	}

	t.Run("a_large_save_with_a_token_is_saved", func(t *testing.T) {
		notes := strings.Repeat("x", 10<<10)
		status, body := h.rest(t, http.MethodPatch, path, websiteToken, map[string]any{"data": map[string]any{"notes": notes}})
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, notes, body["data"].(map[string]any)["notes"])
	})
	t.Run("a_chunked_save_with_a_token_is_saved", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPatch, h.base+path, strings.NewReader(`{"data": {"chunked": true}}`))
		require.NoError(t, err)
		req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
		req.Header.Set("Authorization", "Bearer "+websiteToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	})
	t.Run("an_open_watch_outlives_the_read_timeout", func(t *testing.T) {
		req, err := newRequest(t.Context(), h.base+path+":watch", aliceToken)
		require.NoError(t, err)
		resp, err := httpClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		lines := bufio.NewScanner(resp.Body)
		lines.Buffer(nil, 1<<20)
		require.True(t, lines.Scan(), "the journey as it is: %v", lines.Err())

		time.Sleep(2 * bodyReadTimeout)
		require.NoError(t, saveAnswer(as(t, websiteToken), h.api, j.GetName(), "later", "still watched"))
		require.True(t, lines.Scan(), "the change after the read timeout: %v", lines.Err())
		require.Contains(t, lines.Text(), "still watched")
	})
}
