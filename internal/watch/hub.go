// Package watch fans journey changes out to watchers. One store feed per
// process, following the journeys watched here, feeds a hub; a few senders
// send each watcher what waits for it, so a change for thousands costs no
// goroutine per watcher. Each watcher has a bounded buffer, and a send
// blocked on a slow client holds up one sender, never the others: when a
// watcher's buffer is full its stream ends with a status that says where
// to resume. A watcher that misses changes (a gap, a resubscription)
// catches up from the store's change log, or starts again from a snapshot
// marked as such.
package watch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/delta"
	"github.com/journeyhandoff/handoff/internal/store"
)

// DefaultBuffer is how many changes a watcher may fall behind by.
const DefaultBuffer = 64

// Reasons in the google.rpc.ErrorInfo of a watch that ended on our side;
// metadata "resume_after_revision" says where to reconnect from.
const (
	ReasonBehind       = "WATCH_FELL_BEHIND"
	ReasonShuttingDown = "SERVER_SHUTTING_DOWN"
	ErrorDomain        = "handoff.journeyhandoff.dev"
)

// Hub delivers the changes of one store feed to every watcher.
type Hub struct {
	store   store.Store
	feed    store.Feed
	buffer  int
	senders *senders

	mu        sync.Mutex
	watchers  map[store.JourneyKey][]*watcher // a slice: deliver walks it for every change
	scheduled []*watcher                      // see pushLocked; kept to reuse
	latest    map[store.JourneyKey]*handoffv1.Journey
	closing   chan struct{}
	closed    bool
}

// NewHub returns a hub over st; buffer <= 0 means DefaultBuffer. Run
// closes its feed.
func NewHub(st store.Store, buffer int) *Hub {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	h := &Hub{
		store:    st,
		buffer:   buffer,
		watchers: map[store.JourneyKey][]*watcher{},
		latest:   map[store.JourneyKey]*handoffv1.Journey{},
		closing:  make(chan struct{}),
	}
	h.senders = newSenders(h.serve)
	h.feed = st.OpenFeed(h.deliver, h.resync)
	return h
}

// Run holds the process's feed open, and its senders running, until ctx
// ends.
func (h *Hub) Run(ctx context.Context) error {
	<-ctx.Done()
	h.feed.Close()
	h.senders.close()
	return ctx.Err()
}

// Shutdown ends every watch, now and to come, with a status telling the
// client to reconnect (to another instance) from its last revision.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.closing)
	}
}

// Watching returns the watched journeys as last seen, for work that only
// matters while someone looks (releasing lapsed claims).
func (h *Hub) Watching() []*handoffv1.Journey {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*handoffv1.Journey, 0, len(h.latest))
	for _, j := range h.latest {
		out = append(out, j)
	}
	return out
}

// Count is the number of open watches.
func (h *Hub) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ws := range h.watchers {
		n += len(ws)
	}
	return n
}

// Change is a change as the hub hands it to a watcher. A change published
// once reaches every watcher of its journey as the same Change, so work
// done for one watcher (encoding it for the wire) can serve the others.
type Change struct {
	*handoffv1.JourneyChange

	mu   sync.Mutex                   // guards adding to memo
	memo atomic.Pointer[[]*memoEntry] // never changed once stored: read without mu
}

type memoEntry struct {
	key   any
	once  sync.Once
	done  atomic.Bool // value is computed
	value any
}

// Memo returns what compute returns for key, calling it once per Change
// and key however many watchers ask. Thousands of watchers ask at once
// for one or two keys, so finding a key takes no lock.
func (c *Change) Memo(key any, compute func() any) any {
	e := c.entry(key)
	e.once.Do(func() {
		e.value = compute()
		e.done.Store(true)
	})
	return e.value
}

// Memoized returns what Memo computed for key, if it has: a caller that
// finds it builds no compute function.
func (c *Change) Memoized(key any) (any, bool) {
	if e := c.find(key); e != nil && e.done.Load() {
		return e.value, true
	}
	return nil, false
}

func (c *Change) find(key any) *memoEntry {
	if entries := c.memo.Load(); entries != nil {
		for _, e := range *entries {
			if e.key == key {
				return e
			}
		}
	}
	return nil
}

