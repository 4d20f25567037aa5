package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

// writeFile writes content to a fresh file and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

const validFile = `
tokens:
  - {token: "web-secret", principal: "shop-website", role: service}
  - {token: "alice-secret", principal: "alice", role: agent}
  - {token: "c42-secret", principal: "c-42", role: customer}
  - token: boss-secret
    principal: root
    role: admin
`

func TestLoadTokensFile_valid_file_authenticates_every_entry(t *testing.T) {
	tokens, err := auth.LoadTokensFile(writeFile(t, validFile))
	require.NoError(t, err)

	tests := []struct {
		token string
		want  auth.Principal
	}{
		{"web-secret", auth.Principal{ID: "shop-website", Role: handoffv1.Role_ROLE_SERVICE}},
		{"alice-secret", auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT}},
		{"c42-secret", auth.Principal{ID: "c-42", Role: handoffv1.Role_ROLE_CUSTOMER}},
		{"boss-secret", auth.Principal{ID: "root", Role: handoffv1.Role_ROLE_ADMIN}},
	}
	for _, tt := range tests {
		t.Run(tt.want.ID, func(t *testing.T) {
			got, err := tokens.Authenticate(t.Context(), tt.token)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLoadTokensFile_rejects_invalid_files(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr []string // substrings the error must contain besides the path
	}{
		{
			name:    "unknown_top_level_key",
			content: "token:\n  - {token: \"web-secret\", principal: \"w\", role: service}\n",
			wantErr: []string{"field token not found"},
		},
		{
			name: "unknown_key_in_an_entry",
			content: "tokens:\n" +
				"  - {token: \"web-secret\", principal: \"w\", role: service}\n" +
				"  - {token: \"alice-secret\", principal: \"alice\", rol: agent}\n",
			wantErr: []string{"entry 2 (line 3)", `unknown key "rol"`},
		},
		{
			name:    "unknown_role",
			content: "tokens:\n  - {token: \"web-secret\", principal: \"w\", role: superuser}\n",
			wantErr: []string{"entry 1 (line 2)", `role "superuser" is unknown`},
		},
		{
			name:    "role_in_the_wrong_case",
			content: "tokens:\n  - {token: \"web-secret\", principal: \"w\", role: Agent}\n",
			wantErr: []string{"entry 1", `role "Agent" is unknown`},
		},
		{
			name:    "missing_role",
			content: "tokens:\n  - {token: \"web-secret\", principal: \"w\"}\n",
			wantErr: []string{"entry 1", "role is missing"},
		},
		{
			name:    "empty_token",
			content: "tokens:\n  - {token: \"\", principal: \"w\", role: service}\n",
			wantErr: []string{"entry 1", "token is empty"},
		},
		{
			name:    "empty_principal",
			content: "tokens:\n  - {token: \"web-secret\", principal: \"\", role: service}\n",
			wantErr: []string{"entry 1", "principal is empty"},
		},
		{
			name: "duplicate_token",
			content: "tokens:\n" +
				"  - {token: \"web-secret\", principal: \"w\", role: service}\n" +
				"  - {token: \"alice-secret\", principal: \"alice\", role: agent}\n" +
				"  - {token: \"web-secret\", principal: \"bob\", role: agent}\n",
			wantErr: []string{"entry 3 (line 4)", "same token as entry 1 (line 2)"},
		},
		{
			name:    "token_shorter_than_8_characters",
			content: "tokens:\n  - {token: \"short\", principal: \"w\", role: service}\n",
			wantErr: []string{"entry 1", "shorter than 8 characters"},
		},
		{
			name:    "duplicate_key_in_an_entry",
			content: "tokens:\n  - {token: \"web-secret\", token: \"web-secret2\", principal: \"w\", role: service}\n",
			wantErr: []string{"entry 1", "already defined"},
		},
		{
			name:    "entry_that_is_not_a_mapping",
			content: "tokens:\n  - web-secret\n",
			wantErr: []string{"entry 1 (line 2)", "not a mapping"},
		},
		{
			name:    "no_entries",
			content: "tokens: []\n",
			wantErr: []string{"no tokens"},
		},
		{
			name:    "empty_file",
			content: "",
			wantErr: []string{"file is empty"},
		},
		{
			name:    "two_documents",
			content: "tokens:\n  - {token: \"web-secret\", principal: \"w\", role: service}\n---\ntokens: []\n",
			wantErr: []string{"more than one YAML document"},
		},
		{
			name:    "broken_yaml",
			content: "tokens:\n  - {token: \"web-secret\"\n",
			wantErr: []string{"yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			tokens, err := auth.LoadTokensFile(path)
			require.Error(t, err)
			require.Nil(t, tokens)
			require.Contains(t, err.Error(), path)
			for _, want := range tt.wantErr {
				require.Contains(t, err.Error(), want)
			}
			// Errors end up in logs; they must not carry secrets.
			require.NotContains(t, err.Error(), "web-secret")
			require.NotContains(t, err.Error(), "short\"")
		})
	}
}

func TestLoadTokensFile_missing_file_names_the_file(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := auth.LoadTokensFile(path)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Contains(t, err.Error(), path)
}

func TestNewTokens_rejects_invalid_entries(t *testing.T) {
	good := auth.TokenEntry{Token: "good-secret", Principal: "w", Role: handoffv1.Role_ROLE_SERVICE}
	tests := []struct {
		name    string
		entries []auth.TokenEntry
		wantErr string
	}{
		{"no_entries", nil, "no tokens"},
		{"unspecified_role", []auth.TokenEntry{good, {Token: "other-secret", Principal: "x"}}, "entry 2: role ROLE_UNSPECIFIED"},
		{"undefined_role", []auth.TokenEntry{{Token: "other-secret", Principal: "x", Role: 99}}, "entry 1: role 99"},
		{"duplicate_token", []auth.TokenEntry{good, good}, "entry 2: same token as entry 1"},
		{"token_of_7_characters", []auth.TokenEntry{{Token: "1234567", Principal: "x", Role: handoffv1.Role_ROLE_AGENT}}, "entry 1: token is shorter"},
		{"token_of_7_runes_in_more_bytes", []auth.TokenEntry{{Token: "ééééééé", Principal: "x", Role: handoffv1.Role_ROLE_AGENT}}, "entry 1: token is shorter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.NewTokens(tt.entries)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestNewTokens_lets_one_principal_have_several_tokens(t *testing.T) {
	tokens, err := auth.NewTokens([]auth.TokenEntry{
		{Token: "old-secret", Principal: "shop-website", Role: handoffv1.Role_ROLE_SERVICE},
		{Token: "new-secret", Principal: "shop-website", Role: handoffv1.Role_ROLE_SERVICE},
	})
	require.NoError(t, err)
	for _, token := range []string{"old-secret", "new-secret"} {
		p, err := tokens.Authenticate(t.Context(), token)
		require.NoError(t, err)
		require.Equal(t, "shop-website", p.ID)
	}
}

func TestTokens_Authenticate(t *testing.T) {
	tokens, err := auth.NewTokens([]auth.TokenEntry{
		{Token: "alice-secret", Principal: "alice", Role: handoffv1.Role_ROLE_AGENT},
	})
	require.NoError(t, err)

	tests := []struct {
		name    string
		token   string
		want    auth.Principal
		wantErr error
	}{
		{"good_token", "alice-secret", auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT}, nil},
		{"unknown_token", "mallory-secret", auth.Principal{}, auth.ErrUnauthenticated},
		{"empty_token", "", auth.Principal{}, auth.ErrUnauthenticated},
		{"prefix_of_a_good_token", "alice-secre", auth.Principal{}, auth.ErrUnauthenticated},
		{"good_token_in_other_case", "ALICE-SECRET", auth.Principal{}, auth.ErrUnauthenticated},
		{"good_token_with_a_trailing_space", "alice-secret ", auth.Principal{}, auth.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tokens.Authenticate(t.Context(), tt.token)
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.want, got)
			if err != nil && tt.token != "" {
				require.NotContains(t, err.Error(), tt.token, "errors must not carry the token")
			}
		})
	}
}

func TestDevTokens_gives_each_role_a_working_random_token(t *testing.T) {
	tokens, entries := auth.DevTokens()
	_, again := auth.DevTokens()

	want := []auth.Principal{
		{ID: "dev-website", Role: handoffv1.Role_ROLE_SERVICE},
		{ID: "dev-agent", Role: handoffv1.Role_ROLE_AGENT},
		{ID: "c-42", Role: handoffv1.Role_ROLE_CUSTOMER},
		{ID: "dev-admin", Role: handoffv1.Role_ROLE_ADMIN},
		{ID: "dev-analyst", Role: handoffv1.Role_ROLE_ANALYST},
	}
	require.Len(t, entries, len(want))
	for i, e := range entries {
		t.Run(e.Principal, func(t *testing.T) {
			require.Equal(t, want[i], auth.Principal{ID: e.Principal, Role: e.Role})

			prefix := "dev-" + strings.ToLower(strings.TrimPrefix(e.Role.String(), "ROLE_")) + "-"
			require.True(t, strings.HasPrefix(e.Token, prefix), "token %q should start with %q", e.Token, prefix)
			require.Regexp(t, `^[0-9a-f]{32}$`, strings.TrimPrefix(e.Token, prefix))
			require.NotEqual(t, again[i].Token, e.Token, "tokens must change on every call")

			got, err := tokens.Authenticate(t.Context(), e.Token)
			require.NoError(t, err)
			require.Equal(t, want[i], got)
		})
	}
}
