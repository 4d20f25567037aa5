package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/journeyhandoff/handoff/internal/journeytype"
)

// typesRefresh is how often an instance reads which journey type versions
// are the latest: a version another instance stored reaches this one's
// creates within it (docs/journeytypes.md).
const typesRefresh = 2 * time.Second

// startJourneyTypes loads --journey-types-dir (a definition that is not
// valid stops handoffd from starting: nothing half-loaded) and the types
// every instance stored.
func (a *App) startJourneyTypes(ctx context.Context) error {
	if a.cfg.JourneyTypesDir != "" {
		if err := a.ReloadJourneyTypes(ctx); err != nil {
			return fmt.Errorf("--journey-types-dir: %w", err)
		}
	}
	if err := a.types.Refresh(ctx); err != nil {
		return fmt.Errorf("reading the journey types: %w", err)
	}
	return nil
}

// ReloadJourneyTypes loads --journey-types-dir again: each definition
// that differs from its type's latest version becomes the next version.
// One invalid file refuses the whole directory, and nothing changes.
func (a *App) ReloadJourneyTypes(ctx context.Context) error {
	defs, err := journeytype.LoadDir(a.cfg.JourneyTypesDir)
	if err != nil {
		return err
	}
	added, err := a.types.PutAll(ctx, defs, time.Now())
	if err != nil {
		return err
	}
	a.log.Info("journey types loaded", "dir", a.cfg.JourneyTypesDir, "types", len(defs), "new_versions", added)
	return nil
}

// reloadOnHangup reloads the journey types, the webhooks and the identity
// keys on every SIGHUP until ctx ends; a directory or file that does not
// load is logged and leaves what was loaded before. With none of them a
// SIGHUP is logged, not fatal.
func (a *App) reloadOnHangup(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if a.cfg.JourneyTypesDir == "" && a.cfg.Events.WebhooksFile == "" && a.cfg.IdentityKeysFile == "" {
				a.log.Info("SIGHUP: no --journey-types-dir, --webhooks-file nor --identity-keys-file, nothing to reload")
				continue
			}
			if a.cfg.JourneyTypesDir != "" {
				if err := a.ReloadJourneyTypes(ctx); err != nil {
					a.log.Error("journey types not reloaded; the ones loaded before stay", "dir", a.cfg.JourneyTypesDir, "error", err)
				}
			}
			if err := a.ReloadWebhooks(); err != nil {
				a.log.Error("webhooks not reloaded; the ones loaded before stay", "file", a.cfg.Events.WebhooksFile, "error", err)
			}
			if a.cfg.IdentityKeysFile != "" {
				if err := a.ReloadIdentityKeys(); err != nil {
					a.log.Error("identity keys not reloaded; the ones loaded before stay", "file", a.cfg.IdentityKeysFile, "error", err)
				}
			}
		}
	}
}
