package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHandler_servesPagesAndKit(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/", "text/html", "Agent console"},
		{"/console", "text/html", `src="/console/console.js"`},
		{"/console/", "text/html", `src="/console/console.js"`},
		{"/console/console.js", "text/javascript", "redeem"},
		{"/demo", "text/html", `src="/demo/demo.js"`},
		{"/demo/demo.css", "text/css", ".code"},
		{"/demo/fields.js", "text/javascript", "export function fieldEl"},
		{"/sdk/handoff.js", "text/javascript", "export class JourneySession"},
		{"/forms/forms.js", "text/javascript", "export function loadForm"},
		{"/console/reveal.js", "text/javascript", "export function openReveal"},
		{"/assets/base.css", "text/css", ":root"},
	} {
		t.Run(strings.Trim(strings.ReplaceAll(tc.path, "/", "_"), "_"), func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			require.Equal(t, http.StatusOK, rec.Code)
			require.Contains(t, rec.Header().Get("Content-Type"), tc.contentType)
			require.Contains(t, rec.Body.String(), tc.contains)
			require.Contains(t, rec.Header().Get("Content-Security-Policy"), "script-src 'self'")
			require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			require.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
			require.NotEmpty(t, rec.Header().Get("ETag"))
		})
	}
}

func TestHandler_revalidatesWithETag(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sdk/handoff.js", nil))
	require.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"), "the kit can be imported from the website's own origin")
	req := httptest.NewRequest(http.MethodGet, "/sdk/handoff.js", nil)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNotModified, rec.Code)
}

func TestHandler_refusesEverythingElse(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/nope", "/console/missing.js", "/static/sdk/handoff.js", "/demo/../web.go", "/sdk/", "/v1",
		// Forms are drawn from the journey types the server keeps, not from files here.
		"/forms/car-insurance-quote.js"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusNotFound, rec.Code, path)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/console", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

// The pages must run under the Content-Security-Policy above: no inline
// scripts, styles or event handlers.
func TestFiles_haveNoInlineScriptOrStyle(t *testing.T) {
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle="|\son[a-z]+="`)
	external := regexp.MustCompile(`<script[^>]*\ssrc="/`)
	err := fs.WalkDir(Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := fs.ReadFile(Files, p)
		require.NoError(t, err)
		require.NotRegexp(t, inline, string(b), p)
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(string(b), -1) {
			require.Regexp(t, external, tag, "%s: scripts come from this origin", p)
		}
		return nil
	})
	require.NoError(t, err)
}
