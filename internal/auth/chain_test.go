package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

// fixedAuth accepts one token; for others it answers err, or
// unauthenticated when err is nil.
type fixedAuth struct {
	token string
	p     auth.Principal
	err   error
	calls *int
}

func (f fixedAuth) Authenticate(_ context.Context, token string) (auth.Principal, error) {
	if f.calls != nil {
		*f.calls++
	}
	if token == f.token {
		return f.p, nil
	}
	if f.err != nil {
		return auth.Principal{}, f.err
	}
	return auth.Principal{}, fmt.Errorf("%w: not mine", auth.ErrUnauthenticated)
}

func TestChain(t *testing.T) {
	alice := auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT}
	bob := auth.Principal{ID: "bob", Role: handoffv1.Role_ROLE_ADMIN}
	keyServerDown := errors.New("key server down")

	tests := []struct {
		name      string
		chain     auth.Chain
		token     string
		want      auth.Principal
		wantErr   error
		wantNotIs error // the error must not be this one
	}{
		{name: "first_accepts", chain: auth.FirstOf(fixedAuth{token: "a", p: alice}, fixedAuth{token: "a", p: bob}), token: "a", want: alice},
		{name: "second_accepts", chain: auth.FirstOf(fixedAuth{token: "a", p: alice}, fixedAuth{token: "b", p: bob}), token: "b", want: bob},
		{name: "none_accepts", chain: auth.FirstOf(fixedAuth{token: "a", p: alice}, fixedAuth{token: "b", p: bob}), token: "c", wantErr: auth.ErrUnauthenticated},
		{name: "empty_chain", chain: auth.FirstOf(), token: "a", wantErr: auth.ErrUnauthenticated},
		{name: "one_could_not_check_and_none_accepts", chain: auth.FirstOf(fixedAuth{token: "a", p: alice}, fixedAuth{err: keyServerDown}), token: "c",
			wantErr: keyServerDown, wantNotIs: auth.ErrUnauthenticated},
		{name: "one_could_not_check_and_another_accepts", chain: auth.FirstOf(fixedAuth{err: keyServerDown}, fixedAuth{token: "b", p: bob}), token: "b", want: bob},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.chain.Authenticate(t.Context(), tt.token)
			require.ErrorIs(t, err, tt.wantErr)
			if tt.wantNotIs != nil {
				require.NotErrorIs(t, err, tt.wantNotIs)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestChain_stops_at_the_first_success(t *testing.T) {
	var second int
	chain := auth.FirstOf(fixedAuth{token: "a"}, fixedAuth{token: "a", calls: &second})
	_, err := chain.Authenticate(t.Context(), "a")
	require.NoError(t, err)
	require.Zero(t, second)
}
