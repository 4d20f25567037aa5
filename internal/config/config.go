// Package config is handoffd's one configuration: defaults that run on a
// bare machine (embedded memory store, loopback ports), every setting as a
// flag and as a HANDOFF_* environment variable (the flag wins), and Validate
// so a bad setting stops the start with a message naming it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/identity"
	"github.com/journeyhandoff/handoff/internal/server"
	"github.com/journeyhandoff/handoff/internal/service"
	"github.com/journeyhandoff/handoff/internal/store"
	redisstore "github.com/journeyhandoff/handoff/internal/store/redis"
)

// Config is everything handoffd can be told.
type Config struct {
	GRPCAddr string
	HTTPAddr string
	// DebugAddr serves Go's pprof profiles when set; loopback only.
	DebugAddr string
	// TLSCertFile and TLSKeyFile, set together, make both listeners serve
	// TLS with that certificate.
	TLSCertFile string
	TLSKeyFile  string
	// Settings are the Redis store's block: URL, key prefix, CA file,
	// replicas to wait for.
	redisstore.Settings
	// EncryptionKeysFile, or EncryptionKeys (its text, from the environment
	// only: HANDOFF_ENCRYPTION_KEYS), is a keyring (see internal/sealing)
	// that seals answers and notes at rest in Redis.
	EncryptionKeysFile string
	EncryptionKeys     string
	TokensFile         string
	JWT                JWT
	JourneyTTL         time.Duration
	// JourneyTypesDir holds journey type definitions (YAML or JSON), loaded
	// at start and on SIGHUP (docs/journeytypes.md).
	JourneyTypesDir string
	// IdentityKeysFile holds the keys identities are digested with
	// (internal/identity), loaded at start and on SIGHUP; empty: identity
	// links are off. IdentityDefaultRegion reads phone numbers written
	// without a country code (`NL`); empty: they are refused.
	IdentityKeysFile      string
	IdentityDefaultRegion string
	// Limits are the service's figures (code lifetime, claim lease, redeem
	// limits, answer limits), its own block: each is one field, with its
	// default, in service.Limits.
	service.Limits
	// TrustedProxies are the proxies whose X-Forwarded-For is believed when
	// deciding a caller's address; nobody's by default.
	TrustedProxies Prefixes
	// OTLPEndpoint is the OTLP/gRPC collector traces go to; empty: the
	// standard OTEL_EXPORTER_OTLP_ENDPOINT, else none.
	OTLPEndpoint string
	// CORSAllowedOrigins are the web origins whose pages may call the REST
	// API from a browser; none by default.
	CORSAllowedOrigins Origins
	// RequestLimits bound what a client may send: the server's block.
	server.RequestLimits
	// Events are the events out, webhooks and reminders (docs/reach.md).
	Events Events
	// Insight is the journey map, counted as writes happen
	// (docs/insight.md).
	Insight         Insight
	ShutdownTimeout time.Duration
	LogLevel        slog.Level
	// Now is the service's clock (nil: time.Now), no flag: the insight
	// generator moves it to replay days of journeys in minutes.
	Now func() time.Time
}

// JWT says where bearer JWTs come from. Setting JWKSURL or HS256SecretFile
// turns JWT authentication on; Issuer and Audience are then required.
type JWT struct {
	JWKSURL         string
	HS256SecretFile string
	// JWTConfig is what the authenticator checks in a token: its own
	// block, passed on as it is.
	auth.JWTConfig
}

// Enabled reports whether a JWT key source is configured.
func (j JWT) Enabled() bool { return j.JWKSURL != "" || j.HS256SecretFile != "" }

// Events say whether the stores keep events (docs/reach.md), for how
// long, where webhooks are declared and when journeys are reminded.
type Events struct {
	// On turns events on; a webhooks file or a RemindBefore implies it.
	On        bool
	Retention time.Duration
	// WebhooksFile declares the webhooks (internal/webhook), read at
	// start and on SIGHUP.
	WebhooksFile string
	// RemindBefore is how long before a journey expires it is reminded,
	// for journey types that do not say; 0: never.
	RemindBefore time.Duration
}

// Enabled reports whether the stores keep events.
func (e Events) Enabled() bool { return e.On || e.WebhooksFile != "" || e.RemindBefore > 0 }

// Insight says whether writes are counted for journey insight, how often
// an instance writes its counts and how long a day's counts are kept.
type Insight struct {
	On        bool
	Flush     time.Duration
	Retention time.Duration
}

