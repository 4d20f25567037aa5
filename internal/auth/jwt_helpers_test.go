package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/auth"
)

const (
	testIssuer   = "https://idp.example.com/"
	testAudience = "handoff"
)

func testJWTConfig() auth.JWTConfig {
	return auth.JWTConfig{Issuer: testIssuer, Audience: testAudience, ClockSkew: auth.DefaultClockSkew}
}

// testKey is a signing key of the identity provider (or of an attacker).
type testKey struct {
	kid  string
	priv crypto.Signer
	pub  jwk.Key // as published in the JWKS
}

func newRSAKey(kid string) testKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return publish(kid, priv, jwa.RS256())
}

func newECKey(kid string) testKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	// Published without alg and use, as some providers do.
	return publish(kid, priv, nil)
}

func publish(kid string, priv crypto.Signer, alg any) testKey {
	pub, err := jwk.Import(priv.Public())
	if err != nil {
		panic(err)
	}
	must(pub.Set(jwk.KeyIDKey, kid))
	if alg != nil {
		must(pub.Set(jwk.AlgorithmKey, alg))
		must(pub.Set(jwk.KeyUsageKey, "sig"))
	}
	return testKey{kid: kid, priv: priv, pub: pub}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// keys are made once: RSA key generation is slow under -race.
var keys = sync.OnceValue(func() struct{ rsa1, rsa2, ec1, mallory testKey } {
	return struct{ rsa1, rsa2, ec1, mallory testKey }{
		rsa1: newRSAKey("rsa-1"), rsa2: newRSAKey("rsa-2"), ec1: newECKey("ec-1"),
		// The attacker's key claims the kid of the real one.
		mallory: newRSAKey("rsa-1"),
	}
})

// claims of a token; a nil value leaves the claim out.
type claims map[string]any

// goodClaims are those of a token the test configuration accepts.
func goodClaims() claims {
	now := time.Now()
	return claims{
		"iss": testIssuer, "aud": testAudience, "sub": "alice", "role": "agent", "name": "Alice",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
}

// with returns a copy of c with kv (name, value, ...) set.
func (c claims) with(kv ...any) claims {
	out := maps.Clone(c)
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, name)
		} else {
			out[name] = kv[i+1]
		}
	}
	return out
}

func (c claims) payload(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(c)
	require.NoError(t, err)
	return b
}

// sign makes a compact JWS of c with key (a private key, or an HMAC secret)
// and a kid header unless kid is empty.
func sign(t *testing.T, alg jwa.SignatureAlgorithm, key any, kid string, c claims) string {
	t.Helper()
	hdr := jws.NewHeaders()
	if kid != "" {
		require.NoError(t, hdr.Set(jws.KeyIDKey, kid))
	}
	require.NoError(t, hdr.Set(jws.TypeKey, "JWT"))
	token, err := jws.Sign(c.payload(t), jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	require.NoError(t, err)
	return string(token)
}

// signWith signs c with k under its kid.
func signWith(t *testing.T, alg jwa.SignatureAlgorithm, k testKey, c claims) string {
	t.Helper()
	return sign(t, alg, k.priv, k.kid, c)
}

// unsigned makes an `alg: none` token, which jwx will not produce.
func unsigned(t *testing.T, header map[string]any, c claims) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c.payload(t)) + "."
}

// jwksServer is the identity provider's JWKS endpoint; serve swaps the keys
// it publishes, as a key rotation does.
type jwksServer struct {
	URL  string
	hits atomic.Int64
	down atomic.Bool // answer 503, as during an outage

	mu   sync.Mutex
	keys []testKey
}

func newJWKSServer(t *testing.T, published ...testKey) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: published}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		if s.down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		set := jwk.NewSet()
		for _, k := range s.keys {
			must(set.AddKey(k.pub))
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		// A provider may say "cache for a day"; the refresh interval wins.
		w.Header().Set("Cache-Control", "max-age=86400")
		must(json.NewEncoder(w).Encode(set))
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *jwksServer) serve(published ...testKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = published
}

// newJWKSAuth builds an authenticator on s, closed when the test ends.
func newJWKSAuth(t *testing.T, s *jwksServer, cfg auth.JWTConfig, opts ...auth.JWKSOption) *auth.JWT {
	t.Helper()
	a, err := auth.NewJWKSAuthenticator(t.Context(), s.URL, cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// requireUnauthenticated checks that a refused token got the answer
// UNAUTHENTICATED and that the error does not carry the token.
func requireUnauthenticated(t *testing.T, token string, p auth.Principal, err error) {
	t.Helper()
	require.ErrorIs(t, err, auth.ErrUnauthenticated)
	require.Equal(t, auth.Principal{}, p)
	if token != "" {
		require.NotContains(t, err.Error(), token, "errors must not carry the token")
	}
}
