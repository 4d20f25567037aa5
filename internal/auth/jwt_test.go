package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

func TestJWKSAuthenticator_accepts_good_tokens(t *testing.T) {
	k := keys()
	a := newJWKSAuth(t, newJWKSServer(t, k.rsa1, k.ec1), testJWTConfig())
	alice := auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT, DisplayName: "Alice"}
	now := time.Now()

	tests := []struct {
		name  string
		token func(t *testing.T) string
		want  auth.Principal
	}{
		{"rs256_token_maps_claims_to_the_principal", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims())
		}, alice},
		{"es256_token", func(t *testing.T) string {
			return signWith(t, jwa.ES256(), k.ec1, goodClaims())
		}, alice},
		{"customer_id_from_sub", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("sub", "c-42", "role", "customer", "name", nil))
		}, auth.Principal{ID: "c-42", Role: handoffv1.Role_ROLE_CUSTOMER}},
		{"every_role", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("sub", "root", "role", "admin"))
		}, auth.Principal{ID: "root", Role: handoffv1.Role_ROLE_ADMIN, DisplayName: "Alice"}},
		{"name_that_is_not_a_string_is_no_display_name", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("name", 7))
		}, auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT}},
		{"token_without_kid_is_checked_against_every_key", func(t *testing.T) string {
			return sign(t, jwa.ES256(), k.ec1.priv, "", goodClaims())
		}, alice},
		{"one_of_several_audiences", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("aud", []string{"crm", testAudience}))
		}, alice},
		{"expired_within_the_clock_skew", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("exp", now.Add(-10*time.Second).Unix()))
		}, alice},
		{"not_yet_valid_within_the_clock_skew", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("nbf", now.Add(10*time.Second).Unix()))
		}, alice},
		{"valid_since_a_minute", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("nbf", now.Add(-time.Minute).Unix()))
		}, alice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Authenticate(t.Context(), tt.token(t))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestJWKSAuthenticator_refuses_bad_tokens(t *testing.T) {
	k := keys()
	a := newJWKSAuth(t, newJWKSServer(t, k.rsa1, k.ec1), testJWTConfig())
	now := time.Now()
	good := func(t *testing.T) string { return signWith(t, jwa.RS256(), k.rsa1, goodClaims()) }

	tests := []struct {
		name  string
		why   string // in the error, so the case fails for its own reason
		token func(t *testing.T) string
	}{
		{"forged_signature", "signature does not verify", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.mallory, goodClaims())
		}},
		{"payload_changed_after_signing", "signature does not verify", func(t *testing.T) string {
			parts := strings.Split(good(t), ".")
			parts[1] = base64.RawURLEncoding.EncodeToString(goodClaims().with("role", "admin").payload(t))
			return strings.Join(parts, ".")
		}},
		{"signature_removed", "not a compact JWS", func(t *testing.T) string {
			parts := strings.Split(good(t), ".")
			return parts[0] + "." + parts[1] + "."
		}},
		{"expired_token", "token expired", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("exp", now.Add(-2*time.Minute).Unix()))
		}},
		{"not_yet_valid_token", "not valid yet", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("nbf", now.Add(2*time.Minute).Unix()))
		}},
		{"issued_in_the_future", "issued in the future", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("iat", now.Add(2*time.Minute).Unix()))
		}},
		{"token_without_exp", "required claim missing", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("exp", nil))
		}},
		{"wrong_audience", "wrong audience", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("aud", "crm"))
		}},
		{"no_audience", "wrong audience", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("aud", nil))
		}},
		{"wrong_issuer", "wrong issuer", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("iss", "https://evil.example.com/"))
		}},
		{"alg_none", "algorithm is not one of", func(t *testing.T) string {
			return unsigned(t, map[string]any{"alg": "none", "typ": "JWT"}, goodClaims())
		}},
		{"alg_none_with_a_known_kid", "algorithm is not one of", func(t *testing.T) string {
			return unsigned(t, map[string]any{"alg": "none", "kid": "rsa-1"}, goodClaims())
		}},
		{"alg_none_in_other_case", "not a compact JWS", func(t *testing.T) string {
			return unsigned(t, map[string]any{"alg": "None", "kid": "rsa-1"}, goodClaims())
		}},
		{"hs256_signed_with_the_rsa_public_key", "algorithm is not one of", func(t *testing.T) string {
			// The classic confusion: the public key, which anyone can read
			// from the JWKS, used as the HMAC secret.
			der, err := x509.MarshalPKIXPublicKey(k.rsa1.priv.Public())
			require.NoError(t, err)
			return sign(t, jwa.HS256(), der, "rsa-1", goodClaims())
		}},
		{"hs256_signed_by_hand_with_the_rsa_public_key", "algorithm is not one of", func(t *testing.T) string {
			der, err := x509.MarshalPKIXPublicKey(k.rsa1.priv.Public())
			require.NoError(t, err)
			enc := base64.RawURLEncoding
			input := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"rsa-1"}`)) + "." + enc.EncodeToString(goodClaims().payload(t))
			mac := hmac.New(sha256.New, der)
			mac.Write([]byte(input))
			return input + "." + enc.EncodeToString(mac.Sum(nil))
		}},
		{"algorithm_not_configured", "algorithm is not one of", func(t *testing.T) string {
			return signWith(t, jwa.RS512(), k.rsa1, goodClaims())
		}},
		{"es256_header_on_an_rsa_kid", "no ES256 key with the token's kid", func(t *testing.T) string {
			return sign(t, jwa.ES256(), k.ec1.priv, "rsa-1", goodClaims())
		}},
		{"unknown_kid", "no RS256 key with the token's kid", func(t *testing.T) string {
			return sign(t, jwa.RS256(), k.mallory.priv, "rsa-9", goodClaims())
		}},
		{"role_missing", `claim "role" is missing`, func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("role", nil))
		}},
		{"role_unknown", `claim "role" is not customer`, func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("role", "superuser"))
		}},
		{"role_in_the_wrong_case", `claim "role" is not customer`, func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("role", "Agent"))
		}},
		{"role_that_is_a_list", `claim "role" is missing or not a string`, func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("role", []string{"agent"}))
		}},
		{"id_missing", `claim "sub" is missing`, func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("sub", nil))
		}},
		{"id_empty", `claim "sub" is missing, empty`, func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("sub", ""))
		}},
		{"empty_token", "not a compact JWS", func(*testing.T) string { return "" }},
		{"not_a_jwt", "not a compact JWS", func(*testing.T) string { return "alice-secret" }},
		{"three_dots_of_garbage", "not a compact JWS", func(*testing.T) string { return "a.b.c" }},
		{"json_serialization", "not a compact JWS", func(t *testing.T) string {
			parts := strings.Split(good(t), ".")
			return `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`
		}},
		{"huge_token", "longer than 16384 bytes", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("pad", strings.Repeat("x", 20<<10)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token(t)
			p, err := a.Authenticate(t.Context(), token)
			requireUnauthenticated(t, token, p, err)
			require.ErrorContains(t, err, tt.why)
		})
	}
}

func TestJWKSAuthenticator_follows_key_rotation_without_a_restart(t *testing.T) {
	k := keys()
	idp := newJWKSServer(t, k.rsa1)
	a := newJWKSAuth(t, idp, testJWTConfig())
	oldToken := signWith(t, jwa.RS256(), k.rsa1, goodClaims())
	newToken := signWith(t, jwa.RS256(), k.rsa2, goodClaims())

	_, err := a.Authenticate(t.Context(), oldToken)
	require.NoError(t, err, "the key in the JWKS works")

	idp.serve(k.rsa2)

	p, err := a.Authenticate(t.Context(), newToken)
	require.NoError(t, err, "a rotated-in key works at once: its unknown kid fetches the JWKS again")
	require.Equal(t, "alice", p.ID)
	p, err = a.Authenticate(t.Context(), oldToken)
	requireUnauthenticated(t, oldToken, p, err)
	require.EqualValues(t, 2, idp.hits.Load(), "one fetch at start, one for the new kid")
}

func TestJWKSAuthenticator_drops_a_rotated_out_key_at_the_next_refresh(t *testing.T) {
	t.Parallel()
	k := keys()
	idp := newJWKSServer(t, k.rsa1)
	a := newJWKSAuth(t, idp, testJWTConfig(), auth.WithJWKSRefresh(time.Second))
	oldToken := signWith(t, jwa.RS256(), k.rsa1, goodClaims())
	_, err := a.Authenticate(t.Context(), oldToken)
	require.NoError(t, err)

	// No token with a new kid arrives: only the periodic refresh, which
	// ignores the JWKS response's max-age of a day, can notice.
	idp.serve(k.rsa2)

	require.Eventually(t, func() bool {
		_, err := a.Authenticate(t.Context(), oldToken)
		return err != nil
	}, 5*time.Second, 20*time.Millisecond, "the rotated-out key still works")
	p, err := a.Authenticate(t.Context(), oldToken)
	requireUnauthenticated(t, oldToken, p, err)
	_, err = a.Authenticate(t.Context(), signWith(t, jwa.RS256(), k.rsa2, goodClaims()))
	require.NoError(t, err)
}

func TestJWKSAuthenticator_unknown_kids_cannot_flood_the_identity_provider(t *testing.T) {
	k := keys()
	idp := newJWKSServer(t, k.rsa1)
	a := newJWKSAuth(t, idp, testJWTConfig())

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			token := sign(t, jwa.RS256(), k.mallory.priv, "made-up-"+string(rune('a'+i%26)), goodClaims())
			p, err := a.Authenticate(t.Context(), token)
			requireUnauthenticated(t, token, p, err)
		})
	}
	wg.Wait()
	require.EqualValues(t, 2, idp.hits.Load(), "one fetch at start, then at most one per ten seconds")
}

func TestJWKSAuthenticator_while_the_identity_provider_is_down(t *testing.T) {
	k := keys()
	idp := newJWKSServer(t, k.rsa1)
	a := newJWKSAuth(t, idp, testJWTConfig())
	idp.down.Store(true)

	_, err := a.Authenticate(t.Context(), signWith(t, jwa.RS256(), k.rsa1, goodClaims()))
	require.NoError(t, err, "the keys fetched last keep working")

	token := signWith(t, jwa.RS256(), k.rsa2, goodClaims())
	for range 2 { // the second within the refresh limit answers as the first
		_, err = a.Authenticate(t.Context(), token)
		require.Error(t, err)
		require.NotErrorIs(t, err, auth.ErrUnauthenticated, "a new key may exist: the caller should retry, not give up")
		require.NotContains(t, err.Error(), token)
	}
}

func TestNewJWKSAuthenticator_refuses_to_start_without_keys(t *testing.T) {
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>login</html>"))
	}))
	t.Cleanup(notJSON.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	idp := newJWKSServer(t, keys().rsa1)

	tests := []struct {
		name    string
		url     string
		cfg     auth.JWTConfig
		wantErr string
	}{
		{"jwks_url_answers_404", notFound.URL, testJWTConfig(), "404"},
		{"jwks_url_answers_html", notJSON.URL, testJWTConfig(), notJSON.URL},
		{"jwks_url_refuses_connections", closed.URL, testJWTConfig(), "connection refused"},
		{"no_issuer", idp.URL, auth.JWTConfig{Audience: testAudience}, "issuer is empty"},
		{"no_audience", idp.URL, auth.JWTConfig{Issuer: testIssuer}, "audience is empty"},
		{"negative_clock_skew", idp.URL, auth.JWTConfig{Issuer: testIssuer, Audience: testAudience, ClockSkew: -time.Second}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			a, err := auth.NewJWKSAuthenticator(t.Context(), tt.url, tt.cfg)
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, a)
			require.Less(t, time.Since(start), 5*time.Second, "a broken JWKS URL should fail the start at once")
		})
	}
}

func TestNewJWKSAuthenticator_over_https_with_a_private_ca(t *testing.T) {
	k := keys()
	idp := newJWKSServer(t, k.rsa1)
	tlsIdP := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		resp, err := http.Get(idp.URL)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(w, resp.Body)
	}))
	// The refused handshake below would be logged.
	tlsIdP.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsIdP.StartTLS()
	t.Cleanup(tlsIdP.Close)

	_, err := auth.NewJWKSAuthenticator(t.Context(), tlsIdP.URL, testJWTConfig())
	require.ErrorContains(t, err, "certificate", "the test CA is not trusted by default")

	a, err := auth.NewJWKSAuthenticator(t.Context(), tlsIdP.URL, testJWTConfig(), auth.WithJWKSHTTPClient(tlsIdP.Client()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	_, err = a.Authenticate(t.Context(), signWith(t, jwa.RS256(), k.rsa1, goodClaims()))
	require.NoError(t, err)
}

func TestJWTAuthenticator_maps_configured_claims(t *testing.T) {
	k := keys()
	cfg := testJWTConfig()
	cfg.RoleClaim = "https://handoff.example.com/role"
	cfg.IDClaim = "customer_id"
	cfg.NameClaim = "given_name"
	a := newJWKSAuth(t, newJWKSServer(t, k.rsa1), cfg)

	tests := []struct {
		name    string
		claims  claims
		want    auth.Principal
		wantErr bool
	}{
		{
			name:   "configured_claims",
			claims: goodClaims().with("https://handoff.example.com/role", "customer", "customer_id", "c-42", "given_name", "Ravi"),
			want:   auth.Principal{ID: "c-42", Role: handoffv1.Role_ROLE_CUSTOMER, DisplayName: "Ravi"},
		},
		{
			name:   "default_claims_are_not_read",
			claims: goodClaims().with("https://handoff.example.com/role", "agent", "customer_id", "c-42"),
			want:   auth.Principal{ID: "c-42", Role: handoffv1.Role_ROLE_AGENT},
		},
		{
			name:    "role_only_in_the_default_claim",
			claims:  goodClaims().with("customer_id", "c-42"),
			wantErr: true,
		},
		{
			name:    "id_only_in_the_default_claim",
			claims:  goodClaims().with("https://handoff.example.com/role", "agent"),
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := signWith(t, jwa.RS256(), k.rsa1, tt.claims)
			got, err := a.Authenticate(t.Context(), token)
			if tt.wantErr {
				requireUnauthenticated(t, token, got, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