// maxClockSkew keeps the skew small: beyond a few minutes it stops being
// about clocks and lets expired tokens through.
const maxClockSkew = 5 * time.Minute

// Default is the configuration of `go run ./cmd/handoffd` with nothing set.
func Default() Config {
	return Config{
		GRPCAddr:        "localhost:9090",
		HTTPAddr:        "localhost:8080",
		Settings:        redisstore.DefaultSettings(),
		JourneyTTL:      store.DefaultTTL,
		Limits:          service.DefaultLimits(),
		RequestLimits:   server.DefaultRequestLimits(),
		Events:          Events{Retention: store.DefaultEventRetention},
		Insight:         Insight{On: true, Flush: 2 * time.Second, Retention: 400 * 24 * time.Hour},
		ShutdownTimeout: 15 * time.Second,
		LogLevel:        slog.LevelInfo,
		JWT: JWT{JWTConfig: auth.JWTConfig{
			RoleClaim: auth.DefaultRoleClaim,
			IDClaim:   auth.DefaultIDClaim,
			NameClaim: auth.DefaultNameClaim,
			ClockSkew: auth.DefaultClockSkew,
		}},
	}
}

// EnvPrefix starts the environment variable of every flag: --redis-url is
// HANDOFF_REDIS_URL.
const EnvPrefix = "HANDOFF_"

// EnvName is the environment variable that sets a flag.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// EncryptionKeysEnv holds the text of an encryption keyring, for
// deployments that pass secrets as environment variables; it has no flag.
const EncryptionKeysEnv = EnvPrefix + "ENCRYPTION_KEYS"

// usageHead opens --help: what handoffd is, before its flags.
const usageHead = `handoffd keeps customers' journeys (a quote, a booking) so that one
started on a website can be resumed by an agent on the phone, in chat or on
social media, at the same step with the same answers. It serves the
handoff.v1 API over gRPC (--grpc-addr) and over REST (--http-addr).

With no flags it runs on this machine alone: journeys in memory (lost on
restart) and dev-mode tokens printed at start. See README.md for production.

Usage: handoffd [flags]

Every flag can also be set in the environment, named as in brackets below
(HANDOFF_ and the flag's name in capitals); a flag on the command line wins.
%s holds encryption keys and has no flag.

Flags:
`

