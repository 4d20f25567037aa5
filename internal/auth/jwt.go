package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Defaults of JWTConfig, also the defaults of handoffd's --jwt-* flags.
const (
	DefaultRoleClaim = "role"
	DefaultIDClaim   = "sub"
	DefaultNameClaim = "name"
	// DefaultClockSkew absorbs small clock differences between the identity
	// provider and this server when checking exp and nbf.
	DefaultClockSkew = 30 * time.Second
)

// MinHS256SecretBytes is the shortest HS256 secret accepted: RFC 7518 §3.2
// asks for a key at least as long as the hash, 256 bits.
const MinHS256SecretBytes = 32

// maxJWTBytes bounds the work one call can cause. Identity provider tokens
// are a few hundred bytes to a few KiB; anything near this is not one.
const maxJWTBytes = 16 << 10

// JWTConfig says which JWTs an authenticator accepts and how their claims
// become a Principal.
type JWTConfig struct {
	// Issuer must equal the token's iss claim.
	Issuer string
	// Audience must be one of the token's aud values.
	Audience string
	// RoleClaim holds the role: customer, agent, service or admin. Empty
	// means DefaultRoleClaim.
	RoleClaim string
	// IDClaim holds the principal's id (for customers, their customer id).
	// Empty means DefaultIDClaim.
	IDClaim string
	// NameClaim optionally holds Principal.DisplayName. Empty means
	// DefaultNameClaim; a token without the claim gets no display name.
	NameClaim string
	// ClockSkew is how far exp and nbf may be off. Zero means none; handoffd
	// passes DefaultClockSkew unless told otherwise.
	ClockSkew time.Duration
}

func (c JWTConfig) withDefaults() (JWTConfig, error) {
	if c.RoleClaim == "" {
		c.RoleClaim = DefaultRoleClaim
	}
	if c.IDClaim == "" {
		c.IDClaim = DefaultIDClaim
	}
	if c.NameClaim == "" {
		c.NameClaim = DefaultNameClaim
	}
	switch {
	case c.Issuer == "":
		return c, errors.New("issuer is empty; give the iss your identity provider puts in its tokens")
	case c.Audience == "":
		return c, errors.New("audience is empty; give the aud your identity provider issues tokens for handoff with")
	case c.ClockSkew < 0:
		return c, fmt.Errorf("clock skew %s is negative", c.ClockSkew)
	}
	return c, nil
}

// JWT authenticates JWT bearer tokens from an identity provider. Build it
// with NewJWKSAuthenticator (RS256 and ES256 keys published at a JWKS URL)
// or NewHS256Authenticator (one shared secret).
//
// A token is accepted when it is a compact JWS whose alg is one this
// authenticator was built for (never none, never chosen by the token:
// an HS256 token is refused by a JWKS authenticator however it was made),
// its signature verifies, iss and aud match, exp is present and, with
// nbf, holds within the clock skew, and its role and id claims name a
// principal. Everything else is an error wrapping ErrUnauthenticated, except
// failing to reach the key server, which is not the token's fault.
//
// Errors never contain the token, nor claim values copied from it.
type JWT struct {
	cfg  JWTConfig
	alg  []jwa.SignatureAlgorithm // the algorithms the keys are for
	keys keySource
}

// keySource finds the keys that may have signed a token.
type keySource interface {
	// keys returns the candidates for a token with this kid (maybe empty)
	// and alg. None is not an error: the token is then unauthenticated.
	keys(ctx context.Context, kid string, alg jwa.SignatureAlgorithm) ([]any, error)
	close() error
}

var _ Authenticator = (*JWT)(nil)

// NewHS256Authenticator accepts HS256 tokens signed with secret, which must
// be at least MinHS256SecretBytes long. The secret is copied.
func NewHS256Authenticator(secret []byte, cfg JWTConfig) (*JWT, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(secret) < MinHS256SecretBytes {
		return nil, fmt.Errorf("HS256 secret is %d bytes; use at least %d random bytes, e.g. from `openssl rand -hex 32`", len(secret), MinHS256SecretBytes)
	}
	return &JWT{cfg: cfg, alg: []jwa.SignatureAlgorithm{jwa.HS256()}, keys: hmacKey(bytes.Clone(secret))}, nil
}

