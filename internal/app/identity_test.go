package app_test

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
)

// annasPhone is the number Anna calls from, as an agent's screen shows it.
const annasPhone = "+31 6 1234 5678"

// withIdentityKeys turns identity links on with a fresh key file.
func withIdentityKeys(t testing.TB) func(*config.Config) {
	path := filepath.Join(t.TempDir(), "identity-keys.txt")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	require.NoError(t, os.WriteFile(path, []byte("k1 "+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600))
	return func(c *config.Config) { c.IdentityKeysFile = path }
}

func (h *harness) identities() handoffv1.IdentityServiceClient {
	return handoffv1.NewIdentityServiceClient(h.conn)
}
