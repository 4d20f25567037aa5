package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
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
	// maxInFlight bounds the events read and not yet past the cursor (in
	// a lane, being delivered, or handled behind one that is not), so a
	// failing receiver does not make handoffd hold the stream in memory.
	maxInFlight = 256
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

	cursor, err := d.opts.Events.EventCursor(ctx, Consumer(d.hook.Name))
	if err != nil {
		return stopped(ctx, err)
	}
	p := newProgress(cursor)

	// The lanes: each delivers its events one at a time, in stream order.
	// Whichever stops first (a stop, or a store error) stops them all, so
	// no lane moves past an event it did not handle.
	lanes := make([]chan *inFlight, max(d.hook.Concurrency, 1))
	var wg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan *inFlight, maxInFlight)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range lanes[i] {
				if ctx.Err() != nil {
					continue // stopping: left for the next holder
				}
				if err := d.handle(ctx, f.ev, log); err != nil {
					cancel(err)
					continue
				}
				p.done(f)
			}
		}()
	}
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		d.commit(ctx, cancel, p)
	}()

	err = d.read(ctx, p, lanes, cursor)
	cancel(err)
	for _, lane := range lanes {
		close(lane)
	}
	wg.Wait()
	<-committed
	// What the lanes finished while stopping is recorded all the same.
	if id, moved := p.uncommitted(); moved {
		if rerr := d.record(ctx, id); rerr != nil {
			log.Warn("cannot record where the webhook stands; its last events will be delivered again", "error", rerr)
		}
	}
	return stopped(ctx, err)
}

// read reads the stream from after on and hands each event to its lane,
// holding at most maxInFlight events not yet past the cursor; it returns
// why it stopped.
func (d *deliverer) read(ctx context.Context, p *progress, lanes []chan *inFlight, after string) error {
	for {
		evs, err := d.opts.Events.ReadEvents(ctx, after, readBatch, readWait)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			select {
			case p.slots <- struct{}{}:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			f := p.add(ev)
			after = ev.GetId()
			if !d.hook.Wants(ev.GetType()) {
				p.done(f) // passed over, in its place
				continue
			}
			lanes[lane(ev, len(lanes))] <- f
		}
	}
}

// commit records where the webhook stands each time the handled prefix
// of the stream grows, until ctx ends; a store error stops delivery.
func (d *deliverer) commit(ctx context.Context, cancel context.CancelCauseFunc, p *progress) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.advanced:
		}
		id, moved := p.uncommitted()
		if !moved {
			continue
		}
		if err := d.record(ctx, id); err != nil {
			cancel(err)
			return
		}
		p.committed(id)
	}
}

// lane is the lane of ev: by its customer, so a customer's events keep
// their order, and a customer.erased never overtakes the events of that
// customer's journeys (a receiver erases what it copied, then nothing of
// the customer arrives after).
func lane(ev *handoffv1.JourneyEvent, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(ev.GetCustomer()))
	return int(h.Sum32() % uint32(n))
}

// inFlight is an event read and not yet past the cursor.
type inFlight struct {
	ev   *handoffv1.JourneyEvent
	done bool
}

// progress is what of the stream is read and not yet past the cursor, in
// stream order: the cursor moves to the newest event such that it and
// every event before it were handled (delivered, passed over or
// dead-lettered), never past one in flight.
type progress struct {
	mu      sync.Mutex
	pending []*inFlight
	handled string // the newest id of the handled prefix
	written string // the id last recorded
	// advanced wakes commit when handled moves.
	advanced chan struct{}
	// slots bounds the events read ahead: one taken per event read, given
	// back when it leaves pending.
	slots chan struct{}
}

func newProgress(cursor string) *progress {
	return &progress{handled: cursor, written: cursor, advanced: make(chan struct{}, 1), slots: make(chan struct{}, maxInFlight)}
}

func (p *progress) add(ev *handoffv1.JourneyEvent) *inFlight {
	f := &inFlight{ev: ev}
	p.mu.Lock()
	p.pending = append(p.pending, f)
	p.mu.Unlock()
	return f
}

// done marks f handled and moves the handled prefix past every handled
// event at its head.
func (p *progress) done(f *inFlight) {
	p.mu.Lock()
	f.done = true
	n := 0
	for n < len(p.pending) && p.pending[n].done {
		p.handled = p.pending[n].ev.GetId()
		p.pending[n] = nil
		n++
	}
	p.pending = p.pending[n:]
	p.mu.Unlock()
	for range n {
		<-p.slots
	}
	if n > 0 {
		select {
		case p.advanced <- struct{}{}:
		default:
		}
	}
}

// uncommitted is the handled prefix's newest id when it is past what was
// recorded.
func (p *progress) uncommitted() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.handled, p.handled != p.written
}

func (p *progress) committed(id string) {
	p.mu.Lock()
	p.written = id
	p.mu.Unlock()
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
	every := d.opts.LeaseTTL / 3
	// The lease runs from when its renewal was sent, not answered.
	last := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sent := time.Now()
		held, err := d.opts.Events.TakeLease(ctx, lease, d.opts.Holder, d.opts.LeaseTTL)
		switch {
		case err == nil && held:
			last = sent
			continue
		case err == nil:
			cancel(errLeaseLost)
			return
		case ctx.Err() != nil:
			return
		}
		log.Warn("cannot renew the webhook's lease", "lease", lease, "error", err)
		// Stop before the lease can lapse, not after: the next try comes
		// a tick later, and another instance may take a lapsed lease.
		if time.Since(last)+every >= d.opts.LeaseTTL {
			cancel(errLeaseLost)
			return
		}
	}
}

// handle delivers one event, retrying, or dead-letters it; nil means it
// is handled and the cursor may pass it. An error means it is not:
// delivery stopped, and the event will be delivered again.
func (d *deliverer) handle(ctx context.Context, ev *handoffv1.JourneyEvent, log *slog.Logger) error {
	evLog := log.With("event", ev.GetId(), "type", ev.GetType(), "journey", ev.GetJourney())
	for attempt := 1; ; attempt++ {
		reason := d.attempt(ctx, ev)
		if reason == "" {
			d.metrics.delivered.Inc()
			return nil
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
			return nil
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
