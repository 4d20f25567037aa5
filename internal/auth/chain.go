package auth

import (
	"context"
	"errors"
	"fmt"
)

// Chain accepts a token any of its authenticators accepts, asking them in
// order; handoffd uses it to take both tokens-file and JWT bearer tokens.
type Chain []Authenticator

var _ Authenticator = Chain(nil)

// FirstOf returns a Chain of as.
func FirstOf(as ...Authenticator) Chain { return Chain(as) }

// Authenticate returns the principal of the first authenticator that
// accepts token. When none does, the error wraps ErrUnauthenticated only if
// every one of them said so: if one could not check the token (its key
// server was down, say), the token may be good, and its error is returned
// so the caller can retry.
func (c Chain) Authenticate(ctx context.Context, token string) (Principal, error) {
	var failed []error
	for _, a := range c {
		p, err := a.Authenticate(ctx, token)
		switch {
		case err == nil:
			return p, nil
		case !errors.Is(err, ErrUnauthenticated):
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return Principal{}, errors.Join(failed...)
	}
	return Principal{}, fmt.Errorf("%w: no authenticator accepts the token", ErrUnauthenticated)
}
