package identity

import (
	"errors"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Identity is a parsed, normalised identity.
type Identity struct {
	kind    handoffv1.IdentityKind
	network string // SOCIAL only
	normal  string // E.164, the lower-cased address, or "<network>:<handle>"
}

// Kind is what the identity is.
func (i Identity) Kind() handoffv1.IdentityKind { return i.kind }

// Network is the social network of a SOCIAL identity, else "".
func (i Identity) Network() string { return i.network }

// Normal is the normal form (`+31612345678`, `anna@example.com`,
// `instagram:anna.b`). It is personal data: it goes into a digest, never
// into a log, error or store.
func (i Identity) Normal() string { return i.normal }

// String names the kind only, so a formatted Identity leaks nothing.
func (i Identity) String() string { return kindName(i.kind) + " identity" }

// LogValue keeps the identity out of structured logs for the same reason.
func (i Identity) LogValue() slog.Value { return slog.StringValue(i.String()) }

// digestInput is what the digest is computed over: "<kind>:<normal>".
func (i Identity) digestInput() string { return kindName(i.kind) + ":" + i.normal }

func kindName(k handoffv1.IdentityKind) string {
	switch k {
	case handoffv1.IdentityKind_IDENTITY_KIND_PHONE:
		return "phone"
	case handoffv1.IdentityKind_IDENTITY_KIND_EMAIL:
		return "email"
	case handoffv1.IdentityKind_IDENTITY_KIND_SOCIAL:
		return "social"
	}
	return "unknown"
}

// Errors of Parse. None quotes what was parsed.
var (
	ErrNotAnIdentity = errors.New("not a phone number, e-mail address or social handle (social:<network>:<handle>)")
	ErrPhone         = errors.New("not a valid phone number")
	ErrPhoneRegion   = errors.New("a phone number without a country code: write it with + and the country code")
	ErrEmail         = errors.New("not a bare e-mail address (write only the address, like anna@example.com)")
	ErrSocial        = errors.New("not a social handle: write social:<network>:<handle>, the network 1 to 32 of a-z, 0-9 and -, the handle 1 to 64 of a-z, 0-9, '.', '_' and -")
)

var (
	networkPattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	handlePattern  = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)
	// phoneChars are what people write a number with; letters (vanity
	// numbers, which phonenumbers would read as digits) are not an identity.
	phoneChars = regexp.MustCompile(`^\+?[0-9 ()./-]+$`)
)

const socialPrefix = "social:"

// Parser parses identities; its DefaultRegion reads phone numbers written
// without a country code.
type Parser struct {
	defaultRegion string
}

// NewParser returns a Parser that reads a number without `+` as one of
// region (ISO 3166-1, `NL`); with region "" such a number is refused.
func NewParser(region string) (Parser, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region != "" && !phonenumbers.GetSupportedRegions()[region] {
		return Parser{}, errors.New("not a region phone numbers are known for: use a two-letter ISO 3166-1 code such as NL or GB")
	}
	return Parser{defaultRegion: region}, nil
}

// Parse reads s as a phone number, an e-mail address or
// `social:<network>:<handle>` and normalises it.
func (p Parser) Parse(s string) (Identity, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Identity{}, ErrNotAnIdentity
	case strings.HasPrefix(strings.ToLower(s), socialPrefix):
		return parseSocial(s[len(socialPrefix):])
	case strings.Contains(s, "@"):
		return parseEmail(s)
	case phoneChars.MatchString(s):
		return p.parsePhone(s)
	}
	return Identity{}, ErrNotAnIdentity
}

func (p Parser) parsePhone(s string) (Identity, error) {
	region := p.defaultRegion
	if !strings.HasPrefix(s, "+") {
		if region == "" {
			return Identity{}, ErrPhoneRegion
		}
	} else {
		region = "" // the + says which country; no default may override it
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return Identity{}, ErrPhone
	}
	return Identity{kind: handoffv1.IdentityKind_IDENTITY_KIND_PHONE, normal: phonenumbers.Format(num, phonenumbers.E164)}, nil
}

func parseEmail(s string) (Identity, error) {
	addr, err := mail.ParseAddress(s)
	// A bare address parses to itself; "Anna <anna@example.com>" or a
	// comment around it does not.
	if err != nil || addr.Name != "" || addr.Address != s {
		return Identity{}, ErrEmail
	}
	return Identity{kind: handoffv1.IdentityKind_IDENTITY_KIND_EMAIL, normal: strings.ToLower(addr.Address)}, nil
}

func parseSocial(rest string) (Identity, error) {
	network, handle, ok := strings.Cut(strings.ToLower(rest), ":")
	handle = strings.TrimPrefix(handle, "@")
	if !ok || !networkPattern.MatchString(network) || !handlePattern.MatchString(handle) {
		return Identity{}, ErrSocial
	}
	return Identity{kind: handoffv1.IdentityKind_IDENTITY_KIND_SOCIAL, network: network, normal: network + ":" + handle}, nil
}