// Load reads the environment (through lookupEnv), then the flags in args,
// and validates the result. Usage and errors go to output.
func Load(args []string, lookupEnv func(string) (string, bool), output io.Writer) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("handoffd", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.GRPCAddr, "grpc-addr", c.GRPCAddr, "gRPC listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listen address: REST API, /healthz, /readyz, /metrics, /openapi.json")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "loopback address serving Go's pprof profiles at /debug/pprof/; empty: off")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", c.TLSCertFile, "PEM certificate (chain) both listeners serve TLS 1.2+ with; needs --tls-key-file; empty serves plaintext")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", c.TLSKeyFile, "PEM private key of --tls-cert-file")
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "Redis URL (redis://, rediss://, or redis://host:port?addr=host2:port2 for Cluster); empty keeps journeys in memory, lost on restart")
	fs.StringVar(&c.RedisKeyPrefix, "redis-key-prefix", c.RedisKeyPrefix, "prefix of every Redis key")
	fs.StringVar(&c.RedisCAFile, "redis-ca-file", c.RedisCAFile, "PEM bundle of the CAs trusted for a rediss:// --redis-url, instead of the system's")
	fs.IntVar(&c.RedisMinReplicasAck, "redis-min-replicas-ack", c.RedisMinReplicasAck, "replicas that must acknowledge each write and erasure (Redis WAIT) before handoffd does; a write fewer acknowledge in time fails with UNAVAILABLE; 0: Redis's asynchronous replication, whose failover can lose the last writes")
	fs.DurationVar(&c.RedisReplicasAckTimeout, "redis-replicas-ack-timeout", c.RedisReplicasAckTimeout, "how long a write waits for --redis-min-replicas-ack replicas")
	fs.StringVar(&c.EncryptionKeysFile, "encryption-keys-file", c.EncryptionKeysFile, "file of AES-256 keys, one \"<key id> <base64 key>\" per line, the last one sealing: encrypts answers and notes at rest in Redis; or set "+EncryptionKeysEnv+" to that text")
	fs.StringVar(&c.TokensFile, "tokens-file", c.TokensFile, "YAML file of bearer tokens; with neither this nor a JWT key source, handoffd runs in DEV MODE with printed tokens")
	fs.StringVar(&c.JWT.JWKSURL, "jwt-jwks-url", c.JWT.JWKSURL, "accept JWT bearer tokens signed (RS256, ES256) by a key of the JWKS at this https URL")
	fs.StringVar(&c.JWT.HS256SecretFile, "jwt-hs256-secret-file", c.JWT.HS256SecretFile, "accept JWT bearer tokens signed (HS256) with the secret in this file")
	fs.StringVar(&c.JWT.Issuer, "jwt-issuer", c.JWT.Issuer, "the iss a JWT must carry; required with a JWT key source")
	fs.StringVar(&c.JWT.Audience, "jwt-audience", c.JWT.Audience, "an aud a JWT must carry; required with a JWT key source")
	fs.StringVar(&c.JWT.RoleClaim, "jwt-role-claim", c.JWT.RoleClaim, "JWT claim holding the role: customer, agent, service or admin")
	fs.StringVar(&c.JWT.IDClaim, "jwt-id-claim", c.JWT.IDClaim, "JWT claim holding the principal's id (a customer's customer id)")
	fs.StringVar(&c.JWT.NameClaim, "jwt-name-claim", c.JWT.NameClaim, "JWT claim holding the name customers see for an agent; optional in tokens")
	fs.DurationVar(&c.JWT.ClockSkew, "jwt-clock-skew", c.JWT.ClockSkew, "how far a JWT's exp and nbf may be off, for clock differences")
	fs.DurationVar(&c.JourneyTTL, "journey-ttl", c.JourneyTTL, "how long a journey lives after its last change")
	fs.StringVar(&c.JourneyTypesDir, "journey-types-dir", c.JourneyTypesDir, "directory of journey type definitions (*.yaml, *.yml, *.json), loaded at start and on SIGHUP; empty: types come only through the admin API")
	fs.StringVar(&c.IdentityKeysFile, "identity-keys-file", c.IdentityKeysFile, "file of identity digest keys, one \"<key id> <base64 of 32 bytes>\" per line, the first one current, loaded at start and on SIGHUP; empty: identity links and lookups are off")
	fs.StringVar(&c.IdentityDefaultRegion, "identity-default-region", c.IdentityDefaultRegion, "region (ISO 3166-1, e.g. NL) a phone number written without + and country code is read in; empty: such numbers are refused")
	fs.DurationVar(&c.IdentityLinkTTL, "identity-link-ttl", c.IdentityLinkTTL, "how long an identity link lives unless linked again")
	fs.IntVar(&c.IdentityLookups, "identity-lookups", c.IdentityLookups, "identity lookups one principal may make per 10 minutes")
	fs.IntVar(&c.IdentityCheckFailures, "identity-check-failures", c.IdentityCheckFailures, "failed identity checks one principal, and one journey, may have per 10 minutes")
	fs.IntVar(&c.IdentityLinksPerCustomer, "identity-links-per-customer", c.IdentityLinksPerCustomer, "live identity links one customer may hold; past it a new link is refused until one is unlinked")
	fs.DurationVar(&c.CodeTTL, "code-ttl", c.CodeTTL, "how long a handoff code can be redeemed")
	fs.DurationVar(&c.ClaimLease, "claim-lease", c.ClaimLease, "how long an agent's claim holds unless renewed (by claiming again)")
	fs.IntVar(&c.RedeemFailures, "redeem-failures", c.RedeemFailures, "failed code redeems one principal may make per --redeem-failure-window")
	fs.IntVar(&c.AddressRedeemFailures, "address-redeem-failures", c.AddressRedeemFailures, "failed code redeems one client address may make per --redeem-failure-window")
	fs.DurationVar(&c.RedeemFailureWindow, "redeem-failure-window", c.RedeemFailureWindow, "the sliding window in which failed redeems are counted")
	fs.IntVar(&c.MaxCodesPerJourney, "max-codes-per-journey", c.MaxCodesPerJourney, "handoff codes of one journey that work at once; a new one replaces the oldest")
	fs.IntVar(&c.HandoffsPerJourney, "handoffs-per-journey", c.HandoffsPerJourney, "handoff codes one journey may be given per --code-ttl")
	fs.Var(&c.TrustedProxies, "trusted-proxies", "comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed; empty: nobody's")
	fs.StringVar(&c.OTLPEndpoint, "otlp-endpoint", c.OTLPEndpoint, "OTLP/gRPC collector URL (http://collector:4317) to export traces to; empty: OTEL_EXPORTER_OTLP_ENDPOINT if set, else no tracing")
	fs.Var(&c.CORSAllowedOrigins, "cors-allowed-origins", "comma-separated origins (https://shop.example.com) whose pages may call the REST API from a browser; empty: none")
	fs.DurationVar(&c.BodyReadTimeout, "body-read-timeout", c.BodyReadTimeout, "how long a client may take to send an HTTP request body")
	fs.IntVar(&c.MaxHeaderBytes, "max-header-bytes", c.MaxHeaderBytes, "largest HTTP request header section")
	fs.IntVar(&c.MaxDataDepth, "max-data-depth", c.MaxDataDepth, "how deeply a journey's answers may nest")
	fs.IntVar(&c.MaxDataKeys, "max-data-keys", c.MaxDataKeys, "how many keys a journey's answers may hold in all")
	fs.IntVar(&c.MaxStringBytes, "max-string-bytes", c.MaxStringBytes, "longest single answer")
	fs.IntVar(&c.MaxPageSize, "max-page-size", c.MaxPageSize, "most journeys or timeline entries one page lists; a larger page_size gets this many")
	fs.IntVar(&c.MaxDataBytes, "max-data-bytes", c.MaxDataBytes, "largest size of a journey's answers")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest HTTP request body")
	fs.IntVar(&c.MaxMessageBytes, "max-message-bytes", c.MaxMessageBytes, "largest gRPC request message")
	fs.BoolVar(&c.Events.On, "events", c.Events.On, "keep every touchpoint as an event (a Redis Stream) for other systems; implied by --webhooks-file and --remind-before")
	fs.DurationVar(&c.Events.Retention, "events-retention", c.Events.Retention, "how long events (and dead letters) are kept")
	fs.StringVar(&c.Events.WebhooksFile, "webhooks-file", c.Events.WebhooksFile, "YAML file of webhooks events are delivered to, read at start and on SIGHUP")
	fs.BoolVar(&c.Insight.On, "insight", c.Insight.On, "count where journeys stop, switch channel and are resumed, per journey type and day (docs/insight.md)")
	fs.DurationVar(&c.Insight.Flush, "insight-flush", c.Insight.Flush, "how often an instance writes the insight counts it made; a killed instance loses at most this much")
	fs.DurationVar(&c.Insight.Retention, "insight-retention", c.Insight.Retention, "how long a day's insight counts are kept after the day")
	fs.DurationVar(&c.Events.RemindBefore, "remind-before", c.Events.RemindBefore, "how long before a journey expires a journey.expiring event goes out, for journey types that set no remind_before; 0: never")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight calls may take to finish on SIGTERM")
	fs.TextVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " [" + EnvName(f.Name) + "]" })
	fs.Usage = func() {
		fmt.Fprintf(output, usageHead, EncryptionKeysEnv)
		fs.PrintDefaults()
	}

	var envErrs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := lookupEnv(EnvName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, err))
			}
		}
	})
	if err := errors.Join(envErrs...); err != nil {
		return Config{}, err
	}
	// Key material only through the environment, never a flag: a command
	// line is visible to every user of the machine.
	if v, ok := lookupEnv(EncryptionKeysEnv); ok {
		c.EncryptionKeys = v
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q: handoffd takes only flags", fs.Args())
	}
	return c, c.Validate()
}

