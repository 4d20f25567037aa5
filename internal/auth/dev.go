package auth

import (
	"crypto/rand"
	"encoding/hex"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// devPrincipals are the callers of a development server, one per role. The
// customer is `c-42` so the demo pages have a customer id to work with.
var devPrincipals = []struct {
	id   string
	role handoffv1.Role
}{
	{"dev-website", handoffv1.Role_ROLE_SERVICE},
	{"dev-agent", handoffv1.Role_ROLE_AGENT},
	{"c-42", handoffv1.Role_ROLE_CUSTOMER},
	{"dev-admin", handoffv1.Role_ROLE_ADMIN},
	{"dev-analyst", handoffv1.Role_ROLE_ANALYST},
}

// DevTokens makes a fresh random token for each role, for running the server
// locally without writing a tokens file. The entries are returned so the
// caller can print them; they change on every start, so a token seen in a
// log or a screenshot stops working at the next restart. Each token starts
// with its role (`dev-agent-...`) so a person can tell them apart.
func DevTokens() (*Tokens, []TokenEntry) {
	entries := make([]TokenEntry, len(devPrincipals))
	for i, p := range devPrincipals {
		entries[i] = TokenEntry{
			Token:     "dev-" + roleName(p.role) + "-" + randomHex(16),
			Principal: p.id,
			Role:      p.role,
		}
	}
	t, err := NewTokens(entries)
	if err != nil {
		// Only a mistake in devPrincipals can get here.
		panic("auth: invalid dev tokens: " + err.Error())
	}
	return t, entries
}

// randomHex returns n random bytes as 2n hex characters. crypto/rand.Read
// never fails (it crashes the program if the system has no randomness).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
