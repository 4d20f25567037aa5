package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/watch"
)

// saveAnswer saves one answer without an etag (the service retries its own
// lost races), as a website does for independent fields.
func saveAnswer(ctx context.Context, api handoffv1.JourneyServiceClient, name, key string, v any) error {
	val, err := structpb.NewValue(v)
	if err != nil {
		return err
	}
	_, err = api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
		Journey:    &handoffv1.Journey{Name: name, Data: &structpb.Struct{Fields: map[string]*structpb.Value{key: val}}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data." + key}},
	})
	return err
}

// resumeAfter reads the revision a watch that ended on the server's side
// says to reconnect from.
func resumeAfter(t *testing.T, err error) (reason string, after string) {
	t.Helper()
	st := requireCode(t, err, codes.Unavailable)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason(), info.GetMetadata()["resume_after_revision"]
		}
	}
	t.Fatalf("no ErrorInfo in %v", st)
	return "", ""
}

func TestAWatcherSeesEverySaveInOrder(t *testing.T) {
	const writers, perWriter = 4, 250
	for _, reconnect := range []bool{false, true} {
		t.Run(fmt.Sprintf("reconnecting_midway_%v", reconnect), func(t *testing.T) {
			h := start(t, redisStore)
			j := newJourney(t, h, "c-42")
			ctx := as(t, websiteToken) // not an agent: its reads are not audited, so only saves change the journey
			final := j.GetRevision() + writers*perWriter
			cutAt := int64(-1)
			if reconnect {
				cutAt = j.GetRevision() + 1 + rand.Int64N(writers*perWriter-2)
			}

			type seen struct {
				revisions []int64
				snapshots int
			}
			got := seen{}
			watched := make(chan error, 1)
			started := make(chan struct{})
			go func() {
				after := int64(0)
				for {
					wctx, cancel := context.WithCancel(ctx)
					stream, err := h.api.WatchJourney(wctx, &handoffv1.WatchJourneyRequest{Name: j.GetName(), AfterRevision: after})
					if err != nil {
						cancel()
						watched <- err
						return
					}
					for {
						c, err := stream.Recv()
						if err != nil {
							cancel()
							watched <- err
							return
						}
						if c.GetSnapshot() {
							got.snapshots++
							if got.snapshots == 1 {
								close(started)
							}
						} else {
							got.revisions = append(got.revisions, c.GetRevision())
						}
						after = c.GetRevision()
						if after >= final {
							cancel()
							watched <- nil
							return
						}
						if after == cutAt {
							cancel() // a forced disconnect; reconnect from here
							cutAt = -1
							break
						}
					}
				}
			}()

			// Every save comes after the watch started: all 1,000 must
			// arrive as changes.
			<-started
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for n := range perWriter {
						if err := saveAnswer(ctx, h.api, j.GetName(), fmt.Sprintf("w%d", w), n); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			select {
			case err := <-watched:
				require.NoError(t, err)
			case <-time.After(30 * time.Second):
				t.Fatal("the watcher did not see the last save")
			}
			require.Equal(t, 1, got.snapshots, "one snapshot at the start, none after a resume")
			require.Len(t, got.revisions, writers*perWriter, "%v", got.revisions)
			for i, rev := range got.revisions {
				require.Equal(t, j.GetRevision()+1+int64(i), rev, "change %d", i)
			}
		})
	}
}

func TestTwoInstancesOnOneRedisBehaveAsOne(t *testing.T) {
	a := start(t, redisStore)
	b := start(t, sharedRedis(a))
	j := newJourney(t, a, "c-42")

	stream, err := b.api.WatchJourney(as(t, c42Token), &handoffv1.WatchJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	first, err := stream.Recv()
	require.NoError(t, err)
	require.True(t, first.GetSnapshot())

	t.Run("a_save_through_a_reaches_a_watcher_on_b", func(t *testing.T) {
		require.NoError(t, saveAnswer(as(t, websiteToken), a.api, j.GetName(), "plate", "AB-123-C"))
		c, err := stream.Recv()
		require.NoError(t, err)
		require.Equal(t, first.GetRevision()+1, c.GetRevision())
		require.Equal(t, "AB-123-C", c.GetJourney().GetData().GetFields()["plate"].GetStringValue())
	})
	t.Run("a_claim_on_a_blocks_a_claim_on_b", func(t *testing.T) {
		_, err := a.api.ClaimJourney(as(t, aliceToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = b.api.ClaimJourney(as(t, bobToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		st := requireCode(t, err, codes.FailedPrecondition)
		require.Contains(t, st.Message(), "alice")
		c, err := stream.Recv()
		require.NoError(t, err)
		require.Equal(t, "alice", c.GetJourney().GetAssignee(), "the customer's watch on b shows who is helping")
	})
}

func TestClaimsAreLeases(t *testing.T) {
	h := start(t, memoryStore, func(c *config.Config) { c.ClaimLease = 300 * time.Millisecond })

	t.Run("a_lease_not_renewed_lapses_says_why_and_another_agent_can_claim", func(t *testing.T) {
		j := newJourney(t, h, "c-42")
		_, err := h.api.ClaimJourney(as(t, aliceToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		time.Sleep(400 * time.Millisecond)
		got, err := h.api.ClaimJourney(as(t, bobToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		require.Equal(t, "bob", got.GetAssignee())
		tl := timeline(t, h, j.GetName())
		released, claimed := tl[len(tl)-2], tl[len(tl)-1]
		require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_RELEASED, released.GetKind())
		require.Equal(t, handoffv1.Role_ROLE_SYSTEM, released.GetActor().GetRole())
		require.Contains(t, released.GetNote(), "claim by alice lapsed")
		require.Equal(t, "bob", claimed.GetActor().GetId())
	})
	t.Run("a_renewed_lease_holds_and_keeps_the_etag", func(t *testing.T) {
		j := newJourney(t, h, "c-42")
		claimed, err := h.api.ClaimJourney(as(t, aliceToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		for range 4 {
			time.Sleep(150 * time.Millisecond)
			renewed, err := h.api.ClaimJourney(as(t, aliceToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
			require.NoError(t, err)
			require.Equal(t, j.GetEtag(), renewed.GetEtag(), "claims must not invalidate a website's etag")
		}
		_, err = h.api.ClaimJourney(as(t, bobToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		requireCode(t, err, codes.FailedPrecondition)
		require.Greater(t, claimed.GetRevision(), j.GetRevision())
	})
	t.Run("a_watched_case_is_released_by_itself_when_its_lease_lapses", func(t *testing.T) {
		j := newJourney(t, h, "c-42")
		stream, err := h.api.WatchJourney(as(t, aliceToken), &handoffv1.WatchJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = stream.Recv()
		require.NoError(t, err)
		_, err = h.api.ClaimJourney(as(t, aliceToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		var kinds []handoffv1.TouchpointKind
		deadline := time.After(5 * time.Second)
		for len(kinds) < 2 {
			c := make(chan *handoffv1.JourneyChange, 1)
			go func() { m, _ := stream.Recv(); c <- m }()
			select {
			case m := <-c:
				require.NotNil(t, m)
				for _, tp := range m.GetTouchpoints() {
					kinds = append(kinds, tp.GetKind())
				}
				if len(kinds) == 2 {
					require.Empty(t, m.GetJourney().GetAssignee())
				}
			case <-deadline:
				t.Fatalf("no release arrived; saw %v", kinds)
			}
		}
		require.Equal(t, []handoffv1.TouchpointKind{handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED, handoffv1.TouchpointKind_TOUCHPOINT_KIND_RELEASED}, kinds)
	})
	t.Run("an_admin_takes_over_and_it_is_recorded_as_such", func(t *testing.T) {
		long := start(t, memoryStore) // the default 10 minute lease
		j := newJourney(t, long, "c-42")
		_, err := long.api.ClaimJourney(as(t, aliceToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = long.api.ClaimJourney(as(t, adminToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		requireCode(t, err, codes.FailedPrecondition)
		got, err := long.api.ClaimJourney(as(t, adminToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName(), TakeOver: true})
		require.NoError(t, err)
		require.Equal(t, "root", got.GetAssignee())
		tl := timeline(t, long, j.GetName())
		last := tl[len(tl)-1]
		require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_TAKEN_OVER, last.GetKind())
		require.Contains(t, last.GetNote(), "alice")
	})
}

func TestWarmTransfer(t *testing.T) {
	h := start(t, memoryStore)
	j := newJourney(t, h, "c-42")
	chat := as(t, aliceToken, "x-handoff-channel", "chat")
	_, err := h.api.ClaimJourney(chat, &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)

	moved, err := h.api.TransferJourney(chat, &handoffv1.TransferJourneyRequest{
		Name: j.GetName(), ToAgent: "bob", ToChannel: handoffv1.Channel_CHANNEL_PHONE, Note: "prefers to call; asked about glass cover",
	})
	require.NoError(t, err)
	require.Equal(t, "bob", moved.GetAssignee())
	require.Equal(t, j.GetStep(), moved.GetStep(), "the journey continues where it stopped")
	require.True(t, proto.Equal(j.GetData(), moved.GetData()))
	require.Equal(t, j.GetEtag(), moved.GetEtag())

	tl := timeline(t, h, j.GetName())
	tr := tl[len(tl)-1]
	require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_TRANSFERRED, tr.GetKind())
	require.Equal(t, "alice", tr.GetTransfer().GetFromAgent())
	require.Equal(t, handoffv1.Channel_CHANNEL_CHAT, tr.GetTransfer().GetFromChannel())
	require.Equal(t, "bob", tr.GetTransfer().GetToAgent())
	require.Equal(t, handoffv1.Channel_CHANNEL_PHONE, tr.GetTransfer().GetToChannel())
	require.Equal(t, "prefers to call; asked about glass cover", tr.GetNote())

	t.Run("the_next_agent_continues_and_can_send_it_to_the_queue", func(t *testing.T) {
		back, err := h.api.TransferJourney(as(t, bobToken), &handoffv1.TransferJourneyRequest{Name: j.GetName(), Note: "back to the queue"})
		require.NoError(t, err)
		require.Empty(t, back.GetAssignee())
	})
	t.Run("the_customer_sees_the_hand_over_but_not_the_notes", func(t *testing.T) {
		resp, err := h.api.ListTouchpoints(as(t, c42Token), &handoffv1.ListTouchpointsRequest{Parent: j.GetName()})
		require.NoError(t, err)
		for _, tp := range resp.GetTouchpoints() {
			require.Empty(t, tp.GetNote(), "%v", tp.GetKind())
		}
		require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_TRANSFERRED, resp.GetTouchpoints()[len(resp.GetTouchpoints())-1].GetKind())
	})
	t.Run("only_the_holder_may_transfer", func(t *testing.T) {
		_, err := h.api.ClaimJourney(chat, &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = h.api.TransferJourney(as(t, bobToken), &handoffv1.TransferJourneyRequest{Name: j.GetName(), ToAgent: "bob"})
		requireCode(t, err, codes.FailedPrecondition)
	})
}

func TestASlowWatcherDoesNotHoldUpAFastOne(t *testing.T) {
	h := start(t, memoryStore)
	j := newJourney(t, h, "c-42")
	// The slow client never reads; small fixed windows make its stream fill
	// up quickly instead of growing with the bandwidth-delay estimate.
	slowConn, err := grpc.NewClient(h.app.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	require.NoError(t, err)
	defer slowConn.Close()
	slow, err := handoffv1.NewJourneyServiceClient(slowConn).WatchJourney(as(t, websiteToken), &handoffv1.WatchJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)

	fast, err := h.api.WatchJourney(as(t, websiteToken), &handoffv1.WatchJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	first, err := fast.Recv()
	require.NoError(t, err)

	const saves = 300
	big := strings.Repeat("x", 4<<10)
	received := make(chan int64, saves+1)
	go func() {
		for {
			c, err := fast.Recv()
			if err != nil {
				close(received)
				return
			}
			received <- c.GetRevision()
		}
	}()
	for n := range saves {
		require.NoError(t, saveAnswer(as(t, websiteToken), h.api, j.GetName(), "notes", fmt.Sprint(n, big)))
		select {
		case rev := <-received:
			require.Equal(t, first.GetRevision()+int64(n)+1, rev)
		case <-time.After(5 * time.Second):
			t.Fatalf("the fast watcher waited over 5 s for save %d", n)
		}
	}

	// Now the slow client reads: what was queued, then the end of the stream.
	var last int64
	for {
		c, err := slow.Recv()
		if err != nil {
			reason, after := resumeAfter(t, err)
			require.Equal(t, watch.ReasonBehind, reason)
			require.Equal(t, fmt.Sprint(last), after, "resume from the last revision it got")
			break
		}
		last = c.GetRevision()
	}
	require.Less(t, last, first.GetRevision()+saves, "the slow watch should have been cut off")
}

func TestCustomerPresenceAndServerSentEvents(t *testing.T) {
	h := start(t, memoryStore)
	j := newJourney(t, h, "c-42")

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	events := sseLines(ctx, t, h.base+"/v1/"+j.GetName()+":watch", c42Token, "")
	first := <-events
	require.Contains(t, first, fmt.Sprintf("id: %d", j.GetRevision()))

	_, err := h.api.ClaimJourney(as(t, aliceToken, "x-handoff-channel", "social"), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	_, err = h.api.ReleaseJourney(as(t, aliceToken), &handoffv1.ReleaseJourneyRequest{Name: j.GetName(), Note: "customer is rude, careful"})
	require.NoError(t, err)
	claimed := <-events
	require.Contains(t, claimed, fmt.Sprintf("id: %d", j.GetRevision()+1))
	require.Contains(t, claimed, `"assigneeChannel":"CHANNEL_SOCIAL"`)
	require.Contains(t, claimed, `"assigneeDisplayName":"alice"`)
	released := <-events
	require.NotContains(t, released, "rude", "a customer never sees an agent's notes")

	t.Run("last_event_id_resumes_after_that_revision", func(t *testing.T) {
		again := sseLines(ctx, t, h.base+"/v1/"+j.GetName()+":watch", c42Token, fmt.Sprint(j.GetRevision()+1))
		next := <-again
		require.Contains(t, next, fmt.Sprintf("id: %d", j.GetRevision()+2))
		require.Contains(t, next, `"snapshot":false`)
	})
	t.Run("another_customer_gets_404", func(t *testing.T) {
		status, _ := h.rest(t, "GET", "/v1/"+j.GetName()+":watch", c1Token, nil, "Accept", "text/event-stream")
		require.Equal(t, 404, status)
	})
}

// sseLines opens an event stream and sends each event (its lines joined).
func sseLines(ctx context.Context, t *testing.T, url, token, lastEventID string) <-chan string {
	req, err := newRequest(ctx, url, token)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	out := make(chan string, 16)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		buf := make([]byte, 64<<10)
		var pending string
		for {
			n, err := resp.Body.Read(buf)
			pending += string(buf[:n])
			for {
				i := strings.Index(pending, "\n\n")
				if i < 0 {
					break
				}
				ev := pending[:i]
				pending = pending[i+2:]
				if strings.Contains(ev, "event: change") {
					out <- ev
				}
			}
			if err != nil { // io.EOF or the context ending the stream
				return
			}
		}
	}()
	return out
}

func TestAnEventStreamResumedAtTheCurrentRevisionAnswersAtOnce(t *testing.T) {
	h := start(t, memoryStore)
	j := newJourney(t, h, "c-42")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	req, err := newRequest(ctx, h.base+"/v1/"+j.GetName()+":watch", c42Token)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", fmt.Sprint(j.GetRevision()))
	began := time.Now()
	resp, err := httpClient.Do(req) // returns once the headers arrive
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Less(t, time.Since(began), time.Second, "headers must not wait for the next change")
}

// Every watcher of a journey gets the same change, encoded once per view
// (internal/service): the customer's view of it must still lack the note
// an agent left, and the agent's must still hold it.
func TestACustomerAndAnAgentWatchingOneJourneyEachGetTheirOwnView(t *testing.T) {
	h := start(t, redisStore)
	j := newJourney(t, h, "c-42")
	type view struct {
		token string
		note  chan string
	}
	// The website's backend is trusted with staff notes, as staff are.
	views := []view{{aliceToken, make(chan string, 1)}, {c42Token, make(chan string, 1)}, {bobToken, make(chan string, 1)}, {c42Token, make(chan string, 1)}, {websiteToken, make(chan string, 1)}}
	for _, v := range views {
		stream, err := h.api.WatchJourney(as(t, v.token), &handoffv1.WatchJourneyRequest{Name: j.GetName(), AfterRevision: j.GetRevision()})
		require.NoError(t, err)
		_, err = stream.Header()
		require.NoError(t, err)
		go func() {
			for {
				c, err := stream.Recv()
				if err != nil {
					return
				}
				for _, tp := range c.GetTouchpoints() {
					if tp.GetKind() == handoffv1.TouchpointKind_TOUCHPOINT_KIND_RELEASED {
						v.note <- tp.GetNote()
						return
					}
				}
			}
		}()
	}
	_, err := h.api.ClaimJourney(as(t, aliceToken, "x-handoff-channel", "chat"), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	_, err = h.api.ReleaseJourney(as(t, aliceToken), &handoffv1.ReleaseJourneyRequest{Name: j.GetName(), Note: "customer is rude, careful"})
	require.NoError(t, err)
	for i, v := range views {
		select {
		case note := <-v.note:
			if v.token == c42Token {
				require.Empty(t, note, "watcher %d, the customer, saw the agent's note", i)
			} else {
				require.Equal(t, "customer is rude, careful", note, "watcher %d, staff", i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("watcher %d saw no release", i)
		}
	}
}

// A change is encoded once for all the watchers of a journey, and each
// stream compresses it as its own client asked: watchers that ask for gzip
// and watchers that do not, side by side, all read every change.
func TestWatchersWithAndWithoutCompressionEachReadEveryChange(t *testing.T) {
	h := start(t, redisStore)
	j := newJourney(t, h, "c-42")
	const perKind, saves = 3, 5
	ctx, cancel := context.WithTimeout(as(t, websiteToken), 20*time.Second)
	defer cancel()
	type result struct {
		gzip bool
		revs []int64
		err  error
	}
	results := make(chan result, 2*perKind)
	var ready sync.WaitGroup
	for i := range 2 * perKind {
		compressed := i%2 == 0
		var opts []grpc.CallOption
		if compressed {
			opts = append(opts, grpc.UseCompressor(gzip.Name))
		}
		stream, err := h.api.WatchJourney(ctx, &handoffv1.WatchJourneyRequest{Name: j.GetName(), AfterRevision: j.GetRevision()}, opts...)
		require.NoError(t, err)
		_, err = stream.Header()
		require.NoError(t, err)
		ready.Add(1)
		go func() {
			r := result{gzip: compressed}
			ready.Done()
			for len(r.revs) < saves {
				c, err := stream.Recv()
				if err != nil {
					r.err = err
					break
				}
				r.revs = append(r.revs, c.GetRevision())
			}
			results <- r
		}()
	}
	ready.Wait()
	for n := range saves {
		require.NoError(t, saveAnswer(as(t, websiteToken), h.api, j.GetName(), "n", n))
	}
	for range 2 * perKind {
		r := <-results
		require.NoError(t, r.err, "a watcher asking for gzip: %v", r.gzip)
		require.Len(t, r.revs, saves)
		for i, rev := range r.revs {
			require.Equal(t, j.GetRevision()+1+int64(i), rev)
		}
	}
}
