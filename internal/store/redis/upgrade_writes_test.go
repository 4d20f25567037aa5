package redis_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/delta"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
)

// Writes after an upgrade (see upgrade_test.go): the first write to a v1
// record converts it, whichever write it is, and the journey reads back as
// it was plus the write.

func TestUpgradeFromV1Writes(t *testing.T) {
	d := readV1Dump(t)
	limits := store.AnswerLimits{Answers: 1000, Bytes: 64 << 10}
	// release clears a lapsed claim, as the service does before a save.
	release := func(t *testing.T, s *redis.Store, key store.JourneyKey) []*handoffv1.Touchpoint {
		cur, err := s.GetJourney(t.Context(), key)
		require.NoError(t, err)
		holder := cur.GetAssignee()
		cur.Assignee, cur.AssigneeDisplayName, cur.AssigneeChannel, cur.ClaimExpireTime = "", "", 0, nil
		cur.UpdateTime = timestamppb.Now()
		tp := &handoffv1.Touchpoint{Time: cur.GetUpdateTime(), Channel: cur.GetChannel(), Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_RELEASED,
			Actor: &handoffv1.Actor{Id: holder, Role: handoffv1.Role_ROLE_AGENT}, Step: cur.GetStep(), Note: "claim lapsed"}
		_, err = s.UpdateJourney(t.Context(), store.Update{Journey: cur, Touchpoints: []*handoffv1.Touchpoint{tp}})
		require.NoError(t, err)
		return []*handoffv1.Touchpoint{tp}
	}
	// view records an audited read: an update of a journey that can no
	// longer be saved.
	view := func(t *testing.T, s *redis.Store, key store.JourneyKey) []*handoffv1.Touchpoint {
		cur, err := s.GetJourney(t.Context(), key)
		require.NoError(t, err)
		tp := &handoffv1.Touchpoint{Time: timestamppb.Now(), Channel: handoffv1.Channel_CHANNEL_PHONE, Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_VIEWED,
			Actor: &handoffv1.Actor{Id: "root", Role: handoffv1.Role_ROLE_ADMIN}, Step: cur.GetStep()}
		_, err = s.UpdateJourney(t.Context(), store.Update{Journey: cur, Touchpoints: []*handoffv1.Touchpoint{tp}})
		require.NoError(t, err)
		return []*handoffv1.Touchpoint{tp}
	}
	tests := []struct {
		name  string
		key   store.JourneyKey
		agent string // the saving agent; "" for a website or customer
		// refused is what the first save (the one that converts the record)
		// gives; then unblock makes the journey writable.
		refused error
		unblock func(t *testing.T, s *redis.Store, key store.JourneyKey) []*handoffv1.Touchpoint
		active  bool
	}{
		{name: "the_quote_alice_holds_saves_for_her", key: quoteKey, agent: "alice", active: true},
		{name: "the_booking_with_a_list_an_empty_object_and_a_null_saves", key: bookingKey, active: true},
		{name: "the_completed_renewal_refuses_a_save_and_takes_an_update", key: renewalKey, refused: store.ErrNotActive, unblock: view},
		{name: "the_journey_whose_claim_lapsed_saves_once_released", key: homeKey, refused: store.ErrClaimLapsed, unblock: release, active: true},
	}
	for _, dep := range upgradeDeployments {
		t.Run(dep.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := t.Context()
					s, prefix, e := dep.open(t, d)
					before := e.journey(t, tt.key.Name())
					timeline := e.touchpoints(t, tt.key.Name())
					pre, err := s.GetJourney(ctx, tt.key)
					require.NoError(t, err)
					requireProtoEqual(t, before, pre)
					hashKey := prefix + "{" + tt.key.Customer + "}:j:" + tt.key.Journey
					requireLayout(t, hashKey, "", "not converted by a read")

					// A code made before the first write, on the v1 record.
					early := "EARLY" + strings.ToUpper(tt.key.Journey[:3])
					require.NoError(t, s.CreateHandoffCode(ctx, early, tt.key, time.Now().Add(time.Hour), store.CodeLimits{Live: 3, Made: 10}))
					requireLayout(t, hashKey, "", "a code is no write to the record")

					// The first write, with the etag read before the upgrade.
					sv := upgradeSave(tt.key, pre.GetEtag(), tt.agent, "checked", limits)
					saved, err := s.SaveJourney(ctx, sv)
					if tt.refused != nil {
						require.ErrorIs(t, err, tt.refused)
						requireLayout(t, hashKey, "2", "converted by the refused save")
						requireConvertedUnchanged(t, s, tt.key, pre)

						timeline = append(timeline, tt.unblock(t, s, tt.key)...)
						if tt.active {
							// Made now: the save comes after the unblocking.
							sv = upgradeSave(tt.key, pre.GetEtag(), tt.agent, "checked", limits)
							saved, err = s.SaveJourney(ctx, sv)
						}
					}
					if tt.active {
						require.NoError(t, err)
						timeline = append(timeline, savedTouchpoint(sv))
						got, err := s.GetJourney(ctx, tt.key)
						require.NoError(t, err)
						requireProtoEqual(t, got, saved)
						if tt.refused == nil {
							// Nothing but the save happened since the read.
							requireProtoEqual(t, plusSave(pre, sv, store.DefaultTTL), got)
						}
						// Answers kept from v1 name no writer; the save's
						// name its touchpoint.
						full, err := s.JourneyWithProvenance(ctx, tt.key)
						require.NoError(t, err)
						for path, p := range full.GetAnswerProvenance() {
							require.True(t, strings.HasPrefix(path, "upgrade."), "answer %s from before the upgrade names a writer", path)
							require.Equal(t, store.TouchpointName(tt.key, len(timeline)), p.GetTouchpoint())
						}
						require.NotEmpty(t, full.GetAnswerProvenance(), "the save's answers name no writer")
					}
					requireLayout(t, hashKey, "2", "converted by the first write")

					// Every change after the read is logged as a delta that
					// takes the journey read before to the one read after;
					// the v1 log is gone.
					requireDeltas(t, s, tt.key, pre)
					changes, complete, err := s.ChangesSince(ctx, tt.key, 0)
					require.NoError(t, err)
					require.False(t, complete, "the log restarted at the conversion")
					require.NotEmpty(t, changes)

					if tt.active {
						// A save without an etag, and a claim by another agent.
						sv := upgradeSave(tt.key, "", tt.agent, "again", limits)
						_, err = s.SaveJourney(ctx, sv)
						require.NoError(t, err)
						timeline = append(timeline, savedTouchpoint(sv))
						timeline = append(timeline, claim(t, s, tt.key, "bob"))
						requireDeltas(t, s, tt.key, pre)

						// A code made now redeems once to the journey.
						code := "UPGRADE" + strings.ToUpper(tt.key.Journey[:1])
						require.NoError(t, s.CreateHandoffCode(ctx, code, tt.key, time.Now().Add(time.Hour), store.CodeLimits{Live: 3, Made: 10}))
						got, err := s.RedeemHandoffCode(ctx, code)
						require.NoError(t, err)
						require.Equal(t, tt.key, got)
						_, err = s.RedeemHandoffCode(ctx, code)
						require.ErrorIs(t, err, store.ErrNotFound)
					}

					// The code made on the v1 record still opens the journey,
					// whatever the writes since.
					got, err := s.RedeemHandoffCode(ctx, early)
					require.NoError(t, err)
					require.Equal(t, tt.key, got)

					if dep.sealed {
						requireNoClearAnswers(t, prefix)
					}

					// The timeline: every v1 entry as before, then the new ones.
					requireTimeline(t, s, tt.key, timeline)
				})
			}
		})
	}
}

