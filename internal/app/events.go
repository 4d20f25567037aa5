package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/journeyhandoff/handoff/internal/reminder"
	"github.com/journeyhandoff/handoff/internal/service"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/webhook"
)

// eventWorkers are the webhook deliverers and the reminder worker
// (docs/reach.md), started by Run and stopped before the store closes.
type eventWorkers struct {
	events store.Events
	// hooks are the webhooks file's, loaded by New and by reloads.
	hooks      []*webhook.Webhook
	deliverers *webhook.Deliverers
	reminders  sync.WaitGroup
}

// eventOptions are what the store gets when events are on; nil when off.
func (a *App) eventOptions() *store.EventOptions {
	if !a.cfg.Events.Enabled() {
		return nil
	}
	return &store.EventOptions{Retention: a.cfg.Events.Retention, RemindBefore: a.remindBefore}
}

// remindBefore is how long before it expires a journey of a type version
// is reminded: the type's remind_before, else --remind-before. The store
// and the reminder worker both ask it, so they agree on what is due.
func (a *App) remindBefore(journeyType string, version int64) time.Duration {
	return a.types.RemindBefore(journeyType, version, a.cfg.Events.RemindBefore)
}

// loadEvents loads the webhooks file (one that does not load stops the
// start) once the store is open.
func (a *App) loadEvents() error {
	if !a.cfg.Events.Enabled() {
		return nil
	}
	a.ev = &eventWorkers{events: a.store}
	if a.cfg.Events.WebhooksFile == "" {
		return nil
	}
	hooks, err := webhook.LoadFile(a.cfg.Events.WebhooksFile)
	if err != nil {
		return fmt.Errorf("--webhooks-file: %w", err)
	}
	a.ev.hooks = hooks
	a.log.Info("webhooks loaded", "file", a.cfg.Events.WebhooksFile, "webhooks", hookNames(hooks))
	return nil
}

func hookNames(hooks []*webhook.Webhook) []string {
	names := make([]string, len(hooks))
	for i, h := range hooks {
		names[i] = h.Name
	}
	return names
}

// startEvents starts delivering to the webhooks and sending reminders
// until ctx ends (stopEvents waits for them).
func (a *App) startEvents(ctx context.Context) {
	if a.ev == nil {
		return
	}
	holder := holderID()
	a.ev.deliverers = webhook.Start(ctx, a.ev.hooks, webhook.Options{
		Events: a.ev.events, Journeys: a.store, Masker: a.types, Holder: holder,
		Logger: a.log, Registerer: a.reg,
	})
	a.ev.reminders.Add(1)
	go func() {
		defer a.ev.reminders.Done()
		reminder.Run(ctx, reminder.Options{
			Events: a.ev.events, Journeys: a.store, RemindBefore: a.remindBefore,
			LoadType: func(ctx context.Context, id string, version int64) error {
				_, err := a.types.Version(ctx, id, version)
				return err
			},
			Actor: service.SystemActor(), Holder: holder, Logger: a.log,
		})
	}()
}

// stopEvents waits for the workers, whose context has ended, to record
// what they delivered and release their leases.
func (a *App) stopEvents() {
	if a.ev == nil || a.ev.deliverers == nil {
		return
	}
	a.ev.deliverers.Stop()
	a.ev.reminders.Wait()
}

// ReloadWebhooks reads --webhooks-file again and delivers to what it
// lists; a file that does not load changes nothing.
func (a *App) ReloadWebhooks() error {
	if a.ev == nil || a.cfg.Events.WebhooksFile == "" {
		return nil
	}
	hooks, err := webhook.LoadFile(a.cfg.Events.WebhooksFile)
	if err != nil {
		return err
	}
	a.ev.hooks = hooks
	if a.ev.deliverers != nil {
		a.ev.deliverers.Reload(hooks)
	}
	a.log.Info("webhooks loaded", "file", a.cfg.Events.WebhooksFile, "webhooks", hookNames(hooks))
	return nil
}

// holderID names this instance in the store's leases: host, process and
// a random part, so two processes never share one.
func holderID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + "/" + strconv.Itoa(os.Getpid()) + "/" + hex.EncodeToString(b)
}
