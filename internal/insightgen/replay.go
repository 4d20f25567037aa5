package insightgen

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/insight"
)

// Options say how Replay calls the API.
type Options struct {
	Plan Plan
	// ServiceToken is a service's bearer token (a website backend, which
	// acts for any customer); AnalystToken one that may read insight.
	// Agents call with AgentToken(id).
	ServiceToken, AnalystToken string
	// Workers is how many journeys are replayed at once (default 8).
	Workers int
	// Settle is how long the insight read must stay the same before
	// Replay takes it: longer than the server's --insight-flush, so that
	// every count has been written (default 1 s).
	Settle time.Duration
}

// Replayed is what Replay did and read.
type Replayed struct {
	// T0 is when the customers' part happened (the real time Replay
	// started, to the second); resumes happened at T0 + Resume.After.
	T0 time.Time
	// From and To are the days read: the day of T0 and 31 days later,
	// which holds every journey's expiry (the type's TTL is 30 days).
	From, To string
	// ReadAt is the clock when insight was read: T0 + 32 days, so every
	// expiry of the range is final.
	ReadAt  time.Time
	Insight *handoffv1.JourneyTypeInsight
	// Took is how long each part took: the customers', staff's (the
	// resumes) and the read (waiting for the counts to be written).
	Took struct{ Customers, Staff, Read time.Duration }
}

// ReadAfter is how long after T0 Replay reads insight; ReadDays how many
// days after T0's day it reads.
const (
	ReadAfter = 32 * 24 * time.Hour
	ReadDays  = 31
)

// Replay drives the scripts through the JourneyService on conn, moving
// clock (the server's clock) as it goes, and reads the journey map once
// every count is written.
//
// First, at T0, every customer's part: create the journey on its entry
// channel, save each step's answers moving on to the next, save the last
// step's and stay, complete. Then the resumes, in order of delay, with
// the clock at T0 + delay: the customer (on the entry channel) asks for a
// code, the agent redeems it on the resume channel and perhaps completes
// the journey. Journeys resumed at the same instant are replayed at once,
// instants in turn. Then the clock moves to T0 + ReadAfter and insight
// is read for the days T0 to T0 + ReadDays.
func Replay(ctx context.Context, conn grpc.ClientConnInterface, clock *Clock, scripts []Script, o Options) (*Replayed, error) {
	if err := o.Plan.Validate(); err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Settle <= 0 {
		o.Settle = time.Second
	}
	api := handoffv1.NewJourneyServiceClient(conn)
	t0 := time.Now().UTC().Truncate(time.Second)
	clock.Set(t0)
	out := &Replayed{T0: t0, From: insight.Day(t0), To: insight.Day(t0.AddDate(0, 0, ReadDays)), ReadAt: t0.Add(ReadAfter)}
	began := time.Now()
	err := each(ctx, o.Workers, scripts, func(ctx context.Context, s Script) error {
		return customerPart(ctx, api, o, s)
	})
	if err != nil {
		return nil, err
	}

	out.Took.Customers = time.Since(began)
	began = time.Now()
	var resumed []Script
	for _, s := range scripts {
		if s.Resume != nil {
			resumed = append(resumed, s)
		}
	}
	slices.SortStableFunc(resumed, func(a, b Script) int { return int(a.Resume.After - b.Resume.After) })
	for len(resumed) > 0 {
		after := resumed[0].Resume.After
		n := 1
		for n < len(resumed) && resumed[n].Resume.After == after {
			n++
		}
		clock.Set(t0.Add(after))
		if err := each(ctx, o.Workers, resumed[:n], func(ctx context.Context, s Script) error {
			return staffPart(ctx, api, o, s)
		}); err != nil {
			return nil, err
		}
		resumed = resumed[n:]
	}

	out.Took.Staff = time.Since(began)
	began = time.Now()
	clock.Set(out.ReadAt)
	out.Insight, err = settled(ctx, handoffv1.NewJourneyTypeServiceClient(conn), o, out.From, out.To, int64(len(scripts)))
	if err != nil {
		return nil, err
	}
	out.Took.Read = time.Since(began)
	return out, nil
}

// JourneyName is the journey's resource name.
func (s Script) JourneyName() string { return "customers/" + s.Customer + "/journeys/" + s.Journey }

func calling(ctx context.Context, token string, ch handoffv1.Channel) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token, "x-handoff-channel", channelHeader(ch))
}

