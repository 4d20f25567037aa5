package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

const (
	// readBatch and readWait bound one read of the stream; the wait is
	// well inside the lease, which is renewed beside it anyway.
	readBatch = 100
	readWait  = 5 * time.Second
	// recordTimeout bounds writing where a webhook stands after a
	// delivery, done even while stopping so no delivery is half-recorded.
	recordTimeout = 5 * time.Second
	// maxResponseBytes of an answer are read (so the connection can be
	// reused), never kept nor logged.
	maxResponseBytes = 64 << 10
)

var errLeaseLost = errors.New("the webhook's lease was lost (another instance delivers, or the store did not answer)")

// deliverer delivers the stream to one webhook.
type deliverer struct {
	hook    *Webhook
	opts    *Options
	metrics *hookMetrics
}

// run takes the webhook's lease and delivers while it holds it, until ctx
// ends; then it gives the lease up so another instance takes over at once.
func (d *deliverer) run(ctx context.Context) {
	log := d.opts.Logger.With("webhook", d.hook.Name)
	lease := LeaseName(d.hook.Name)
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := d.opts.Events.ReleaseLease(rctx, lease, d.opts.Holder); err != nil {
			log.Warn("cannot release the webhook's lease; another instance takes over when it lapses", "lease", lease, "error", err)
		}
		d.metrics.leaseHeld.Set(0)
	}()
	for ctx.Err() == nil {
		held, err := d.opts.Events.TakeLease(ctx, lease, d.opts.Holder, d.opts.LeaseTTL)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				log.Warn("cannot take the webhook's lease; trying again", "lease", lease, "error", err)
			}
		case held:
			log.Info("delivering to the webhook", "lease", lease)
			d.metrics.leaseHeld.Set(1)
			err := d.deliverWhileHeld(ctx, log)
			d.metrics.leaseHeld.Set(0)
			if ctx.Err() == nil {
				log.Warn("delivery to the webhook paused", "error", err)
			}
		}
		sleep(ctx, d.opts.LeaseTTL/3)
	}
}

// deliverWhileHeld delivers from the webhook's cursor on while the lease
// is renewed; it returns why it stopped.
func (d *deliverer) deliverWhileHeld(ctx context.Context, log *slog.Logger) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		d.keepLease(ctx, cancel, log)
	}()
	defer func() { cancel(nil); <-renewed }()

	consumer := Consumer(d.hook.Name)
	cursor, err := d.opts.Events.EventCursor(ctx, consumer)
	if err != nil {
		return stopped(ctx, err)
	}
	for {
		evs, err := d.opts.Events.ReadEvents(ctx, cursor, readBatch, readWait)
		if err != nil {
			return stopped(ctx, err)
		}
		for _, ev := range evs {
			if err := d.handle(ctx, ev, log); err != nil {
				return stopped(ctx, err)
			}
			cursor = ev.GetId()
		}
	}
}

// stopped is why delivery stopped: the lease lost, else err.
func stopped(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return err
}

// keepLease renews the lease every third of its TTL and cancels delivery
// when another holder has it, or when it could not be renewed for a TTL
// (it may have lapsed and been taken).
func (d *deliverer) keepLease(ctx context.Context, cancel context.CancelCauseFunc, log *slog.Logger) {
	lease := LeaseName(d.hook.Name)
	last := time.Now()
	tick := time.NewTicker(d.opts.LeaseTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		held, err := d.opts.Events.TakeLease(ctx, lease, d.opts.Holder, d.opts.LeaseTTL)
		switch {
		case err == nil && held:
			last = time.Now()
			continue
		case err == nil:
			cancel(errLeaseLost)
			return
		case ctx.Err() != nil:
			return
		}
		log.Warn("cannot renew the webhook's lease", "lease", lease, "error", err)
		if time.Since(last) >= d.opts.LeaseTTL {
			cancel(errLeaseLost)
			return
		}
	}
}