// ReadHS256SecretFile reads an HS256 secret from a file. One trailing line
// break is dropped, as editors and `echo` add it; the rest is the secret,
// byte for byte. Errors name the file, never its content.
func ReadHS256SecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("HS256 secret file: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) < MinHS256SecretBytes {
		return nil, fmt.Errorf("HS256 secret file %s: %d bytes; use at least %d random bytes, e.g. from `openssl rand -hex 32`", path, len(b), MinHS256SecretBytes)
	}
	return b, nil
}

type hmacKey []byte

func (k hmacKey) keys(context.Context, string, jwa.SignatureAlgorithm) ([]any, error) {
	return []any{[]byte(k)}, nil
}

func (hmacKey) close() error { return nil }

// Close stops refreshing the JWKS in the background. Authenticate must not
// be called after it.
func (j *JWT) Close() error { return j.keys.close() }

// Authenticate returns the principal a valid token names.
func (j *JWT) Authenticate(ctx context.Context, token string) (Principal, error) {
	if len(token) > maxJWTBytes {
		return Principal{}, fmt.Errorf("%w: token longer than %d bytes", ErrUnauthenticated, maxJWTBytes)
	}
	// Read the header first, unverified, only to pick the key: the
	// algorithm must be one configured here, whatever the token claims.
	msg, err := jws.ParseString(token, jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return Principal{}, fmt.Errorf("%w: not a compact JWS", ErrUnauthenticated)
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	alg, ok := hdr.Algorithm()
	if !ok || !slices.Contains(j.alg, alg) {
		return Principal{}, fmt.Errorf("%w: algorithm is not one of %v", ErrUnauthenticated, j.alg)
	}
	kid, _ := hdr.KeyID()
	keys, err := j.keys.keys(ctx, kid, alg)
	if err != nil {
		return Principal{}, err
	}
	if len(keys) == 0 {
		return Principal{}, fmt.Errorf("%w: no %s key with the token's kid", ErrUnauthenticated, alg)
	}
	var tok jwt.Token
	for _, key := range keys {
		tok, err = jwt.ParseString(token, j.parseOptions(alg, key)...)
		// A claims error means this key verified the signature: no other
		// key will do better.
		if err == nil || errors.Is(err, jwt.ValidateError()) {
			break
		}
	}
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %s", ErrUnauthenticated, rejection(err))
	}
	return j.principal(tok)
}

func (j *JWT) parseOptions(alg jwa.SignatureAlgorithm, key any) []jwt.ParseOption {
	return []jwt.ParseOption{
		jwt.WithKey(alg, key),
		jwt.WithIssuer(j.cfg.Issuer),
		jwt.WithAudience(j.cfg.Audience),
		jwt.WithAcceptableSkew(j.cfg.ClockSkew),
		// A token without exp would be good forever.
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	}
}

// rejection says why jwx refused a token, in words that hold no part of it.
func rejection(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{jwt.TokenExpiredError(), "token expired"},
		{jwt.TokenNotYetValidError(), "token not valid yet (nbf)"},
		{jwt.InvalidIssuedAtError(), "token issued in the future (iat)"},
		{jwt.InvalidIssuerError(), "wrong issuer"},
		{jwt.InvalidAudienceError(), "wrong audience"},
		{jwt.MissingRequiredClaimError(), "required claim missing"},
		{jwt.ValidateError(), "claims do not validate"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "signature does not verify or payload is not a JWT"
}

// principal maps the claims of a verified token.
func (j *JWT) principal(tok jwt.Token) (Principal, error) {
	roleName, ok := stringClaim(tok, j.cfg.RoleClaim)
	if !ok {
		return Principal{}, fmt.Errorf("%w: claim %q is missing or not a string", ErrUnauthenticated, j.cfg.RoleClaim)
	}
	role, ok := roleByName[roleName]
	if !ok {
		return Principal{}, fmt.Errorf("%w: claim %q is not customer, agent, service or admin", ErrUnauthenticated, j.cfg.RoleClaim)
	}
	id, ok := stringClaim(tok, j.cfg.IDClaim)
	if !ok || id == "" {
		return Principal{}, fmt.Errorf("%w: claim %q is missing, empty or not a string", ErrUnauthenticated, j.cfg.IDClaim)
	}
	// The display name is cosmetic: a token without one still names its
	// principal.
	name, _ := stringClaim(tok, j.cfg.NameClaim)
	return Principal{ID: id, Role: role, DisplayName: name}, nil
}

func stringClaim(tok jwt.Token, name string) (string, bool) {
	var v any
	if err := tok.Get(name, &v); err != nil {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}
