package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

const testSecret = "0123456789abcdef0123456789abcdef-handoff"

func TestHS256Authenticator(t *testing.T) {
	a, err := auth.NewHS256Authenticator([]byte(testSecret), testJWTConfig())
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	k := keys()

	tests := []struct {
		name  string
		token func(t *testing.T) string
		want  *auth.Principal // nil: refused
	}{
		{"good_token", func(t *testing.T) string {
			return sign(t, jwa.HS256(), []byte(testSecret), "", goodClaims())
		}, &auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT, DisplayName: "Alice"}},
		{"good_token_with_a_kid", func(t *testing.T) string {
			return sign(t, jwa.HS256(), []byte(testSecret), "hmac-1", goodClaims().with("role", "service", "sub", "shop-website", "name", nil))
		}, &auth.Principal{ID: "shop-website", Role: handoffv1.Role_ROLE_SERVICE}},
		{"wrong_secret", func(t *testing.T) string {
			return sign(t, jwa.HS256(), []byte(strings.ToUpper(testSecret)), "", goodClaims())
		}, nil},
		{"hs512_with_the_right_secret", func(t *testing.T) string {
			return sign(t, jwa.HS512(), []byte(testSecret), "", goodClaims())
		}, nil},
		{"rs256_token", func(t *testing.T) string {
			return signWith(t, jwa.RS256(), k.rsa1, goodClaims())
		}, nil},
		{"alg_none", func(t *testing.T) string {
			return unsigned(t, map[string]any{"alg": "none"}, goodClaims())
		}, nil},
		{"expired_token", func(t *testing.T) string {
			return sign(t, jwa.HS256(), []byte(testSecret), "", goodClaims().with("exp", time.Now().Add(-time.Hour).Unix()))
		}, nil},
		{"wrong_issuer", func(t *testing.T) string {
			return sign(t, jwa.HS256(), []byte(testSecret), "", goodClaims().with("iss", "someone-else"))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token(t)
			got, err := a.Authenticate(t.Context(), token)
			if tt.want == nil {
				requireUnauthenticated(t, token, got, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, *tt.want, got)
		})
	}
}

func TestNewHS256Authenticator_refuses_a_short_secret(t *testing.T) {
	_, err := auth.NewHS256Authenticator([]byte("too-short-secret"), testJWTConfig())
	require.ErrorContains(t, err, "at least 32")
	require.NotContains(t, err.Error(), "too-short-secret")
}

func TestReadHS256SecretFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
		wantErr string
	}{
		{"secret_with_a_newline", testSecret + "\n", testSecret, ""},
		{"secret_with_a_windows_newline", testSecret + "\r\n", testSecret, ""},
		{"secret_without_a_newline", testSecret, testSecret, ""},
		{"spaces_are_part_of_the_secret", " " + testSecret + " \n", " " + testSecret + " ", ""},
		{"short_secret", "short-secret\n", "", "at least 32"},
		{"empty_file", "", "", "0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jwt-secret")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			got, err := auth.ReadHS256SecretFile(path)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, path)
				require.NotContains(t, err.Error(), "short-secret")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
	_, err := auth.ReadHS256SecretFile(filepath.Join(t.TempDir(), "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
