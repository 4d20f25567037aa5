package auth

import (
	"context"
	"errors"
	"strings"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// ErrUnauthenticated means the token is not one the authenticator accepts.
// Implementations wrap it; the interceptors answer UNAUTHENTICATED for it.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticator turns a bearer token into the principal it stands for.
//
// Authenticate returns an error wrapping ErrUnauthenticated when the token is
// unknown, expired or malformed. Any other error means the token could not
// be checked (a key server did not answer, say); the interceptors answer
// UNAVAILABLE for those, so a client retries instead of discarding a good
// token.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

// roleByName is how roles are spelled in configuration.
var roleByName = map[string]handoffv1.Role{
	"customer": handoffv1.Role_ROLE_CUSTOMER,
	"agent":    handoffv1.Role_ROLE_AGENT,
	"service":  handoffv1.Role_ROLE_SERVICE,
	"admin":    handoffv1.Role_ROLE_ADMIN,
	"analyst":  handoffv1.Role_ROLE_ANALYST,
}

// roleName spells a role the way configuration does (`agent`), for messages
// people read.
func roleName(r handoffv1.Role) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "ROLE_"))
}

// validRole reports whether r is one of the roles a principal can have.
func validRole(r handoffv1.Role) bool {
	for _, known := range roleByName {
		if r == known {
			return true
		}
	}
	return false
}