// Validate reports every setting that cannot work, each named by its flag.
func (c Config) Validate() error {
	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s (%s): %s", flagName, EnvName(flagName), fmt.Sprintf(format, args...)))
	}
	for name, addr := range map[string]string{"grpc-addr": c.GRPCAddr, "http-addr": c.HTTPAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(name, "%q is not host:port", addr)
		}
	}
	if c.GRPCAddr == c.HTTPAddr && !strings.HasSuffix(c.GRPCAddr, ":0") {
		bad("http-addr", "must differ from --grpc-addr")
	}
	if c.DebugAddr != "" {
		// Profiles show the command line and the code's inner workings:
		// reach them through SSH or a port-forward, never the network.
		if host, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			bad("debug-addr", "%q is not host:port", c.DebugAddr)
		} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			bad("debug-addr", "%q is not a loopback address (localhost, 127.0.0.1 or ::1)", c.DebugAddr)
		}
	}
	switch {
	case c.TLSCertFile != "" && c.TLSKeyFile == "":
		bad("tls-key-file", "is required with --tls-cert-file")
	case c.TLSCertFile == "" && c.TLSKeyFile != "":
		bad("tls-cert-file", "is required with --tls-key-file")
	}
	var redisScheme string
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("redis-url", "must look like redis://host:port or rediss://host:port")
		} else {
			redisScheme = u.Scheme
		}
	}
	// A CA nothing uses most likely means the URL lost its second s: refuse
	// rather than talk to Redis in clear text believing it is protected.
	// A hash tag in the prefix would decide the slot of every key, codes
	// and rate-limit counters included: one Cluster slot for everything.
	if strings.ContainsAny(c.RedisKeyPrefix, "{}") {
		bad("redis-key-prefix", "%q holds a brace; braces mark Redis Cluster hash tags, which the store sets itself", c.RedisKeyPrefix)
	}
	if c.RedisCAFile != "" && redisScheme != "rediss" {
		bad("redis-ca-file", "is set but --redis-url is not a rediss:// URL; use rediss://, or unset this")
	}
	if c.EncryptionKeysFile != "" && c.EncryptionKeys != "" {
		bad("encryption-keys-file", "cannot be combined with %s; choose one", EncryptionKeysEnv)
	}
	// Only Redis keeps anything at rest; keys without it most likely mean a
	// lost --redis-url, and answers kept in memory believing they are sealed.
	if (c.EncryptionKeysFile != "" || c.EncryptionKeys != "") && c.RedisURL == "" {
		bad("encryption-keys-file", "encryption keys are set but --redis-url is not; only Redis keeps answers at rest")
	}
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("otlp-endpoint", "%q is not a URL like http://collector:4317 (http: plaintext, https: TLS)", c.OTLPEndpoint)
		}
	}
	if c.RedisMinReplicasAck < 0 {
		bad("redis-min-replicas-ack", "must be 0 (do not wait) or more")
	}
	if c.RedisMinReplicasAck > 0 && c.RedisURL == "" {
		bad("redis-min-replicas-ack", "is set but --redis-url is not; only Redis has replicas")
	}
	if c.RedisReplicasAckTimeout < time.Millisecond {
		// WAIT with a timeout of 0 waits for ever.
		bad("redis-replicas-ack-timeout", "must be at least 1ms, e.g. 500ms")
	}
	c.JWT.validate(bad)
	for name, d := range map[string]time.Duration{"journey-ttl": c.JourneyTTL, "code-ttl": c.CodeTTL, "claim-lease": c.ClaimLease, "redeem-failure-window": c.RedeemFailureWindow, "shutdown-timeout": c.ShutdownTimeout, "body-read-timeout": c.BodyReadTimeout} {
		if d <= 0 {
			bad(name, "must be positive, e.g. 10m")
		}
	}
	if c.Events.Retention < time.Minute {
		bad("events-retention", "must be at least 1m, e.g. 72h: consumers need time to read")
	}
	if c.Insight.Flush < 100*time.Millisecond || c.Insight.Flush > time.Minute {
		bad("insight-flush", "must be from 100ms to 1m, e.g. 2s")
	}
	if c.Insight.Retention < 24*time.Hour {
		bad("insight-retention", "must be at least 24h, e.g. 9600h (400 days)")
	}
	if c.Events.RemindBefore < 0 {
		bad("remind-before", "must be 0 (never) or more")
	}
	if c.Events.RemindBefore > 0 && c.Events.RemindBefore >= c.JourneyTTL {
		// Every journey would be due for its reminder as it starts.
		bad("remind-before", "must be shorter than --journey-ttl (%s)", c.JourneyTTL)
	}
	if c.RedeemFailures <= 0 {
		bad("redeem-failures", "must be positive")
	}
	if c.IdentityLinkTTL <= 0 {
		bad("identity-link-ttl", "must be positive, e.g. 2160h")
	}
	for name, n := range map[string]int{"identity-lookups": c.IdentityLookups, "identity-check-failures": c.IdentityCheckFailures, "identity-links-per-customer": c.IdentityLinksPerCustomer} {
		if n <= 0 {
			bad(name, "must be positive")
		}
	}
	if _, err := identity.NewParser(c.IdentityDefaultRegion); err != nil {
		bad("identity-default-region", "%v", err)
	}
	if c.AddressRedeemFailures < c.RedeemFailures {
		bad("address-redeem-failures", "must be at least --redeem-failures (%d): many agents may share one address", c.RedeemFailures)
	}
	if c.MaxCodesPerJourney <= 0 {
		bad("max-codes-per-journey", "must be positive")
	}
	if c.HandoffsPerJourney < c.MaxCodesPerJourney {
		bad("handoffs-per-journey", "must be at least --max-codes-per-journey (%d)", c.MaxCodesPerJourney)
	}
	for name, n := range map[string]int{"max-data-depth": c.MaxDataDepth, "max-header-bytes": c.MaxHeaderBytes, "max-data-keys": c.MaxDataKeys, "max-string-bytes": c.MaxStringBytes, "max-page-size": c.MaxPageSize} {
		if n <= 0 {
			bad(name, "must be positive")
		}
	}
	if c.MaxDataBytes <= 0 {
		bad("max-data-bytes", "must be positive")
	}
	// The answers must fit in a request with room to spare, or an oversized
	// save would be refused as a whole body instead of naming journey.data.
	if c.MaxBodyBytes < 2*int64(c.MaxDataBytes) {
		bad("max-body-bytes", "must be at least twice --max-data-bytes (%d)", c.MaxDataBytes)
	}
	if c.MaxMessageBytes < 2*c.MaxDataBytes {
		bad("max-message-bytes", "must be at least twice --max-data-bytes (%d)", c.MaxDataBytes)
	}
	return errors.Join(errs...)
}

