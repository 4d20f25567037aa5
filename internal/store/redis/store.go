package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	goredis "github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/journeyhandoff/handoff/internal/store"
)

var _ store.Store = (*Store)(nil)

// requestIDTTL is how long a create's request id is remembered: long enough
// for any client's retries, short enough to keep the keys few.
const requestIDTTL = 24 * time.Hour

// Change log defaults, the same as the memory store's: enough for a
// watcher that reconnects within the hour to catch up without a snapshot.
const (
	defaultLogEntries = 128
	defaultLogTTL     = time.Hour
)

var (
	// change.lua holds helpers that every journey-writing script shares
	// (see prelude in record.go).
	//go:embed change.lua
	changeLua string

	//go:embed prune.lua
	pruneLua    string
	pruneArgs   = args{"rest"}
	pruneScript = newScript(pruneArgs, pruneLua)
)

// Store is the Redis implementation of store.Store. It is safe for
// concurrent use.
type Store struct {
	client goredis.UniversalClient
	owned  bool // Close closes client only if Open made it
	ttl    time.Duration
	ttlOf  store.TTLFunc
	prefix string

	logEntries int
	logTTL     time.Duration

	tlsRoots *x509.CertPool // for Open's rediss:// client

	sealer Sealer // nil: values are stored in clear

	replicasAck        int // see WithMinReplicasAck
	replicasAckTimeout time.Duration

	tracer trace.TracerProvider // see WithTracing

	events  *store.EventOptions // nil: events are off (see WithEvents)
	appends appender            // sends concurrent event appends together

	writes *store.WriteOptions // nil: writes are not reported (see WithWrites)
}

// WithTracing makes Open's client record a span of every Redis command
// (its name, never its arguments, which hold answers). A Store from New
// leaves its client as the caller made it.
func WithTracing(tp trace.TracerProvider) Option {
	return func(s *Store) { s.tracer = tp }
}

// Option configures a Store.
type Option func(*Store)

// WithTypeTTL makes a journey of a type version whose ttl says so live
// that long after its last write instead of the store's TTL.
func WithTypeTTL(f store.TTLFunc) Option {
	return func(s *Store) { s.ttlOf = f }
}

// journeyTTL is how long a journey of the type version lives after a write.
func (s *Store) journeyTTL(journeyType string, version int64) time.Duration {
	if s.ttlOf != nil {
		if d := s.ttlOf(journeyType, version); d > 0 {
			return d
		}
	}
	return s.ttl
}

// WithTTL sets how long a journey lives after its last write (default
// store.DefaultTTL). A duration that is not positive keeps the default.
func WithTTL(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.ttl = d
		}
	}
}

// WithChangeLog sets how many of a journey's last changes are kept for
// ChangesSince, and for how long after its last change (defaults 128 and an
// hour). A value that is not positive keeps its default.
func WithChangeLog(entries int, ttl time.Duration) Option {
	return func(s *Store) {
		if entries > 0 {
			s.logEntries = entries
		}
		if ttl > 0 {
			s.logTTL = ttl
		}
	}
}

// WithKeyPrefix sets the prefix of every key (default "handoff:"), so several
// deployments, or tests, can share one Redis.
func WithKeyPrefix(p string) Option {
	return func(s *Store) { s.prefix = p }
}

// WithTLSRootCAs makes Open trust the CAs in roots, instead of the system's,
// for the certificate of a rediss:// URL's servers (standalone, Sentinel and
// Cluster alike). Open refuses it with a redis:// URL, where it would protect
// nothing. A Store from New uses its client's own TLS settings.
func WithTLSRootCAs(roots *x509.CertPool) Option {
	return func(s *Store) { s.tlsRoots = roots }
}

// New returns a Store on a client the caller owns: Close leaves it open.
func New(client goredis.UniversalClient, opts ...Option) *Store {
	s := &Store{
		client:     client,
		ttl:        store.DefaultTTL,
		prefix:     "handoff:",
		logEntries: defaultLogEntries,
		logTTL:     defaultLogTTL,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Open connects to the Redis at rawURL: redis://, rediss:// or unix://
// (see goredis.ParseURL); Sentinel when the URL names a master_name (see
// goredis.ParseFailoverURL); or a Cluster when the URL names further nodes
// with addr= parameters (see goredis.ParseClusterURL). It does not dial: a Store
// opened while Redis is down works once Redis is back.
//
// Unless the URL sets them, the client fails fast when Redis is down
// (max_retries=1, dialer_retries=2, dial_timeout=1s, read_timeout=2s,
// write_timeout=2s, pool_timeout=1s) instead of go-redis's defaults, which
// hold a request for seconds: a call to a stopped Redis fails in about
// 0.2 s, and one to a hung Redis within about 5 s (two tries, each waiting
// for a connection or a reply).
func Open(rawURL string, opts ...Option) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error repeats the URL, password included.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("invalid Redis URL: %w", err)
	}
	q := u.Query()
	// fast sets the fail-fast defaults. dialer_retries is a Cluster URL
	// parameter only; a standalone URL cannot set it.
	fast := func(maxRetries, dialerRetries *int, dial, read, write, pool *time.Duration) {
		setDefault(q, "max_retries", maxRetries, 1)
		setDefault(q, "pool_timeout", pool, time.Second)
		setDefault(q, "dialer_retries", dialerRetries, 2)
		setDefault(q, "dial_timeout", dial, time.Second)
		setDefault(q, "read_timeout", read, 2*time.Second)
		setDefault(q, "write_timeout", write, 2*time.Second)
	}
	s := New(nil, opts...)
	// trust applies WithTLSRootCAs to the parsed URL's TLS settings, which
	// are nil unless the scheme is rediss.
	trust := func(c *tls.Config) error {
		if s.tlsRoots == nil {
			return nil
		}
		if c == nil {
			return errors.New("a CA to trust for Redis's certificate needs a rediss:// URL; redis:// does not use TLS")
		}
		c.RootCAs = s.tlsRoots
		return nil
	}

	var client goredis.UniversalClient
	if q.Has("master_name") {
		// Sentinel: the URL names a sentinel (and further ones with addr=)
		// and the master's name; the client follows failovers.
		o, err := goredis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("invalid Redis Sentinel URL: %w", err)
		}
		fast(&o.MaxRetries, &o.DialerRetries, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout)
		if err := trust(o.TLSConfig); err != nil {
			return nil, err
		}
		o.ContextTimeoutEnabled = true
		client = goredis.NewFailoverClient(o)
	} else if q.Has("addr") {
		o, err := goredis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("invalid Redis Cluster URL: %w", err)
		}
		fast(&o.MaxRetries, &o.DialerRetries, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout)
		if err := trust(o.TLSConfig); err != nil {
			return nil, err
		}
		// Let a caller's deadline (a gRPC deadline) cut a slow call short.
		o.ContextTimeoutEnabled = true
		cluster := goredis.NewClusterClient(o)
		cluster.AddHook(reloadOnUnreachable{cluster})
		client = cluster
	} else {
		o, err := goredis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("invalid Redis URL: %w", err)
		}
		fast(&o.MaxRetries, &o.DialerRetries, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout)
		if err := trust(o.TLSConfig); err != nil {
			return nil, err
		}
		// Let a caller's deadline (a gRPC deadline) cut a slow call short.
		o.ContextTimeoutEnabled = true
		client = goredis.NewClient(o)
	}
	if s.tracer != nil {
		if err := redisotel.InstrumentTracing(client, redisotel.WithTracerProvider(s.tracer),
			redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false)); err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("tracing Redis commands: %w", err)
		}
	}
	s.client = client
	s.owned = true
	return s, nil
}

