package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"sigs.k8s.io/yaml"

	"github.com/journeyhandoff/handoff/internal/store"
)

// DefaultMaxAttempts is how many times an event is tried before it goes
// to the dead letters when a webhook does not say: with the backoff, about
// four minutes of a receiver not answering.
const DefaultMaxAttempts = 12

// maxMaxAttempts keeps one event from holding a webhook's stream back for
// days: past it, the dead letters are the place to look.
const maxMaxAttempts = 100

// DefaultConcurrency is how many lanes deliver a webhook's events when it
// does not say; MaxConcurrency bounds what it may say.
const (
	DefaultConcurrency = 8
	MaxConcurrency     = 64
)

// EventTypes are the types a webhook may ask for.
var EventTypes = []string{store.EventTouched, store.EventExpiring, store.EventExpired, store.EventCustomerErased}

var namePattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// Secret sizes the Standard Webhooks specification asks for.
const (
	minSecretBytes = 24
	maxSecretBytes = 64
	secretPrefix   = "whsec_"
)

// Endpoint is one webhook as the file declares it.
type Endpoint struct {
	// Name is the webhook's id: its lease, cursor and dead letters are
	// kept under it, so renaming a webhook starts it over.
	Name string `json:"name"`
	URL  string `json:"url"`
	// SecretFile holds the signing secret, `whsec_<base64>`; a relative
	// path is read from the webhooks file's directory.
	SecretFile string `json:"secretFile"`
	// IncludeAnswers adds the journey's answers (sensitive ones masked).
	IncludeAnswers bool `json:"includeAnswers"`
	// Types are the event types delivered; empty: all of them.
	Types []string `json:"types"`
	// MaxAttempts bounds the tries of one event; 0: DefaultMaxAttempts.
	MaxAttempts int `json:"maxAttempts"`
	// Concurrency is how many lanes deliver at once: events are spread
	// over them by customer, each lane in stream order; 0:
	// DefaultConcurrency.
	Concurrency int `json:"concurrency"`
}

// Webhook is an Endpoint loaded: its secret read and checked.
type Webhook struct {
	Endpoint
	secret []byte
	signer *standardwebhooks.Webhook
}

// Wants reports whether the webhook asked for events of type t.
func (w *Webhook) Wants(t string) bool {
	return len(w.Types) == 0 || slices.Contains(w.Types, t)
}

// same reports whether two loaded webhooks deliver alike, so a reload
// leaves an unchanged one running.
func (w *Webhook) same(o *Webhook) bool {
	return w.Name == o.Name && w.URL == o.URL && w.IncludeAnswers == o.IncludeAnswers &&
		slices.Equal(w.Types, o.Types) && w.MaxAttempts == o.MaxAttempts && w.Concurrency == o.Concurrency && bytes.Equal(w.secret, o.secret)
}

type file struct {
	Webhooks []Endpoint `json:"webhooks"`
}

// LoadFile reads a webhooks file (YAML, docs/operations.md) and every
// secret file it names. Anything wrong refuses the whole file, with an
// error naming the file and the field; an error never quotes a secret.
func LoadFile(path string) ([]*Webhook, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("webhooks file %s: %w", path, err)
	}
	hooks, err := parse(raw, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("webhooks file %s: %w", path, err)
	}
	return hooks, nil
}

func parse(raw []byte, dir string) ([]*Webhook, error) {
	js, err := yaml.YAMLToJSONStrict(raw)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w; the file holds one key, webhooks, a list of {name, url, secretFile, includeAnswers, types, maxAttempts, concurrency}", err)
	}
	var errs []error
	names := map[string]bool{}
	hooks := make([]*Webhook, 0, len(f.Webhooks))
	for i, ep := range f.Webhooks {
		bad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("webhooks[%d].%s: %s", i, field, fmt.Sprintf(format, args...)))
		}
		switch {
		case !namePattern.MatchString(ep.Name):
			bad("name", "%q must be 1 to 32 of a-z, 0-9 and -", ep.Name)
		case names[ep.Name]:
			bad("name", "%q is used twice", ep.Name)
		}
		names[ep.Name] = true
		u, err := url.Parse(ep.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("url", "must be an http:// or https:// URL")
		case ep.IncludeAnswers && u.Scheme == "http" && !loopback(u.Hostname()):
			// Answers (sensitive ones masked) must not cross a network in clear.
			bad("url", "must be https:// with includeAnswers (http:// only to a loopback address)")
		}
		for j, t := range ep.Types {
			if !slices.Contains(EventTypes, t) {
				bad(fmt.Sprintf("types[%d]", j), "%q is not one of %s", t, strings.Join(EventTypes, ", "))
			}
		}
		switch {
		case ep.MaxAttempts == 0:
			ep.MaxAttempts = DefaultMaxAttempts
		case ep.MaxAttempts < 0 || ep.MaxAttempts > maxMaxAttempts:
			bad("maxAttempts", "must be between 1 and %d (0: %d)", maxMaxAttempts, DefaultMaxAttempts)
		}
		switch {
		case ep.Concurrency == 0:
			ep.Concurrency = DefaultConcurrency
		case ep.Concurrency < 0 || ep.Concurrency > MaxConcurrency:
			bad("concurrency", "must be between 1 and %d (0: %d)", MaxConcurrency, DefaultConcurrency)
		}
		w := &Webhook{Endpoint: ep}
		if ep.SecretFile == "" {
			bad("secretFile", "is required: the file holding the signing secret, whsec_<base64>")
		} else {
			p := ep.SecretFile
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if w.secret, err = readSecret(p); err != nil {
				bad("secretFile", "%v", err)
			} else if w.signer, err = standardwebhooks.NewWebhookRaw(w.secret); err != nil {
				bad("secretFile", "%s: %v", p, err)
			}
		}
		hooks = append(hooks, w)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return hooks, nil
}

// readSecret reads a Standard Webhooks secret: `whsec_` and the base64 of
// 24 to 64 random bytes.
func readSecret(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(raw))
	if !strings.HasPrefix(s, secretPrefix) {
		return nil, fmt.Errorf("%s: the secret must start with %s", path, secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, secretPrefix))
	if err != nil {
		return nil, fmt.Errorf("%s: the secret after %s is not standard base64", path, secretPrefix)
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, fmt.Errorf("%s: the secret is %d bytes; it must be %d to %d (e.g. whsec_$(head -c 32 /dev/urandom | base64 -w0))", path, len(key), minSecretBytes, maxSecretBytes)
	}
	return key, nil
}

// loopback reports whether host names this machine: the only place an
// http:// webhook may receive answers.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