// validate reports, through bad, every JWT setting that cannot work.
func (j JWT) validate(bad func(flagName, format string, args ...any)) {
	if j.JWKSURL != "" && j.HS256SecretFile != "" {
		bad("jwt-hs256-secret-file", "cannot be combined with --jwt-jwks-url; choose the one your identity provider signs with")
	}
	if j.JWKSURL != "" {
		if u, err := url.Parse(j.JWKSURL); err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && loopback(u.Hostname())) {
			// Keys fetched over plain HTTP could be swapped on the way.
			bad("jwt-jwks-url", "must be an https:// URL (http:// only to localhost), e.g. https://idp.example.com/.well-known/jwks.json")
		}
	}
	source := "--jwt-jwks-url or --jwt-hs256-secret-file"
	for name, v := range map[string]string{"jwt-issuer": j.Issuer, "jwt-audience": j.Audience} {
		switch {
		case j.Enabled() && v == "":
			bad(name, "is required with %s", source)
		case !j.Enabled() && v != "":
			// Most likely the key source was misspelt; starting in DEV MODE
			// instead would hand out tokens to anyone reading the log.
			bad(name, "is set but no JWT key source is; set %s, or unset this", source)
		}
	}
	for name, v := range map[string]string{"jwt-role-claim": j.RoleClaim, "jwt-id-claim": j.IDClaim} {
		if v == "" {
			bad(name, "must name a claim")
		}
	}
	if j.ClockSkew < 0 || j.ClockSkew > maxClockSkew {
		bad("jwt-clock-skew", "must be between 0s and %s", maxClockSkew)
	}
}

