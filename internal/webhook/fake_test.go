package webhook

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// fakeEvents is the part of store.Events a deliverer uses, in memory, so
// these tests need no store; internal/app runs delivery on the real ones.
type fakeEvents struct {
	store.Events // the schedule: not used here

	mu      sync.Mutex
	events  []*handoffv1.JourneyEvent
	cursors map[string]string
	dead    map[string][]store.DeadLetter
	leases  map[string]string
}

func newFakeEvents() *fakeEvents {
	return &fakeEvents{cursors: map[string]string{}, dead: map[string][]store.DeadLetter{}, leases: map[string]string{}}
}

func (f *fakeEvents) add(evs ...*handoffv1.JourneyEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range evs {
		ev.Id = strconv.Itoa(len(f.events)+1) + "-0"
		f.events = append(f.events, ev)
	}
}

func seq(id string) int {
	n, _ := strconv.Atoi(id[:len(id)-2])
	return n
}

func (f *fakeEvents) ReadEvents(ctx context.Context, after string, limit int, wait time.Duration) ([]*handoffv1.JourneyEvent, error) {
	deadline := time.Now().Add(wait)
	from := 0
	if after != "" {
		from = seq(after)
	}
	for {
		f.mu.Lock()
		out := slices.Clone(f.events[min(from, len(f.events)):])
		f.mu.Unlock()
		if len(out) > 0 || time.Now().After(deadline) {
			return out[:min(limit, len(out))], nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (f *fakeEvents) EventCursor(_ context.Context, consumer string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursors[consumer], nil
}

func (f *fakeEvents) SetEventCursor(_ context.Context, consumer, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cur := f.cursors[consumer]; cur == "" || seq(id) > seq(cur) {
		f.cursors[consumer] = id
	}
	return nil
}

func (f *fakeEvents) DeadLetter(_ context.Context, consumer string, ev *handoffv1.JourneyEvent, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead[consumer] = append(f.dead[consumer], store.DeadLetter{Event: ev, Reason: reason, Time: time.Now()})
	return nil
}

func (f *fakeEvents) DeadLetters(_ context.Context, consumer string, _ int) ([]store.DeadLetter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dead[consumer]), nil
}

func (f *fakeEvents) TakeLease(_ context.Context, name, holder string, _ time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h, ok := f.leases[name]; ok && h != holder {
		return false, nil
	}
	f.leases[name] = holder
	return true, nil
}

func (f *fakeEvents) ReleaseLease(_ context.Context, name, holder string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.leases[name] == holder {
		delete(f.leases, name)
	}
	return nil
}

func (f *fakeEvents) cursor(consumer string) string {
	c, _ := f.EventCursor(context.Background(), consumer)
	return c
}
