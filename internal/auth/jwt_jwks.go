package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/httprc/v3/errsink"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

const (
	// DefaultJWKSRefresh is how often the JWKS is fetched in the background:
	// the longest a key removed from it keeps working.
	DefaultJWKSRefresh = 5 * time.Minute
	// unknownKIDRefreshLimit spaces the fetches that a token with an unknown
	// kid causes, so a stream of made-up kids cannot turn handoffd into a
	// load generator against the identity provider. Providers publish a new
	// key before they sign with it, so a key missing from a JWKS fetched
	// this recently is not one to wait for.
	unknownKIDRefreshLimit = 10 * time.Second
	// jwksFetchTimeout bounds the first fetch and each one an unknown kid
	// causes.
	jwksFetchTimeout = 10 * time.Second
)

// jwksAlgs are the algorithms a JWKS authenticator accepts, with the key
// type each needs.
var jwksAlgs = map[jwa.SignatureAlgorithm]jwa.KeyType{
	jwa.RS256(): jwa.RSA(),
	jwa.ES256(): jwa.EC(),
}

// JWKSOption tunes NewJWKSAuthenticator.
type JWKSOption func(*jwksOptions)

type jwksOptions struct {
	refresh time.Duration
	log     *slog.Logger
	client  *http.Client
}

// WithJWKSRefresh sets how often the JWKS is fetched in the background
// (DefaultJWKSRefresh); it is rounded up to whole seconds.
func WithJWKSRefresh(d time.Duration) JWKSOption {
	return func(o *jwksOptions) { o.refresh = d }
}

// WithJWKSLogger logs background fetches that fail; the last good key set
// stays in use meanwhile.
func WithJWKSLogger(l *slog.Logger) JWKSOption {
	return func(o *jwksOptions) { o.log = l }
}

// WithJWKSHTTPClient fetches the JWKS with c, e.g. to trust a private CA.
// jwx's safeguards are added to it as to its default client: a 30 s timeout
// unless c has one, and no redirect from https to http.
func WithJWKSHTTPClient(c *http.Client) JWKSOption {
	return func(o *jwksOptions) { o.client = c }
}

// NewJWKSAuthenticator accepts RS256 and ES256 tokens signed by a key of the
// JWKS at url. It fetches the JWKS once before returning, so a wrong URL
// stops the start instead of refusing every call later, then keeps it fresh
// in the background until ctx ends or Close is called: every refresh
// interval (WithJWKSRefresh), and at once (at most every ten seconds) when a
// token names a kid the set lacks. So a key the provider rotates in works
// without a restart, and a key it rotates out stops working at the latest
// one refresh interval later.
//
// While the provider cannot be reached the last good set stays in use; a
// token whose kid is not in it then gets an error that does not wrap
// ErrUnauthenticated (the interceptors answer UNAVAILABLE), since the key
// may well exist.
func NewJWKSAuthenticator(ctx context.Context, url string, cfg JWTConfig, opts ...JWKSOption) (*JWT, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	o := jwksOptions{refresh: DefaultJWKSRefresh}
	for _, opt := range opts {
		opt(&o)
	}
	if o.refresh < time.Second {
		return nil, fmt.Errorf("JWKS refresh interval %s is below a second", o.refresh)
	}
	src, err := newJWKSKeys(ctx, url, o)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", url, err)
	}
	return &JWT{cfg: cfg, alg: []jwa.SignatureAlgorithm{jwa.RS256(), jwa.ES256()}, keys: src}, nil
}

// jwksKeys is a JWKS kept fresh by jwx's cache (github.com/lestrrat-go/httprc
// underneath), plus the refresh on an unknown kid, which the cache leaves to
// its user.
type jwksKeys struct {
	url   string
	cache *jwk.Cache
	res   *httprc.ResourceBase[jwk.Set]

	// sem lets one caller fetch at a time; the others wait for it, then
	// look again.
	sem chan struct{}
	// Guarded by sem.
	lastForced time.Time
	lastErr    error

	firstErr chan error // a failed first fetch
}

