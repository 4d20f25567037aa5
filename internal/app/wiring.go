package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/sealing"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/memory"
	redisstore "github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/tracing"
)

// version is handoffd's module version for its traces: "(devel)" when built
// from a checkout.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info.Main.Version
	}
	return "unknown"
}

// openStore opens the store cfg names; events, when not nil, turn its
// events on, and writes, when not nil, make it report its writes.
func openStore(cfg config.Config, log *slog.Logger, traces *tracing.Tracing, typeTTL store.TTLFunc, events *store.EventOptions, writes *store.WriteOptions) (store.Store, error) {
	if cfg.RedisURL == "" {
		log.Warn("no --redis-url: journeys are kept in memory and lost when handoffd stops; set HANDOFF_REDIS_URL for production")
		opts := []memory.Option{memory.WithTTL(cfg.JourneyTTL), memory.WithTypeTTL(typeTTL)}
		if events != nil {
			opts = append(opts, memory.WithEvents(*events))
		}
		if writes != nil {
			opts = append(opts, memory.WithWrites(*writes))
		}
		return memory.New(opts...), nil
	}

	// go-redis logs reconnects through its own printf logger; route them into
	// our JSON logs so an operator sees one format.
	goredis.SetLogger(redisLogger{log})
	opts, err := cfg.Settings.Options()
	if err != nil {
		return nil, err
	}
	opts = append(opts, redisstore.WithTTL(cfg.JourneyTTL), redisstore.WithTypeTTL(typeTTL))
	if events != nil {
		opts = append(opts, redisstore.WithEvents(*events))
	}
	if writes != nil {
		opts = append(opts, redisstore.WithWrites(*writes))
	}
	if traces.Enabled {
		opts = append(opts, redisstore.WithTracing(traces.Provider))
	}
	ring, err := encryptionKeys(cfg)
	if err != nil {
		return nil, err
	}
	if ring != nil {
		opts = append(opts, redisstore.WithSealer(ring))
		// The key id, never the key.
		log.Info("answers and notes are sealed at rest", "current_key", ring.CurrentID())
	}
	st, err := redisstore.Open(cfg.RedisURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("--redis-url: %w", err)
	}
	log.Info("journeys are kept in Redis", "redis", redactedURL(cfg.RedisURL))
	return st, nil
}

// authenticator picks how bearer tokens are checked: a tokens file, JWTs
// from the identity provider, or both (a token either accepts is good).
// With neither, DEV MODE makes up tokens and prints them to banner.
//
// A JWKS is refreshed until ctx ends.
func authenticator(ctx context.Context, cfg config.Config, log *slog.Logger, banner io.Writer) (auth.Authenticator, error) {
	var chain auth.Chain
	if cfg.TokensFile != "" {
		tokens, err := auth.LoadTokensFile(cfg.TokensFile)
		if err != nil {
			return nil, fmt.Errorf("--tokens-file: %w", err)
		}
		// First: a map lookup, so a static token never costs a JWT parse.
		chain = append(chain, tokens)
	}
	if cfg.JWT.Enabled() {
		jwtAuth, err := jwtAuthenticator(ctx, cfg.JWT, log)
		if err != nil {
			return nil, err
		}
		chain = append(chain, jwtAuth)
	}
	switch len(chain) {
	case 0:
		return devAuthenticator(log, banner), nil
	case 1:
		return chain[0], nil
	}
	return chain, nil
}

// jwtAuthenticator builds the JWT authenticator cfg asks for. A JWKS is
// refreshed until ctx ends.
func jwtAuthenticator(ctx context.Context, cfg config.JWT, log *slog.Logger) (*auth.JWT, error) {
	jc := cfg.JWTConfig
	if cfg.HS256SecretFile != "" {
		secret, err := auth.ReadHS256SecretFile(cfg.HS256SecretFile)
		if err != nil {
			return nil, fmt.Errorf("--jwt-hs256-secret-file: %w", err)
		}
		a, err := auth.NewHS256Authenticator(secret, jc)
		if err != nil {
			return nil, fmt.Errorf("--jwt-hs256-secret-file: %w", err)
		}
		log.Info("bearer JWTs are checked with an HS256 shared secret", "issuer", cfg.Issuer, "audience", cfg.Audience)
		return a, nil
	}
	a, err := auth.NewJWKSAuthenticator(ctx, cfg.JWKSURL, jc, auth.WithJWKSLogger(log))
	if err != nil {
		return nil, fmt.Errorf("--jwt-jwks-url: %w", err)
	}
	log.Info("bearer JWTs are checked against the identity provider's JWKS", "jwks", cfg.JWKSURL, "issuer", cfg.Issuer, "audience", cfg.Audience)
	return a, nil
}

func devAuthenticator(log *slog.Logger, banner io.Writer) auth.Authenticator {
	tokens, entries := auth.DevTokens()
	log.Warn("DEV MODE: no --tokens-file and no JWT key source, so handoffd made up one token per role and printed them; never run like this in production")
	fmt.Fprintln(banner, "")
	fmt.Fprintln(banner, "************************************************************************")
	fmt.Fprintln(banner, "  DEV MODE: no --tokens-file given. These tokens work until handoffd")
	fmt.Fprintln(banner, "  stops. For real ones, write a tokens file (see README) and start with")
	fmt.Fprintln(banner, "  --tokens-file or HANDOFF_TOKENS_FILE. Paste these lines into a shell:")
	fmt.Fprintln(banner, "")
	for _, e := range entries {
		role := strings.ToLower(strings.TrimPrefix(e.Role.String(), "ROLE_"))
		fmt.Fprintf(banner, "  export %s=%s   # %s %q\n", devTokenEnv(role), e.Token, role, e.Principal)
	}
	fmt.Fprintln(banner, "************************************************************************")
	fmt.Fprintln(banner, "")
	return tokens
}

// devTokenEnv names the shell variable the banner exports a role's token as,
// e.g. HANDOFF_DEV_AGENT_TOKEN; the README's walk-through uses these.
func devTokenEnv(role string) string {
	return "HANDOFF_DEV_" + strings.ToUpper(role) + "_TOKEN"
}

// encryptionKeys is the configured keyring, or nil when none is.
func encryptionKeys(cfg config.Config) (*sealing.Keyring, error) {
	switch {
	case cfg.EncryptionKeysFile != "":
		ring, err := sealing.Load(cfg.EncryptionKeysFile)
		if err != nil {
			return nil, fmt.Errorf("--encryption-keys-file: %w", err)
		}
		return ring, nil
	case cfg.EncryptionKeys != "":
		ring, err := sealing.Parse(cfg.EncryptionKeys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.EncryptionKeysEnv, err)
		}
		return ring, nil
	}
	return nil, nil
}

// redactedURL keeps a Redis password out of the logs.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
