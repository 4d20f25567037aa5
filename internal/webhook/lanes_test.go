package webhook

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// laneKey is a journey of a customer of its own: lanes are by customer.
func laneKey(journey string) store.JourneyKey {
	return store.JourneyKey{Customer: "c-" + journey, Journey: journey}
}

// journeysInLanesOfTheirOwn names n journeys (each of its own customer)
// that land in n different lanes of a webhook with that many lanes (any n
// should lane() not spread them).
func journeysInLanesOfTheirOwn(n, lanes int) []string {
	var names []string
	taken := map[int]bool{}
	for i := 0; len(names) < n; i++ {
		if i == 1000 {
			names = nil
			for j := range n {
				names = append(names, "j"+strconv.Itoa(j))
			}
			return names
		}
		name := "j" + strconv.Itoa(i)
		l := lane(&handoffv1.JourneyEvent{Customer: laneKey(name).Customer}, lanes)
		if !taken[l] {
			taken[l] = true
			names = append(names, name)
		}
	}
	return names
}

// deliveredOf are the ids the receiver answered 2xx, in the order it did.
func deliveredOf(r *receiver, only func(id string) bool) []string {
	var ids []string
	for _, d := range r.deliveries() {
		if d.status/100 == 2 && (only == nil || only(d.id)) {
			ids = append(ids, d.id)
		}
	}
	return ids
}

func TestEventsOfOneCustomerArriveInOrderWhileOtherCustomersAreDeliveredConcurrently(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	names := journeysInLanesOfTheirOwn(3, DefaultConcurrency)
	slow, a, b := names[0], names[1], names[2]
	s1 := startJourney(t, s, laneKey(slow), nil)
	a1 := startJourney(t, s, laneKey(a), nil)
	s2 := saveJourney(t, s, laneKey(slow))
	b1 := startJourney(t, s, laneKey(b), nil)
	a2 := saveJourney(t, s, laneKey(a))
	s3 := saveJourney(t, s, laneKey(slow))
	journeyOf := map[string]string{s1: slow, s2: slow, s3: slow, a1: a, a2: a, b1: b}
	held, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	rcv := newHoldingReceiver(t, func(req *http.Request, id string) {
		if id == s1 && first.CompareAndSwap(false, true) {
			close(held)
			select {
			case <-release:
			case <-req.Context().Done():
			}
		}
	}, func(string, int) int { return http.StatusNoContent })
	d := Start(t.Context(), []*Webhook{loadHook(t, "", rcv.URL)}, fastOptions(s))
	t.Cleanup(d.Stop)
	var once sync.Once
	let := func() { once.Do(func() { close(release) }) }
	t.Cleanup(let) // before d.Stop, which waits for the held delivery

	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow journey's first event was never sent")
	}
	require.Eventually(t, func() bool { return len(deliveredOf(rcv, nil)) == 3 }, 5*time.Second, 10*time.Millisecond,
		"the other journeys' events are not delivered while one journey's first is held")
	time.Sleep(100 * time.Millisecond) // room for a wrong delivery to show
	require.ElementsMatch(t, []string{a1, b1, a2}, deliveredOf(rcv, nil), "only the other journeys' events")
	require.Equal(t, []string{a1, a2}, deliveredOf(rcv, func(id string) bool { return journeyOf[id] == a }), "each journey's in order")
	require.Empty(t, cursor(t, s), "the cursor does not pass the held event")

	let()
	require.Eventually(t, func() bool { return cursor(t, s) == s3 }, 5*time.Second, 10*time.Millisecond)
	for name, want := range map[string][]string{slow: {s1, s2, s3}, a: {a1, a2}, b: {b1}} {
		require.Equal(t, want, deliveredOf(rcv, func(id string) bool { return journeyOf[id] == name }), "journey %s in stream order", name)
	}
}

func TestTheCursorNeverPassesAnUndeliveredEventSoAfterAStopEverythingUndeliveredArrives(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	names := journeysInLanesOfTheirOwn(4, DefaultConcurrency)
	slow := names[1]
	var ids []string
	journeyOf := map[string]string{}
	for round := range 5 {
		for _, name := range names {
			var id string
			if round == 0 {
				id = startJourney(t, s, laneKey(name), nil)
			} else {
				id = saveJourney(t, s, laneKey(name))
			}
			ids = append(ids, id)
			journeyOf[id] = name
		}
	}
	// The slow journey's deliveries get no answer until the sender gives
	// up on them, here by stopping.
	var hanging atomic.Bool
	hanging.Store(true)
	rcv := newHoldingReceiver(t, func(req *http.Request, id string) {
		if hanging.Load() && journeyOf[id] == slow {
			<-req.Context().Done()
		}
	}, func(string, int) int { return http.StatusNoContent })
	hook := loadHook(t, "", rcv.URL)

	d := Start(t.Context(), []*Webhook{hook}, fastOptions(s))
	t.Cleanup(d.Stop) // on failure; stopping twice is stopping once
	require.Eventually(t, func() bool { return len(deliveredOf(rcv, nil)) == len(ids)-5 }, 5*time.Second, 10*time.Millisecond,
		"the other journeys' events are not all delivered")
	d.Stop()
	require.Equal(t, ids[0], cursor(t, s), "the cursor stops just before the slow journey's first event, which was in flight")
	require.Empty(t, deliveredOf(rcv, func(id string) bool { return journeyOf[id] == slow }))

	hanging.Store(false)
	d2 := Start(t.Context(), []*Webhook{hook}, fastOptions(s))
	t.Cleanup(d2.Stop)
	require.Eventually(t, func() bool { return cursor(t, s) == ids[len(ids)-1] }, 5*time.Second, 10*time.Millisecond)
	got := map[string]bool{}
	for _, id := range deliveredOf(rcv, nil) {
		got[id] = true
	}
	for _, id := range ids {
		require.True(t, got[id], "event %s (journey %s) was never delivered", id, journeyOf[id])
	}
	var slowIDs []string
	for _, id := range ids {
		if journeyOf[id] == slow {
			slowIDs = append(slowIDs, id)
		}
	}
	require.Equal(t, slowIDs, deliveredOf(rcv, func(id string) bool { return journeyOf[id] == slow }), "the slow journey's events, once each, in order")
}

// A receiver erases what it copied of a customer on customer.erased, so
// nothing of that customer may arrive after it: every event of a customer,
// of any journey, goes to the one lane its erasure goes to.
func TestEveryEventOfACustomerAndItsErasureShareALane(t *testing.T) {
	const lanes = 64
	erased := lane(&handoffv1.JourneyEvent{Type: "customer.erased", Customer: "c-42"}, lanes)
	for i := range 50 {
		key := store.JourneyKey{Customer: "c-42", Journey: "j" + strconv.Itoa(i)}
		ev := &handoffv1.JourneyEvent{Type: "journey.touched", Customer: key.Customer, Journey: key.Name()}
		require.Equal(t, erased, lane(ev, lanes), "journey %s", key.Journey)
	}
}