// handle delivers one event, retrying, and records it delivered, skipped
// or dead-lettered. An error means it is not recorded: delivery stopped,
// and the event will be delivered again.
func (d *deliverer) handle(ctx context.Context, ev *handoffv1.JourneyEvent, log *slog.Logger) error {
	if !d.hook.Wants(ev.GetType()) {
		return d.record(ctx, ev.GetId())
	}
	evLog := log.With("event", ev.GetId(), "type", ev.GetType(), "journey", ev.GetJourney())
	for attempt := 1; ; attempt++ {
		reason := d.attempt(ctx, ev)
		if reason == "" {
			d.metrics.delivered.Inc()
			return d.record(ctx, ev.GetId())
		}
		if ctx.Err() != nil {
			// Cut short by a stop: not an answer from the receiver.
			return context.Cause(ctx)
		}
		d.metrics.failed.Inc()
		if attempt >= d.hook.MaxAttempts {
			evLog.Warn("webhook event dead-lettered", "attempts", attempt, "reason", reason)
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
			err := d.opts.Events.DeadLetter(dctx, Consumer(d.hook.Name), ev, reason)
			cancel()
			if err != nil {
				return fmt.Errorf("keeping a dead letter: %w", err)
			}
			d.metrics.deadLettered.Inc()
			return d.record(ctx, ev.GetId())
		}
		wait := d.backoff(attempt)
		evLog.Warn("webhook delivery failed; retrying", "attempt", attempt, "reason", reason, "retry_in", wait.String())
		if !sleep(ctx, wait) {
			return context.Cause(ctx)
		}
	}
}

// record moves the webhook's cursor past id, even while stopping.
func (d *deliverer) record(ctx context.Context, id string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := d.opts.Events.SetEventCursor(rctx, Consumer(d.hook.Name), id); err != nil {
		return fmt.Errorf("moving the webhook's cursor: %w", err)
	}
	return nil
}

// backoff is the wait after the attempt-th failure: doubling, capped.
func (d *deliverer) backoff(attempt int) time.Duration {
	wait := d.opts.Backoff
	for i := 1; i < attempt && wait < d.opts.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, d.opts.MaxBackoff)
}

// attempt POSTs the event once; it returns "" when the webhook answered
// 2xx, else why not: a status code or a class of error, never a body.
func (d *deliverer) attempt(ctx context.Context, ev *handoffv1.JourneyEvent) string {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	body, err := d.body(ctx, ev)
	if err != nil {
		d.opts.Logger.Warn("cannot read the journey's answers for the webhook", "webhook", d.hook.Name, "event", ev.GetId(), "error", err)
		return "journey's answers not readable"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.hook.URL, bytes.NewReader(body))
	if err != nil {
		return "request not made"
	}
	if err := Sign(d.hook, req.Header, ev.GetId(), time.Now(), body); err != nil {
		return "not signed"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "handoff-webhooks")
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		return failure(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return ""
	}
	return "HTTP " + strconv.Itoa(resp.StatusCode)
}

// Sign sets the Standard Webhooks headers of one delivery of body.
func Sign(w *Webhook, h http.Header, id string, at time.Time, body []byte) error {
	sig, err := w.signer.Sign(id, at, body)
	if err != nil {
		return err
	}
	h.Set(standardwebhooks.HeaderWebhookID, id)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return nil
}

// body is the event's JSON as the webhook receives it: with the journey's
// answers as they are now, masked for staff, when it includes them.
func (d *deliverer) body(ctx context.Context, ev *handoffv1.JourneyEvent) ([]byte, error) {
	if !d.hook.IncludeAnswers || ev.GetJourney() == "" || ev.GetType() == store.EventExpired {
		return protojson.Marshal(ev)
	}
	answers, err := d.answers(ctx, ev)
	if err != nil {
		return nil, err
	}
	out := proto.CloneOf(ev)
	out.Answers = answers
	return protojson.Marshal(out)
}

func (d *deliverer) answers(ctx context.Context, ev *handoffv1.JourneyEvent) (*structpb.Struct, error) {
	key, err := store.ParseJourneyName(ev.GetJourney())
	if err != nil {
		return nil, err
	}
	j, err := d.opts.Journeys.GetJourney(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// Created after the event: the journey erased and started again under
	// its name, whose answers are not this event's.
	if j.GetCreateTime().AsTime().After(ev.GetTime().AsTime()) {
		return nil, nil
	}
	if d.opts.Masker == nil {
		return nil, errors.New("no masking rules to send answers with")
	}
	if err := d.opts.Masker.MaskSensitive(ctx, j); err != nil {
		return nil, err
	}
	return j.GetData(), nil
}

// failure names the class of a failed request, for dead letters, logs
// and operators: never the URL's query, the body or a header.
func failure(err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "no answer within " + Timeout.String()
	case errors.As(err, &dnsErr):
		return "host not found"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &certErr) || errors.As(err, &authErr) || errors.As(err, &hostErr) || errors.As(err, &recErr):
		return "TLS failed"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before an answer"
	}
	return "connection failed"
}

// sleep waits d unless ctx ends first; it reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