func (c *Change) entry(key any) *memoEntry {
	if e := c.find(key); e != nil {
		return e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.find(key); e != nil {
		return e
	}
	var entries []*memoEntry
	if old := c.memo.Load(); old != nil {
		entries = append(entries, *old...)
	}
	e := &memoEntry{key: key}
	entries = append(entries, e)
	c.memo.Store(&entries)
	return e
}

// watcher is one open watch. It has no goroutine of its own: the hub's
// senders send it what waits in pending (see senders).
type watcher struct {
	key   store.JourneyKey
	ctx   context.Context // ends when the watch does
	send  func(*Change) error
	index int // in the hub's watchers of its journey, under the hub's lock

	mu      sync.Mutex
	pending []*Change // to send, oldest first
	spare   []*Change // pending's last backing array, kept to reuse
	catchUp bool      // catch up from the store first: delivery may have skipped
	queued  bool      // with the senders (queued or being sent): at most once

	ended    atomic.Bool   // the watch returned: send nothing more
	failed   chan error    // a send or a catch-up failed (buffered 1)
	behind   chan struct{} // closed when pending overflowed
	overflow sync.Once
	lastSent atomic.Int64
}

// push adds c (nil: a catch-up) to what w has to send, or marks w behind
// when its buffer is full, and reports whether w must be scheduled.
func (w *watcher) push(c *Change, buffer int) (schedule bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case c == nil:
		w.catchUp = true
	case len(w.pending) >= buffer:
		w.overflow.Do(func() { close(w.behind) })
		return false
	default:
		w.pending = append(w.pending, c)
	}
	if w.queued {
		return false
	}
	w.queued = true
	return true
}

func (h *Hub) deliver(c *handoffv1.JourneyChange) {
	key, err := store.ParseJourneyName(c.GetJourney().GetName())
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ws := h.watchers[key]
	if len(ws) == 0 {
		return
	}
	// A change carries only what changed (see internal/delta): keep the
	// journey as it now is, for work that reads whole journeys.
	latest, ok := h.latest[key]
	switch {
	case c.GetSnapshot():
		h.latest[key] = c.GetJourney()
	case recreated(c, latest.GetRevision()):
		// A journey created again under the name: what was kept is gone.
		delete(h.latest, key)
	case !ok || c.GetRevision() <= latest.GetRevision():
		// Nothing to apply it to, or applied already.
	case c.GetRevision() == latest.GetRevision()+1:
		if next, err := delta.Apply(latest, c); err == nil {
			h.latest[key] = next
			break
		}
		fallthrough
	default:
		// A change missed: the journey as kept here would be wrong. The
		// next snapshot a watcher takes keeps it again.
		delete(h.latest, key)
	}
	h.pushLocked(ws, &Change{JourneyChange: c})
	h.scheduleLocked()
}

// pushLocked pushes c (nil: a catch-up) to each of ws, noting those to
// schedule; h.mu is held.
func (h *Hub) pushLocked(ws []*watcher, c *Change) {
	for _, w := range ws {
		if w.push(c, h.buffer) {
			h.scheduled = append(h.scheduled, w)
		}
	}
}

// scheduleLocked hands the watchers pushLocked noted to the senders; h.mu
// is held.
func (h *Hub) scheduleLocked() {
	h.senders.schedule(h.scheduled...)
	clear(h.scheduled)
	h.scheduled = h.scheduled[:0]
}

func (h *Hub) resync() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ws := range h.watchers {
		h.pushLocked(ws, nil)
	}
	h.scheduleLocked()
}

func (h *Hub) add(key store.JourneyKey, w *watcher) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	w.index = len(h.watchers[key])
	h.watchers[key] = append(h.watchers[key], w)
	return true
}

func (h *Hub) remove(key store.JourneyKey, w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ws := h.watchers[key]
	last := ws[len(ws)-1]
	ws[w.index], last.index = last, w.index
	ws[len(ws)-1] = nil
	h.watchers[key] = ws[:len(ws)-1]
	if len(h.watchers[key]) == 0 {
		delete(h.watchers, key)
		delete(h.latest, key)
	}
}

