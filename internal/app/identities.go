package app

import (
	"fmt"

	"github.com/journeyhandoff/handoff/internal/identity"
	"github.com/journeyhandoff/handoff/internal/service"
)

// loadIdentityKeys loads --identity-keys-file, if set: a file that does
// not load stops handoffd from starting. Without it identity links are
// off (the IdentityService says so).
func (a *App) loadIdentityKeys() (*service.IdentityKeys, error) {
	var ring *identity.Keyring
	if a.cfg.IdentityKeysFile != "" {
		var err error
		if ring, err = identity.LoadKeyring(a.cfg.IdentityKeysFile); err != nil {
			return nil, fmt.Errorf("--identity-keys-file: %w", err)
		}
		// The key id, never a key.
		a.log.Info("identity links are on", "current_key", ring.CurrentID())
	}
	keys, err := service.NewIdentityKeys(a.cfg.IdentityDefaultRegion, ring)
	if err != nil {
		return nil, fmt.Errorf("--identity-default-region: %w", err)
	}
	return keys, nil
}

// ReloadIdentityKeys reads --identity-keys-file again (docs/operations.md,
// rotating the key): new links use its first key, lookups try every key.
// A file that does not load changes nothing.
func (a *App) ReloadIdentityKeys() error {
	ring, err := identity.LoadKeyring(a.cfg.IdentityKeysFile)
	if err != nil {
		return err
	}
	a.identityKeys.Set(ring)
	a.log.Info("identity keys loaded", "current_key", ring.CurrentID())
	return nil
}
