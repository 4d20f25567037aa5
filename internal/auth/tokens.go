package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"unicode/utf8"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// MinTokenLength is the shortest token accepted. It only stops obvious
// placeholders (`test`, `secret`); real tokens should be long random strings.
const MinTokenLength = 8

// TokenEntry is one accepted token and the principal it stands for.
type TokenEntry struct {
	Token     string
	Principal string
	Role      handoffv1.Role
	// DisplayName is optional; see Principal.DisplayName.
	DisplayName string
}

// Tokens authenticates against a fixed list of tokens.
//
// Tokens are kept by their SHA-256 only. Looking up a hash in a map takes
// the same path however many leading bytes of a guess match a real token,
// which comparing secrets byte by byte would not; and a dump of the process
// memory does not hand out usable tokens.
type Tokens struct {
	byHash map[[sha256.Size]byte]Principal
}

var _ Authenticator = (*Tokens)(nil)

// NewTokens accepts exactly the given tokens. It rejects an empty list, empty
// tokens or principals, tokens shorter than MinTokenLength, roles other than
// customer, agent, service and admin, and a token listed twice (it could only
// stand for one principal). One principal may have several tokens, so a
// token can be rotated without downtime.
func NewTokens(entries []TokenEntry) (*Tokens, error) {
	return newTokens(entries, func(i int) string { return fmt.Sprintf("entry %d", i+1) })
}

// newTokens builds Tokens; where names entry i in errors, so a file can add
// its line numbers.
func newTokens(entries []TokenEntry, where func(i int) string) (*Tokens, error) {
	if len(entries) == 0 {
		return nil, errors.New("no tokens: list at least one, or nobody could call the API")
	}
	t := &Tokens{byHash: make(map[[sha256.Size]byte]Principal, len(entries))}
	first := make(map[[sha256.Size]byte]int, len(entries))
	for i, e := range entries {
		if err := checkEntry(e); err != nil {
			return nil, fmt.Errorf("%s: %w", where(i), err)
		}
		sum := sha256.Sum256([]byte(e.Token))
		if j, dup := first[sum]; dup {
			return nil, fmt.Errorf("%s: same token as %s; give every principal its own token", where(i), where(j))
		}
		first[sum] = i
		t.byHash[sum] = Principal{ID: e.Principal, Role: e.Role, DisplayName: e.DisplayName}
	}
	return t, nil
}

// checkEntry validates one entry. Its messages never include the token:
// they end up in logs.
func checkEntry(e TokenEntry) error {
	switch {
	case e.Token == "":
		return errors.New("token is empty")
	case utf8.RuneCountInString(e.Token) < MinTokenLength:
		return fmt.Errorf("token is shorter than %d characters; use a long random secret, e.g. from `openssl rand -hex 32`", MinTokenLength)
	case e.Principal == "":
		return errors.New("principal is empty; name who uses this token, e.g. shop-website")
	case !validRole(e.Role):
		return fmt.Errorf("role %s is not one a principal can have; use customer, agent, service or admin", e.Role)
	}
	return nil
}

// Authenticate returns the principal of token, or an error wrapping
// ErrUnauthenticated when the token is not in the list.
func (t *Tokens) Authenticate(_ context.Context, token string) (Principal, error) {
	p, ok := t.byHash[sha256.Sum256([]byte(token))]
	if !ok {
		return Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	return p, nil
}