func TestUpgradeFromV1FirstWriteIsAnUpdate(t *testing.T) {
	d := readV1Dump(t)
	tests := []struct {
		name string
		key  store.JourneyKey
	}{
		{"the_quote_alice_holds_is_taken_over", quoteKey},
		{"the_booking_nobody_holds_is_claimed", bookingKey},
		{"the_completed_renewal_is_updated", renewalKey},
		{"the_journey_whose_claim_lapsed_is_claimed_again", homeKey},
	}
	for _, dep := range upgradeDeployments {
		t.Run(dep.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					s, prefix, e := dep.open(t, d)
					pre, err := s.GetJourney(t.Context(), tt.key)
					require.NoError(t, err)
					// A claim reads the whole journey, checks its rules and
					// writes back at the revision read: update.lua meets the v1
					// record and has it converted first.
					tp := claim(t, s, tt.key, "bob")
					requireLayout(t, prefix+"{"+tt.key.Customer+"}:j:"+tt.key.Journey, "2", "converted by the update")
					got, err := s.GetJourney(t.Context(), tt.key)
					require.NoError(t, err)
					// What the claim changed, and nothing else; the etag stays.
					at := tp.GetTime().AsTime()
					want := proto.CloneOf(pre)
					want.Assignee, want.AssigneeDisplayName, want.AssigneeChannel = "bob", "Bob", handoffv1.Channel_CHANNEL_PHONE
					want.ClaimExpireTime = timestamppb.New(at.Add(10 * time.Minute))
					want.UpdateTime, want.ExpireTime = tp.GetTime(), timestamppb.New(at.Add(store.DefaultTTL))
					want.Channel, want.ChannelDetail, want.Revision = handoffv1.Channel_CHANNEL_PHONE, "", pre.GetRevision()+1
					requireProtoEqual(t, want, got)
					requireDeltas(t, s, tt.key, pre)
					requireTimeline(t, s, tt.key, append(e.touchpoints(t, tt.key.Name()), tp))
					if dep.sealed {
						requireNoClearAnswers(t, prefix)
					}
				})
			}
		})
	}
}