func channelHeader(ch handoffv1.Channel) string {
	switch ch {
	case handoffv1.Channel_CHANNEL_WEB:
		return "web"
	case handoffv1.Channel_CHANNEL_APP:
		return "app"
	case handoffv1.Channel_CHANNEL_PHONE:
		return "phone"
	case handoffv1.Channel_CHANNEL_CHAT:
		return "chat"
	case handoffv1.Channel_CHANNEL_SOCIAL:
		return "social"
	}
	panic(fmt.Sprintf("insightgen: no header for %s", ch))
}

// customerPart creates the journey and saves what the customer answered.
func customerPart(ctx context.Context, api handoffv1.JourneyServiceClient, o Options, s Script) error {
	ctx = calling(ctx, o.ServiceToken, s.Entry)
	steps := o.Plan.Steps
	_, err := api.CreateJourney(ctx, &handoffv1.CreateJourneyRequest{
		Parent:    "customers/" + s.Customer,
		JourneyId: s.Journey,
		Journey:   &handoffv1.Journey{JourneyType: o.Plan.Type, Step: steps[0]},
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", s.JourneyName(), err)
	}
	for i := 0; i <= s.Stop; i++ {
		data, err := structpb.NewStruct(map[string]any{steps[i]: s.Answers[i]})
		if err != nil {
			return fmt.Errorf("answers of %s: %w", steps[i], err)
		}
		_, err = api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
			Journey:    &handoffv1.Journey{Name: s.JourneyName(), Step: steps[min(i+1, s.Stop)], Data: data},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data." + steps[i], "step"}},
		})
		if err != nil {
			return fmt.Errorf("save %s of %s: %w", steps[i], s.JourneyName(), err)
		}
	}
	if s.Completes {
		if _, err := api.CompleteJourney(ctx, &handoffv1.CompleteJourneyRequest{Name: s.JourneyName()}); err != nil {
			return fmt.Errorf("customer completes %s: %w", s.JourneyName(), err)
		}
	}
	return nil
}

// staffPart is the resume: the customer's code, the agent's redeem, and
// perhaps the agent's completion.
func staffPart(ctx context.Context, api handoffv1.JourneyServiceClient, o Options, s Script) error {
	offer, err := api.HandoffJourney(calling(ctx, o.ServiceToken, s.Entry), &handoffv1.HandoffJourneyRequest{Name: s.JourneyName()})
	if err != nil {
		return fmt.Errorf("handoff %s: %w", s.JourneyName(), err)
	}
	agent := calling(ctx, AgentToken(s.Resume.Agent), s.Resume.Channel)
	if _, err := api.RedeemHandoff(agent, &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()}); err != nil {
		return fmt.Errorf("redeem %s: %w", s.JourneyName(), err)
	}
	if s.Resume.Completes {
		if _, err := api.CompleteJourney(agent, &handoffv1.CompleteJourneyRequest{Name: s.JourneyName()}); err != nil {
			return fmt.Errorf("agent completes %s: %w", s.JourneyName(), err)
		}
	}
	return nil
}

// settled reads the journey map until it has counted every start and
// stays the same for o.Settle. A map that keeps changing after that
// (no write is left to count) is taken as last read after settleWithin:
// Compare then says what differs.
func settled(ctx context.Context, types handoffv1.JourneyTypeServiceClient, o Options, from, to string, started int64) (*handoffv1.JourneyTypeInsight, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+o.AnalystToken)
	req := &handoffv1.GetJourneyTypeInsightRequest{Name: "journeyTypes/" + o.Plan.Type + "/insight", From: from, To: to}
	var last *handoffv1.JourneyTypeInsight
	var all time.Time // when every start was first counted
	for {
		got, err := types.GetJourneyTypeInsight(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("read insight: %w", err)
		}
		if got.GetStarted() >= started {
			if all.IsZero() {
				all = time.Now()
			}
			if proto.Equal(got, last) || time.Since(all) > settleWithin(o.Settle) {
				return got, nil
			}
		}
		last = got
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("insight did not count every start (%d of %d): %w", got.GetStarted(), started, ctx.Err())
		case <-time.After(o.Settle):
		}
	}
}

func settleWithin(settle time.Duration) time.Duration { return max(20*settle, 10*time.Second) }

// each runs do for every script on workers goroutines, and stops at the
// first error.
func each(ctx context.Context, workers int, scripts []Script, do func(context.Context, Script) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan Script)
	var wg sync.WaitGroup
	for range min(workers, len(scripts)) {
		wg.Go(func() {
			for s := range next {
				if err := do(ctx, s); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, s := range scripts {
		select {
		case next <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