// loopback reports whether host is this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Prefixes is a flag of comma-separated IP addresses or CIDR prefixes, e.g.
// `10.0.0.0/8,192.0.2.7`; an address is a prefix of its full length.
type Prefixes []netip.Prefix

// String implements flag.Value.
func (p *Prefixes) String() string {
	if p == nil {
		return ""
	}
	parts := make([]string, len(*p))
	for i, pre := range *p {
		parts[i] = pre.String()
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value; it replaces the list.
func (p *Prefixes) Set(v string) error {
	var out Prefixes
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(part); err == nil {
			out = append(out, pre.Masked())
			continue
		}
		addr, err := netip.ParseAddr(part)
		if err != nil {
			return fmt.Errorf("%q is neither an IP address nor a CIDR prefix like 10.0.0.0/8", part)
		}
		addr = addr.Unmap()
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	*p = out
	return nil
}

// Origins is a flag of comma-separated web origins, each a scheme, a host
// and an optional port, as a browser sends them in its Origin header:
// `https://shop.example.com,http://localhost:3000`.
type Origins []string

// String implements flag.Value.
func (o *Origins) String() string {
	if o == nil {
		return ""
	}
	return strings.Join(*o, ",")
}

// Set implements flag.Value; it replaces the list.
func (o *Origins) Set(v string) error {
	var out Origins
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if part == "*" {
			return errors.New(`"*" would let every website's pages call handoff with a token they hold; list the sites`)
		}
		u, err := url.Parse(part)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%q is not an origin like https://shop.example.com (a scheme, a host, a port if not the scheme's, nothing after)", part)
		}
		// Browsers send the origin lower-case and without a trailing slash.
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	*o = out
	return nil
}

// Contains reports whether addr is one of the prefixes.
func (p Prefixes) Contains(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, pre := range p {
		if pre.Contains(addr) {
			return true
		}
	}
	return false
}