func newJWKSKeys(ctx context.Context, url string, o jwksOptions) (_ *jwksKeys, err error) {
	s := &jwksKeys{url: url, sem: make(chan struct{}, 1), firstErr: make(chan error, 1)}
	var started atomic.Bool // a failed first fetch is returned, not logged
	sink := errsink.NewFunc(func(ctx context.Context, err error) {
		if !started.Load() {
			select {
			case s.firstErr <- err:
			default:
			}
			return
		}
		if o.log != nil {
			o.log.WarnContext(ctx, "could not refresh the JWKS; the last one fetched stays in use", "url", url, "error", err)
		}
	})
	// Two workers, so a fetch an unknown kid forces need not wait behind a
	// slow background one.
	s.cache, err = jwk.NewCache(ctx, httprc.NewClient(httprc.WithWorkers(2), httprc.WithErrorSink(sink)))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()

	regOpts := []jwk.RegisterOption{
		// Fetch on this schedule whatever the response's cache headers say:
		// the refresh interval is the promise about rotated-out keys. The
		// minimum is also the retry delay after a failed fetch.
		jwk.WithConstantInterval(o.refresh),
		jwk.WithMinInterval(o.refresh),
		jwk.WithWaitReady(false),
	}
	if o.client != nil {
		regOpts = append(regOpts, jwk.WithHTTPClient(jwk.WrapHTTPClientDefaults(o.client)))
	}
	if err := s.cache.Register(ctx, url, regOpts...); err != nil {
		return nil, err
	}
	if s.res, err = s.cache.LookupResource(ctx, url); err != nil {
		return nil, err
	}
	// Wait for the first fetch the cache starts on its own, but not beyond
	// its first failure: the cache would retry only one interval later.
	wait, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- s.res.Ready(wait) }()
	select {
	case err := <-ready:
		if err != nil {
			return nil, fmt.Errorf("no JWKS within %s: %w", jwksFetchTimeout, err)
		}
	case err := <-s.firstErr:
		return nil, err
	}
	started.Store(true)
	return s, nil
}

func (s *jwksKeys) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.cache.Shutdown(ctx)
}

func (s *jwksKeys) keys(ctx context.Context, kid string, alg jwa.SignatureAlgorithm) ([]any, error) {
	if keys := matchingKeys(s.res.Resource(), kid, alg); len(keys) > 0 || kid == "" {
		// Without a kid there is nothing to look for in a newer set.
		return keys, nil
	}
	if err := s.refreshForUnknownKID(ctx); err != nil {
		return nil, err
	}
	return matchingKeys(s.res.Resource(), kid, alg), nil
}

// refreshForUnknownKID fetches the JWKS now unless that was done less than
// unknownKIDRefreshLimit ago; then it answers as that fetch did.
func (s *jwksKeys) refreshForUnknownKID(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.sem }()
	if !s.lastForced.IsZero() && time.Since(s.lastForced) < unknownKIDRefreshLimit {
		return s.lastErr
	}
	// The fetch serves every caller waiting on sem, so one caller giving
	// up must not cut it short.
	fetch, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksFetchTimeout)
	defer cancel()
	_, err := s.cache.Refresh(fetch, s.url)
	s.lastForced = time.Now()
	s.lastErr = nil
	if err != nil {
		s.lastErr = fmt.Errorf("JWKS %s: refreshing for an unknown kid: %w", s.url, err)
	}
	return s.lastErr
}

// matchingKeys returns the keys of set that may have signed a token with
// kid (any key when kid is empty) and alg: the right key type, and the
// key's own alg and use, when it states them, agreeing.
func matchingKeys(set jwk.Set, kid string, alg jwa.SignatureAlgorithm) []any {
	if set == nil {
		return nil
	}
	var keys []any
	for i := range set.Len() {
		k, _ := set.Key(i)
		if id, _ := k.KeyID(); kid != "" && id != kid {
			continue
		}
		if k.KeyType() != jwksAlgs[alg] {
			continue
		}
		if ka, ok := k.Algorithm(); ok && ka.String() != alg.String() {
			continue
		}
		if use, ok := k.KeyUsage(); ok && use != string(jwk.ForSignature) {
			continue
		}
		keys = append(keys, k)
	}
	return keys
}