// Right after the upgrade many writers meet the same v1 record at once;
// each converts it or finds it converted, and no write is lost.
func TestUpgradeFromV1ConcurrentFirstWrites(t *testing.T) {
	d := readV1Dump(t)
	const writers = 8
	for _, dep := range upgradeDeployments {
		t.Run(dep.name, func(t *testing.T) {
			save := func(t *testing.T, s *redis.Store, i int) error {
				sv := upgradeSave(bookingKey, "", "", fmt.Sprint("w", i), store.AnswerLimits{Answers: 1000, Bytes: 64 << 10})
				_, err := s.SaveJourney(t.Context(), sv)
				return err
			}
			tests := []struct {
				name   string
				write  func(t *testing.T, s *redis.Store, i int) error
				holder string
			}{
				{name: "saves_of_different_answers_all_land", write: save},
				{name: "saves_and_a_claim_racing_them_all_land", holder: "bob", write: func(t *testing.T, s *redis.Store, i int) error {
					if i > 0 {
						return save(t, s, i)
					}
					// A claim reads, then writes at the revision read: it
					// tries again when a save came between, as the service does.
					for range 100 {
						cur, err := s.GetJourney(t.Context(), bookingKey)
						if err != nil {
							return err
						}
						cur.Assignee, cur.UpdateTime = "bob", timestamppb.Now()
						_, err = s.UpdateJourney(t.Context(), store.Update{Journey: cur})
						if !errors.Is(err, store.ErrConflict) {
							return err
						}
					}
					return errors.New("the claim kept conflicting")
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					s, _, _ := dep.open(t, d)
					pre, err := s.GetJourney(t.Context(), bookingKey)
					require.NoError(t, err)
					errs := make(chan error, writers)
					for i := range writers {
						go func() { errs <- tt.write(t, s, i) }()
					}
					for range writers {
						require.NoError(t, <-errs)
					}
					got, err := s.GetJourney(t.Context(), bookingKey)
					require.NoError(t, err)
					require.Equal(t, pre.GetRevision()+writers, got.GetRevision())
					upgraded := got.GetData().GetFields()["upgrade"].GetStructValue().GetFields()
					for i := range writers {
						if tt.holder == "" || i > 0 {
							require.Contains(t, upgraded, fmt.Sprint("w", i))
						}
					}
					require.Equal(t, tt.holder, got.GetAssignee())
					requireDeltas(t, s, bookingKey, pre)
				})
			}
		})
	}
}

