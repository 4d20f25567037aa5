package memory

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Store {
		opts := []Option{WithTTL(o.TTL), WithChangeLog(o.ChangeLogEntries, 0), WithTypeTTL(o.TypeTTL)}
		if o.Events != nil {
			opts = append(opts, WithEvents(*o.Events))
		}
		if o.Writes != nil {
			opts = append(opts, WithWrites(*o.Writes))
		}
		s := New(opts...)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		return s
	})
}

// size counts what the store holds, expired or not.
func (s *Store) size() (customers, journeys, requests, codes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.customers {
		journeys += len(c.journeys)
		requests += len(c.requests)
	}
	return len(s.customers), journeys, requests, len(s.codes)
}

func TestJanitorFreesExpiredEntries(t *testing.T) {
	s := New(WithTTL(50 * time.Millisecond))
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	at := time.Now()
	j := &handoffv1.Journey{
		Name:       store.JourneyKey{Customer: "c-1", Journey: "j-1"}.Name(),
		CreateTime: timestamppb.New(at),
		UpdateTime: timestamppb.New(at),
	}
	_, _, err := s.CreateJourney(t.Context(), j, &handoffv1.Touchpoint{}, "r-1")
	require.NoError(t, err)
	require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", store.JourneyKey{Customer: "c-1", Journey: "j-1"}, at.Add(50*time.Millisecond), store.CodeLimits{Live: 1, Made: 1}))
	customers, journeys, requests, codes := s.size()
	require.Equal(t, [4]int{1, 1, 1, 1}, [4]int{customers, journeys, requests, codes})

	// The running janitor frees the journey (and its timeline with it) and
	// the code; the request id is kept for a day, so the customer stays.
	require.Eventually(t, func() bool {
		_, journeys, _, codes := s.size()
		return journeys == 0 && codes == 0
	}, 2*time.Second, 10*time.Millisecond)

	// A day later nothing at all is left.
	s.sweep(time.Now().Add(requestTTL))
	customers, journeys, requests, codes = s.size()
	require.Equal(t, [4]int{0, 0, 0, 0}, [4]int{customers, journeys, requests, codes})
}

func TestCloseTwice(t *testing.T) {
	s := New()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
}

func TestInvalidArguments(t *testing.T) {
	s := New()
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	_, _, err := s.CreateJourney(t.Context(), &handoffv1.Journey{Name: "journeys/j-1"}, nil, "")
	require.Error(t, err)
	_, _, err = s.ListJourneys(t.Context(), "c-1", store.ListJourneysQuery{})
	require.Error(t, err)
	_, _, err = s.ListTouchpoints(t.Context(), store.JourneyKey{Customer: "c-1", Journey: "j-1"}, -1, 10)
	require.Error(t, err)
}
