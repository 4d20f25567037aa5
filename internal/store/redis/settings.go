package redis

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"
)

// Settings are the store's configuration as handoffd's flags set it;
// handoffd's configuration embeds them, so a new one is a field here, its
// default in DefaultSettings, one flag and its line in Options.
type Settings struct {
	// RedisURL is where Redis is (see Open); empty means no Redis.
	RedisURL string
	// RedisKeyPrefix starts every key (see WithKeyPrefix).
	RedisKeyPrefix string
	// RedisCAFile is a PEM bundle of the CAs trusted for a rediss:// URL,
	// instead of the system's.
	RedisCAFile string
	// RedisMinReplicasAck is how many replicas must acknowledge each write
	// within RedisReplicasAckTimeout (see WithMinReplicasAck).
	RedisMinReplicasAck     int
	RedisReplicasAckTimeout time.Duration
}

// DefaultSettings are the settings with nothing configured.
func DefaultSettings() Settings {
	return Settings{RedisKeyPrefix: "handoff:", RedisReplicasAckTimeout: 500 * time.Millisecond}
}

// Options are the store's options the settings ask for. The error names
// the setting at fault.
func (s Settings) Options() ([]Option, error) {
	opts := []Option{
		WithKeyPrefix(s.RedisKeyPrefix),
		WithMinReplicasAck(s.RedisMinReplicasAck, s.RedisReplicasAckTimeout),
	}
	if s.RedisCAFile != "" {
		pem, err := os.ReadFile(s.RedisCAFile)
		if err != nil {
			return nil, fmt.Errorf("--redis-ca-file: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--redis-ca-file: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", s.RedisCAFile)
		}
		opts = append(opts, WithTLSRootCAs(roots))
	}
	return opts, nil
}