func TestUpgradeFromV1KeepsEtagsReadBefore(t *testing.T) {
	d := readV1Dump(t)
	limits := store.AnswerLimits{Answers: 1000, Bytes: 64 << 10}
	answer := func(path string, v any) store.AnswerChange {
		val, err := structpb.NewValue(v)
		require.NoError(t, err)
		return store.AnswerChange{Path: path, Value: val}
	}
	for _, dep := range upgradeDeployments {
		t.Run(dep.name, func(t *testing.T) {
			s, _, e := dep.open(t, d)
			etag := e.journey(t, quoteKey.Name()).GetEtag()
			// In order, on one journey: each save after the first finds the
			// record converted.
			steps := []struct {
				name    string
				answers []store.AnswerChange
				whole   bool
				want    error
			}{
				{"the_first_save_converts_and_accepts_the_etag", []store.AnswerChange{answer("cover.excess", 1000)}, false, nil},
				{"an_answer_untouched_since_the_etag_still_saves", []store.AnswerChange{answer("driver.email", "anna@example.com")}, false, nil},
				{"an_answer_the_first_save_changed_conflicts", []store.AnswerChange{answer("cover.excess", 750)}, false, store.ErrConflict},
				{"a_whole_journey_etag_check_conflicts", []store.AnswerChange{answer("vehicle.year", 2020)}, true, store.ErrConflict},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					_, err := s.SaveJourney(t.Context(), store.Save{
						Key: quoteKey, IfEtag: etag, WholeJourneyEtag: st.whole, Answers: st.answers,
						Channel: handoffv1.Channel_CHANNEL_WEB, UpdateTime: time.Now(), Limits: limits,
					})
					if st.want != nil {
						require.ErrorIs(t, err, st.want)
						return
					}
					require.NoError(t, err)
				})
			}
			got, err := s.GetJourney(t.Context(), quoteKey)
			require.NoError(t, err)
			fields := func(step string) map[string]*structpb.Value {
				return got.GetData().GetFields()[step].GetStructValue().GetFields()
			}
			require.Equal(t, 1000.0, fields("cover")["excess"].GetNumberValue())
			require.Equal(t, "anna@example.com", fields("driver")["email"].GetStringValue())
			require.Equal(t, 2019.0, fields("vehicle")["year"].GetNumberValue())
		})
	}
}

func TestUpgradeFromV1Erasure(t *testing.T) {
	d := readV1Dump(t)
	for _, dep := range upgradeDeployments {
		t.Run(dep.name, func(t *testing.T) {
			tests := []struct {
				name   string
				before func(t *testing.T, s *redis.Store, e v1Expect)
			}{
				{name: "erasing_right_after_the_upgrade_leaves_no_key_of_the_customer"},
				{name: "erasing_after_writes_and_redeems_leaves_no_key_of_the_customer", before: func(t *testing.T, s *redis.Store, e v1Expect) {
					_, err := s.RedeemHandoffCode(t.Context(), e.LiveCode)
					require.NoError(t, err)
					sv := upgradeSave(quoteKey, "", "alice", "erased", store.AnswerLimits{Answers: 1000, Bytes: 64 << 10})
					_, err = s.SaveJourney(t.Context(), sv)
					require.NoError(t, err)
					require.NoError(t, s.CreateHandoffCode(t.Context(), "UPGRADEE", bookingKey, time.Now().Add(time.Hour), store.CodeLimits{Live: 3, Made: 10}))
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					s, prefix, e := dep.open(t, d)
					if tt.before != nil {
						tt.before(t, s, e)
					}
					n, err := s.EraseCustomer(t.Context(), "c-1")
					require.NoError(t, err)
					require.Equal(t, 3, n)
					for _, key := range []store.JourneyKey{quoteKey, bookingKey, renewalKey} {
						_, err := s.GetJourney(t.Context(), key)
						require.ErrorIs(t, err, store.ErrNotFound)
					}
					_, err = s.RedeemHandoffCode(t.Context(), e.LiveCode)
					require.ErrorIs(t, err, store.ErrNotFound)
					// The other customer is untouched.
					got, err := s.GetJourney(t.Context(), homeKey)
					require.NoError(t, err)
					requireProtoEqual(t, e.journey(t, homeKey.Name()), got)

					// No key is left that is the customer's by its name, nor
					// a code key (in no customer's slot) that names them: a
					// code redeemed within the last minute is such a key (a
					// tombstone, see redeem.lua), which the previous release's
					// erasure found through the customer's codes set.
					for _, k := range keysUnder(t, prefix) {
						require.NotContains(t, k, "{c-1}")
						if strings.HasPrefix(k, prefix+"code:") {
							v, err := client.Get(t.Context(), k).Result()
							require.NoError(t, err)
							require.NotContains(t, v, "c-1/", "code key %s is left, holding %q", k, v)
						}
					}
				})
			}
		})
	}
}

