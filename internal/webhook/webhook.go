// Package webhook delivers journey events to the webhooks of a webhooks
// file (docs/reach.md, "Webhooks"): each webhook by one instance at a time,
// over its concurrency's lanes (in stream order per journey), signed as Standard Webhooks say, retried with backoff
// and dead-lettered after its attempts, from a cursor kept in the store.
package webhook

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Journeys reads a journey for the answers of a webhook that includes them.
type Journeys interface {
	GetJourney(ctx context.Context, key store.JourneyKey) (*handoffv1.Journey, error)
}

// Masker masks a journey's sensitive answers as staff see them (the
// service's rules, by the journey's type version).
type Masker interface {
	MaskSensitive(ctx context.Context, j *handoffv1.Journey) error
}

// Options are what every deliverer shares.
type Options struct {
	Events   store.Events
	Journeys Journeys
	Masker   Masker
	// Holder names this instance in the webhooks' leases.
	Holder string
	Logger *slog.Logger
	// Registerer, when set, gets the delivery counters.
	Registerer prometheus.Registerer
	// Client sends the requests; nil: one with the 10 s timeout, no
	// redirects followed, and as many idle connections kept per receiver
	// as a webhook may have lanes, so each lane reuses its connection.
	Client *http.Client
	// Backoff is the first retry's wait, doubling up to MaxBackoff; 0:
	// 1 s and 30 s.
	Backoff, MaxBackoff time.Duration
	// LeaseTTL is how long a webhook's lease holds unless renewed; 0: 15 s.
	LeaseTTL time.Duration
}

// Timeout bounds one delivery: no answer within it is a failed attempt.
const Timeout = 10 * time.Second

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.MaxIdleConnsPerHost = MaxConcurrency
		transport.MaxIdleConns = 0 // no bound across receivers; each is bounded above
		o.Client = &http.Client{
			Transport: transport,
			Timeout:   Timeout,
			// A redirect is the receiver's mistake to fix, not ours to
			// follow: it would send signed events wherever it points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 15 * time.Second
	}
}

// Deliverers runs one deliverer per webhook until Stop.
type Deliverers struct {
	opts    Options
	metrics *metrics
	ctx     context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	running map[string]*running
}

type running struct {
	hook   *Webhook
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts delivering to hooks; ctx bounds them all.
func Start(ctx context.Context, hooks []*Webhook, opts Options) *Deliverers {
	opts.defaults()
	d := &Deliverers{opts: opts, metrics: newMetrics(opts.Registerer), running: map[string]*running{}}
	d.ctx, d.cancel = context.WithCancel(ctx)
	d.Reload(hooks)
	return d
}

// Reload delivers to hooks from now on: a webhook no longer listed or
// changed is stopped (an event being delivered to it is delivered again
// by its successor: at least once), a new or changed one started, an
// unchanged one left running.
func (d *Deliverers) Reload(hooks []*Webhook) {
	d.mu.Lock()
	defer d.mu.Unlock()
	keep := map[string]bool{}
	for _, h := range hooks {
		if r := d.running[h.Name]; r != nil && r.hook.same(h) {
			keep[h.Name] = true
		}
	}
	for name, r := range d.running {
		if !keep[name] {
			r.cancel()
			<-r.done
			delete(d.running, name)
		}
	}
	for _, h := range hooks {
		if keep[h.Name] {
			continue
		}
		ctx, cancel := context.WithCancel(d.ctx)
		r := &running{hook: h, cancel: cancel, done: make(chan struct{})}
		d.running[h.Name] = r
		dl := &deliverer{hook: h, opts: &d.opts, metrics: d.metrics.of(h.Name)}
		go func() {
			defer close(r.done)
			dl.run(ctx)
		}()
	}
}

// Stop stops every deliverer and returns once each released its lease.
func (d *Deliverers) Stop() {
	d.cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, r := range d.running {
		<-r.done
		delete(d.running, name)
	}
}

// LeaseName is the store lease one instance holds to deliver to the webhook.
func LeaseName(webhook string) string { return "webhook:" + webhook }

// Consumer is the name the webhook's cursor and dead letters are kept
// under in the store: its own, so its dead letters are
// `{_events}:dead:<name>` (docs/reach.md).
func Consumer(webhook string) string { return webhook }
