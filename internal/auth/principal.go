package auth

import (
	"context"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Principal is an authenticated caller.
type Principal struct {
	// ID names the caller: a service (`shop-website`), an agent (`alice`) or,
	// for customers, their customer id (`c-42`), which is what
	// CustomerCanAccess compares with.
	ID   string
	Role handoffv1.Role
	// DisplayName is how a customer sees an agent who helps them ("Ravi");
	// empty means the ID.
	DisplayName string
}

type principalKey struct{}

// WithPrincipal returns a copy of ctx that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal the interceptors put into ctx. It is
// false for calls that skip authentication (health, reflection), so a
// handler that needs a principal must treat false as "not allowed".
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// CustomerCanAccess reports whether p may see and change the journeys of
// customer. Agents, services and admins work for many customers; a customer
// only for themselves. The service calls this once it knows the customer
// from the request and answers NOT_FOUND when it is false, so nobody learns
// whether another customer's journey exists.
func CustomerCanAccess(p Principal, customer string) bool {
	if RightsOf(p.Role).EveryCustomer {
		return true
	}
	// Only a customer is anyone's own customer; a role with no rights at
	// all reaches nobody.
	return p.Role == handoffv1.Role_ROLE_CUSTOMER && p.ID != "" && p.ID == customer
}
