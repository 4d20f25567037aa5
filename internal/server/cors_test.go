package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestCrossOriginRequests(t *testing.T) {
	const shop, other = "https://shop.example.com", "https://evil.example.net"
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	handler := func(origins ...string) http.Handler {
		return NewHTTPHandler(HTTPOptions{API: api, Web: api, Gatherer: prometheus.NewRegistry(), Limits: DefaultRequestLimits(), CORSAllowedOrigins: origins})
	}
	preflight := func(origin, method, headers string) *http.Request {
		r := httptest.NewRequest(http.MethodOptions, "/v1/customers/c-42/journeys/j", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", method)
		r.Header.Set("Access-Control-Request-Headers", headers)
		return r
	}
	get := func(origin, path string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Origin", origin)
		return r
	}
	kitHeaders := "authorization,content-type,x-handoff-channel,x-handoff-channel-detail"

	for _, tc := range []struct {
		name        string
		handler     http.Handler
		req         *http.Request
		allowOrigin string // "" : none
		check       func(t *testing.T, h http.Header)
	}{
		{
			name: "a_listed_origin's_preflight_of_a_save_with_the_kit's_headers_is_allowed", handler: handler(shop),
			req: preflight(shop, http.MethodPatch, kitHeaders), allowOrigin: shop,
			check: func(t *testing.T, h http.Header) {
				require.Contains(t, h.Get("Access-Control-Allow-Methods"), http.MethodPatch)
				allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
				for _, header := range strings.Split(kitHeaders, ",") {
					require.Contains(t, allowed, header)
				}
				require.Empty(t, h.Get("Access-Control-Allow-Credentials"), "tokens, not cookies, authenticate")
			},
		},
		{name: "a_listed_origin's_preflight_of_an_erasure_is_allowed", handler: handler(shop), req: preflight(shop, http.MethodDelete, "authorization"), allowOrigin: shop},
		{name: "a_listed_origin's_read_of_the_api_is_allowed", handler: handler(shop), req: get(shop, "/v1/customers/c-42/journeys/j"), allowOrigin: shop,
			check: func(t *testing.T, h http.Header) { require.Contains(t, h.Values("Vary"), "Origin") }},
		{name: "a_listed_origin_may_load_the_website_kit", handler: handler(shop), req: get(shop, "/sdk/handoff.js"), allowOrigin: shop},
		{name: "another_origin's_preflight_is_not_allowed", handler: handler(shop), req: preflight(other, http.MethodPatch, kitHeaders)},
		{name: "another_origin's_read_is_not_allowed", handler: handler(shop), req: get(other, "/v1/customers/c-42/journeys/j")},
		{name: "a_preflight_of_a_method_the_api_does_not_take_is_not_allowed", handler: handler(shop), req: preflight(shop, http.MethodPut, "authorization")},
		{name: "a_preflight_of_a_header_the_kit_does_not_send_is_not_allowed", handler: handler(shop), req: preflight(shop, http.MethodPatch, "x-other")},
		{name: "by_default_no_origin_is_allowed", handler: handler(), req: preflight(shop, http.MethodPatch, kitHeaders),
			check: func(t *testing.T, h http.Header) { require.Empty(t, h.Get("Access-Control-Allow-Methods")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.handler.ServeHTTP(w, tc.req)
			require.Equal(t, tc.allowOrigin, w.Header().Get("Access-Control-Allow-Origin"))
			if tc.check != nil {
				tc.check(t, w.Header())
			}
		})
	}
}