// setDefault sets *field to def unless the URL query names it.
func setDefault[T any](q url.Values, name string, field *T, def T) {
	if q.Get(name) == "" {
		*field = def
	}
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return wrapErr(ctx, "ping", err)
	}
	return nil
}

// Close closes the client if Open created it.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return s.client.Close()
}

// Keys. The customer's hash tag puts all of its keys in one Cluster slot.

// JourneyKeys are the Redis keys that hold one journey.
type JourneyKeys struct {
	Journey  string // the hash: rev, seq, body, recent write ids
	Timeline string // the list of touchpoints
	Log      string // the list of recent changes
	Index    string // the customer's sorted set of journeys
}

// KeysOf names the keys of the journey at k, for tools that measure or
// inspect what the store wrote (the load driver's memory figures), so they
// never spell the layout out again.
func (s *Store) KeysOf(k store.JourneyKey) JourneyKeys {
	return JourneyKeys{Journey: s.journeyKey(k), Timeline: s.timelineKey(k), Log: s.logKey(k), Index: s.indexKey(k.Customer)}
}

func (s *Store) journeyKey(k store.JourneyKey) string {
	return s.prefix + "{" + k.Customer + "}:j:" + k.Journey
}

func (s *Store) timelineKey(k store.JourneyKey) string {
	return s.prefix + "{" + k.Customer + "}:t:" + k.Journey
}

func (s *Store) logKey(k store.JourneyKey) string {
	return s.prefix + "{" + k.Customer + "}:log:" + k.Journey
}

func (s *Store) indexKey(customer string) string {
	return s.prefix + "{" + customer + "}:idx"
}

func (s *Store) requestKey(customer, requestID string) string {
	return s.prefix + "{" + customer + "}:req:" + requestID
}

func (s *Store) customerCodesKey(customer string) string {
	return s.prefix + "{" + customer + "}:codes"
}

// journeyCodesKey lists the journey's handoff codes (see issue.lua).
func (s *Store) journeyCodesKey(k store.JourneyKey) string {
	return s.prefix + "{" + k.Customer + "}:hc:" + k.Journey
}

// redeemMarkKey remembers which redeem took a code off its journey's list
// (see redeem_listed.lua).
func (s *Store) redeemMarkKey(customer, code string) string {
	return s.prefix + "{" + customer + "}:redeemed:" + code
}

func (s *Store) codeKey(code string) string {
	return s.prefix + "code:" + code
}

// wrapErr names the operation and marks errors that mean Redis did not
// answer with store.ErrUnavailable, keeping the cause (and a context error)
// reachable with errors.Is.
func wrapErr(ctx context.Context, op string, err error) error {
	// With ContextTimeoutEnabled an expired deadline surfaces as a socket
	// timeout; name the context's error so callers can still tell.
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up; Redis may be fine.
		return fmt.Errorf("redis %s: %w", op, err)
	case unavailable(err):
		return fmt.Errorf("redis %s: %w: %w", op, store.ErrUnavailable, err)
	default:
		return fmt.Errorf("redis %s: %w", op, err)
	}
}

// unavailable tells errors that mean "Redis did not answer, try again later"
// from answers that are bugs (a wrong type, a broken script).
func unavailable(err error) bool {
	var reply goredis.Error
	if !errors.As(err, &reply) {
		// Not a reply from Redis: dial errors, connection refused or reset,
		// timeouts, pool timeouts, a closed client.
		return true
	}
	return goredis.IsLoadingError(err) || goredis.IsClusterDownError(err) ||
		goredis.IsMasterDownError(err) || goredis.IsTryAgainError(err) ||
		goredis.IsReadOnlyError(err) || goredis.IsMaxClientsError(err) ||
		goredis.HasErrorPrefix(err, "BUSY")
}