// upgradeSave is a save that sets the step and one answer, as a website
// (or, with agent, an agent) does.
func upgradeSave(key store.JourneyKey, etag, agent, step string, limits store.AnswerLimits) store.Save {
	now := time.Now()
	return store.Save{
		Key: key, IfEtag: etag, SetStep: true, Step: step,
		Answers:    []store.AnswerChange{{Path: "upgrade." + step, Value: structpb.NewBoolValue(true)}},
		Channel:    handoffv1.Channel_CHANNEL_PHONE,
		UpdateTime: now, Agent: agent, Limits: limits, WantJourney: true,
		Touchpoint: &handoffv1.Touchpoint{Time: timestamppb.New(now), Channel: handoffv1.Channel_CHANNEL_PHONE,
			Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, Actor: &handoffv1.Actor{Id: "upgrade-test", Role: handoffv1.Role_ROLE_SERVICE}},
	}
}

// savedTouchpoint is the timeline entry sv makes: its touchpoint at the
// step after the save.
func savedTouchpoint(sv store.Save) *handoffv1.Touchpoint {
	tp := proto.CloneOf(sv.Touchpoint)
	tp.Step = sv.Step
	return tp
}

// plusSave is j after sv, worked out by hand: what a save changes.
func plusSave(j *handoffv1.Journey, sv store.Save, ttl time.Duration) *handoffv1.Journey {
	out := proto.CloneOf(j)
	etag, _ := strconv.ParseInt(j.GetEtag(), 10, 64)
	out.Etag, out.Revision = strconv.FormatInt(etag+1, 10), j.GetRevision()+1
	update := sv.UpdateTime.Truncate(time.Microsecond)
	out.UpdateTime, out.ExpireTime = timestamppb.New(update), timestamppb.New(update.Add(ttl))
	out.Channel, out.ChannelDetail = sv.Channel, sv.ChannelDetail
	if sv.SetStep {
		out.Step = sv.Step
	}
	for _, a := range sv.Answers {
		at := out.Data
		parts := strings.Split(a.Path, ".")
		for _, p := range parts[:len(parts)-1] {
			next := at.GetFields()[p].GetStructValue()
			if next == nil {
				next = &structpb.Struct{Fields: map[string]*structpb.Value{}}
				at.Fields[p] = structpb.NewStructValue(next)
			}
			at = next
		}
		at.Fields[parts[len(parts)-1]] = a.Value
	}
	return out
}

// claim gives the journey to agent (an update, read-check-write) and
// returns the touchpoint it recorded.
func claim(t *testing.T, s *redis.Store, key store.JourneyKey, agent string) *handoffv1.Touchpoint {
	t.Helper()
	cur, err := s.GetJourney(t.Context(), key)
	require.NoError(t, err)
	now := time.Now().Truncate(time.Microsecond)
	kind, note := handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED, ""
	if cur.GetAssignee() != "" {
		kind, note = handoffv1.TouchpointKind_TOUCHPOINT_KIND_TAKEN_OVER, "taken over from "+cur.GetAssignee()
	}
	cur.Assignee, cur.AssigneeDisplayName, cur.AssigneeChannel = agent, strings.ToUpper(agent[:1])+agent[1:], handoffv1.Channel_CHANNEL_PHONE
	cur.ClaimExpireTime = timestamppb.New(now.Add(10 * time.Minute))
	cur.Channel, cur.ChannelDetail, cur.UpdateTime = handoffv1.Channel_CHANNEL_PHONE, "", timestamppb.New(now)
	tp := &handoffv1.Touchpoint{Time: cur.GetUpdateTime(), Channel: cur.GetChannel(), Kind: kind,
		Actor: &handoffv1.Actor{Id: agent, Role: handoffv1.Role_ROLE_AGENT}, Step: cur.GetStep(), Note: note}
	out, err := s.UpdateJourney(t.Context(), store.Update{Journey: cur, Touchpoints: []*handoffv1.Touchpoint{tp}})
	require.NoError(t, err)
	got, err := s.GetJourney(t.Context(), key)
	require.NoError(t, err)
	requireProtoEqual(t, out, got)
	require.Equal(t, agent, got.GetAssignee())
	return tp
}