// Watch sends the journey's changes after revision `after` (a snapshot
// first when after is 0 or too old) through send until ctx ends, the
// watcher falls behind, or the hub shuts down. send is called from one
// goroutine at a time, one of the hub's senders; it may block (a slow
// client) without holding up anyone else.
func (h *Hub) Watch(ctx context.Context, key store.JourneyKey, after int64, send func(*Change) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &watcher{
		key: key, ctx: ctx, send: send,
		catchUp: true, queued: true, // the first catch-up is scheduled below
		failed: make(chan error, 1),
		behind: make(chan struct{}),
	}
	w.lastSent.Store(after)
	// Follow before reading the store, so no change falls between the
	// read and the first delivery; duplicates are dropped by revision.
	if !h.add(key, w) {
		return resumeStatus(ReasonShuttingDown, "the server is shutting down", after)
	}
	defer h.remove(key, w)
	// Whatever a sender still holds for this watch is not sent: the stream
	// ends when Watch returns.
	defer w.ended.Store(true)
	if err := h.feed.Follow(ctx, key); err != nil {
		return fmt.Errorf("following journey %s: %w", key.Name(), err)
	}
	defer h.feed.Unfollow(key)

	h.senders.schedule(w)
	select {
	case err := <-w.failed:
		return err
	case <-w.behind:
		return resumeStatus(ReasonBehind, "this watch fell behind", w.lastSent.Load())
	case <-h.closing:
		return resumeStatus(ReasonShuttingDown, "the server is shutting down", w.lastSent.Load())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errEnded stops a sender on a watch that ended.
var errEnded = errors.New("the watch ended")

// serve sends w what waits for it, as one of the hub's senders, and
// reports whether more came meanwhile.
func (h *Hub) serve(w *watcher) (again bool) {
	w.mu.Lock()
	batch, catchUp := w.pending, w.catchUp
	w.pending, w.catchUp = w.spare, false
	w.spare = nil
	w.mu.Unlock()

	err := h.sendTo(w, catchUp, batch)
	clear(batch)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.spare = batch[:0]
	if err != nil {
		if err != errEnded {
			select {
			case w.failed <- err:
			default:
			}
		}
		// Stays queued: nothing schedules it again.
		return false
	}
	if len(w.pending) == 0 && !w.catchUp {
		w.queued = false
		return false
	}
	return true
}

// sendTo sends w a catch-up from the store if asked, then batch in order,
// dropping what w was sent already and catching up over a gap.
func (h *Hub) sendTo(w *watcher, catchUp bool, batch []*Change) error {
	emit := func(c *Change) error {
		if w.ended.Load() {
			return errEnded
		}
		if err := w.send(c); err != nil {
			return err
		}
		w.lastSent.Store(c.GetRevision())
		return nil
	}
	if catchUp {
		if err := h.catchUp(w, emit); err != nil {
			return err
		}
	}
	for _, c := range batch {
		last := w.lastSent.Load()
		if recreated(c.JourneyChange, last) {
			// The journey the watcher followed was erased or expired and
			// created again under its name: its revisions start over, and
			// its create is the whole journey, so it goes out as a snapshot.
			if err := emit(&Change{JourneyChange: asSnapshot(c.JourneyChange)}); err != nil {
				return err
			}
			continue
		}
		switch {
		case c.GetRevision() <= last:
			continue // already sent, by a catch-up
		case c.GetRevision() > last+1:
			if err := h.catchUp(w, emit); err != nil {
				return err
			}
			if c.GetRevision() != w.lastSent.Load()+1 {
				continue
			}
		}
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}

// catchUp sends what the watcher missed since its last revision: the
// logged changes, or a snapshot when the log does not reach back (or the
// watch starts from nothing).
func (h *Hub) catchUp(w *watcher, emit func(*Change) error) error {
	ctx, key := w.ctx, w.key
	last := w.lastSent.Load()
	if last > 0 {
		done := h.senders.blocking()
		changes, complete, err := h.store.ChangesSince(ctx, key, last)
		done()
		if err != nil {
			return fmt.Errorf("catching up journey %s: %w", key.Name(), err)
		}
		if complete {
			for _, c := range changes {
				if err := emit(&Change{JourneyChange: c}); err != nil {
					return err
				}
			}
			return nil
		}
	}
	done := h.senders.blocking()
	j, err := h.store.GetJourney(ctx, key)
	done()
	if err != nil {
		return fmt.Errorf("journey %s: %w", key.Name(), err)
	}
	if j.GetRevision() == last && last > 0 {
		return nil
	}
	h.mu.Lock()
	if _, ok := h.latest[key]; !ok {
		h.latest[key] = proto.CloneOf(j)
	}
	h.mu.Unlock()
	return emit(&Change{JourneyChange: &handoffv1.JourneyChange{Revision: j.GetRevision(), Journey: j, Snapshot: true}})
}

// recreated reports whether c is the create of a journey created again
// under the name of one already at revision after (> 1: a journey's own
// create may arrive after a snapshot of its revision 1).
func recreated(c *handoffv1.JourneyChange, after int64) bool {
	return !c.GetSnapshot() && c.GetRevision() == 1 && after > 1
}

// asSnapshot is a create's change as the snapshot of the journey it made:
// a create names every field it sets.
func asSnapshot(c *handoffv1.JourneyChange) *handoffv1.JourneyChange {
	j := proto.CloneOf(c.GetJourney())
	j.Revision = c.GetRevision()
	return &handoffv1.JourneyChange{Revision: c.GetRevision(), Journey: j, Touchpoints: c.GetTouchpoints(), Snapshot: true}
}

func resumeStatus(reason, msg string, resumeAfter int64) error {
	return apierr.Reconnect(ErrorDomain, reason, msg, resumeAfter)
}