// requireDeltas checks that the changes logged since the journey was read
// as pre, applied to it in turn, make the journey as it reads now.
func requireDeltas(t *testing.T, s *redis.Store, key store.JourneyKey, pre *handoffv1.Journey) {
	t.Helper()
	changes, complete, err := s.ChangesSince(t.Context(), key, pre.GetRevision())
	require.NoError(t, err)
	require.True(t, complete, "the log reaches back to the read before the upgrade")
	j := pre
	for _, c := range changes {
		require.False(t, c.GetSnapshot(), "a change made after the upgrade is a delta")
		j, err = delta.Apply(j, c)
		require.NoError(t, err)
	}
	got, err := s.GetJourney(t.Context(), key)
	require.NoError(t, err)
	requireProtoEqual(t, got, j)
}

// requireConvertedUnchanged checks that a conversion, with no write after
// it, left the journey as it was, and restarted its log.
func requireConvertedUnchanged(t *testing.T, s *redis.Store, key store.JourneyKey, pre *handoffv1.Journey) {
	t.Helper()
	got, err := s.GetJourney(t.Context(), key)
	require.NoError(t, err)
	requireProtoEqual(t, pre, got)
	changes, complete, err := s.ChangesSince(t.Context(), key, 0)
	require.NoError(t, err)
	require.False(t, complete, "the v1 log is gone with the conversion")
	require.Empty(t, changes)
	changes, complete, err = s.ChangesSince(t.Context(), key, pre.GetRevision())
	require.NoError(t, err)
	require.True(t, complete, "a watcher at the current revision missed nothing")
	require.Empty(t, changes)
}

// requireTimeline checks the journey's whole timeline: want, named by
// position.
func requireTimeline(t *testing.T, s *redis.Store, key store.JourneyKey, want []*handoffv1.Touchpoint) {
	t.Helper()
	got, more, err := s.ListTouchpoints(t.Context(), key, 0, 100)
	require.NoError(t, err)
	require.False(t, more)
	require.Len(t, got, len(want))
	for i := range want {
		w := proto.CloneOf(want[i])
		w.Name = store.TouchpointName(key, i+1)
		requireProtoEqual(t, w, got[i])
	}
}

// v1Secrets are answers and notes of the dump that a sealing deployment
// must never hold in clear, converted or not.
var v1Secrets = []string{"Lindqvist-Marchetti", "AB-123-CD", "Faubourg", "Ravi", "2027-01-10", "kitchen",
	"would like to talk about the excess", "calling back after lunch", "renewed for 2027", "P-2026-0042"}

func requireNoClearAnswers(t *testing.T, prefix string) {
	t.Helper()
	for k, vals := range rawValues(t, prefix) {
		for _, v := range vals {
			for _, secret := range v1Secrets {
				require.NotContains(t, v, secret, "key %s", k)
			}
		}
	}
}

// requireLayout checks the record's layout: version "" is a v1 record (a
// protobuf body), "2" the current one, without a body.
func requireLayout(t *testing.T, hashKey, version, why string) {
	t.Helper()
	h, err := client.HGetAll(t.Context(), hashKey).Result()
	require.NoError(t, err)
	require.NotEmpty(t, h, hashKey)
	require.Equal(t, version, h["v"], why)
	if version == "" {
		require.Contains(t, h, "body", why)
		return
	}
	for _, v1 := range []string{"body", "wids"} {
		require.NotContains(t, h, v1, why)
	}
}

func keysUnder(t *testing.T, prefix string) []string {
	t.Helper()
	keys, err := client.Keys(t.Context(), prefix+"*").Result()
	require.NoError(t, err)
	return keys
}
