package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/delta"
	"github.com/journeyhandoff/handoff/internal/store"
)

// The paths each kind of write names in its change, in this order: every
// store's changes are these, exactly, so a watcher cannot tell stores
// apart.
var (
	createPaths = []string{"name", "journey_type", "journey_type_version", "state", "step", "data", "channel", "channel_detail", "create_time", "update_time", "expire_time", "etag"}
	// An update (claim, release, transfer, completion, audited read,
	// offer) names every field it may change, which is all but the answers.
	updatePaths = []string{"etag", "update_time", "expire_time", "state", "step", "channel", "channel_detail", "assignee", "assignee_display_name", "assignee_channel", "claim_expire_time"}
	savePaths   = []string{"etag", "update_time", "expire_time", "channel", "channel_detail"}
)

// savePathsOf names what sv changes: the last touch, then the step if it
// sets one, all answers if it replaces them, and each answer it sets or
// removes, in its order.
func savePathsOf(sv store.Save) []string {
	paths := slices.Clone(savePaths)
	if sv.SetStep {
		paths = append(paths, "step")
	}
	if sv.ReplaceAnswers {
		paths = append(paths, "data")
	}
	for _, c := range sv.Answers {
		paths = append(paths, delta.DataPrefix+c.Path)
	}
	return paths
}

// changeOf is the change that made j (the whole journey after it), as a
// store must log and announce it: j's revision, the touchpoints appended,
// and a journey holding j's name and the values in j of the fields paths
// names. `data` is every answer; `data.<path>` what stands at that path
// (absent when it was removed), data being present whenever an answer
// path is named.
func changeOf(j *handoffv1.Journey, paths []string, tps ...*handoffv1.Touchpoint) *handoffv1.JourneyChange {
	out := &handoffv1.Journey{Name: j.GetName()}
	src, dst := j.ProtoReflect(), out.ProtoReflect()
	for _, p := range paths {
		switch {
		case p == "data":
			out.Data = proto.CloneOf(j.GetData())
		case strings.HasPrefix(p, delta.DataPrefix):
			if out.Data == nil {
				out.Data = &structpb.Struct{}
			}
			path := strings.TrimPrefix(p, delta.DataPrefix)
			if v, ok := answers.Lookup(j.GetData(), path); ok {
				answers.Set(out.Data, path, proto.CloneOf(v))
			}
		default:
			fd := src.Descriptor().Fields().ByName(protoreflect.Name(p))
			if src.Has(fd) {
				dst.Set(fd, src.Get(fd))
			}
		}
	}
	return proto.CloneOf(&handoffv1.JourneyChange{
		Revision:     j.GetRevision(),
		Journey:      out,
		Touchpoints:  tps,
		ChangedPaths: slices.Clone(paths),
	})
}

func createChange(j *handoffv1.Journey, tps []*handoffv1.Touchpoint) *handoffv1.JourneyChange {
	return changeOf(j, createPaths, tps...)
}

func updateChange(j *handoffv1.Journey, tps []*handoffv1.Touchpoint) *handoffv1.JourneyChange {
	return changeOf(j, updatePaths, tps...)
}

func saveChange(j *handoffv1.Journey, sv store.Save, tps ...*handoffv1.Touchpoint) *handoffv1.JourneyChange {
	return changeOf(j, savePathsOf(sv), tps...)
}

// replay applies changes in order to the journey before the first (an
// empty one before a create).
func replay(t *testing.T, before *handoffv1.Journey, changes ...*handoffv1.JourneyChange) *handoffv1.Journey {
	t.Helper()
	j := before
	for _, c := range changes {
		var err error
		j, err = delta.Apply(j, c)
		require.NoError(t, err, "change to revision %d", c.GetRevision())
	}
	return j
}

// requireOnlyNamed fails when c's journey holds a field other than its
// name and those its mask names: a change carries what changed, no more.
func requireOnlyNamed(t *testing.T, c *handoffv1.JourneyChange) {
	t.Helper()
	named := map[string]bool{"name": true}
	for _, p := range c.GetChangedPaths() {
		top, _, _ := strings.Cut(p, ".")
		named[top] = true
	}
	c.GetJourney().ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		require.True(t, named[string(fd.Name())], "the change to revision %d holds %s, which its mask does not name", c.GetRevision(), fd.Name())
		return true
	})
}

// requireDelta checks the change that took the journey at k from before
// (an empty journey before its create, with no timeline) to what it is
// now, appending the timeline from position from (from 0) on: logged and
// delivered to r as want says, holding nothing its mask does not name, and
// replaying before into the journey as GetJourney reads it.
func requireDelta(t *testing.T, s store.Store, r *Recorder, k store.JourneyKey, before *handoffv1.Journey, from int, want func(after *handoffv1.Journey, appended []*handoffv1.Touchpoint) *handoffv1.JourneyChange) {
	t.Helper()
	after := get(t, s, k)
	require.Equal(t, before.GetRevision()+1, after.GetRevision(), "one change")
	appended := timeline(t, s, k)[from:]

	r.WaitFor(t, k, after.GetRevision())
	var delivered *handoffv1.JourneyChange
	for _, c := range r.Of(k) {
		if c.GetRevision() == after.GetRevision() {
			delivered = c
		}
	}
	changes := []struct {
		how    string
		change *handoffv1.JourneyChange
	}{{"delivered", delivered}}
	logged, complete := changesSince(t, s, k, before.GetRevision())
	if before.GetRevision() == 0 {
		// A create is announced, not logged (see changes_since).
		require.False(t, complete)
	} else {
		require.True(t, complete)
		require.Len(t, logged, 1)
		changes = append(changes, struct {
			how    string
			change *handoffv1.JourneyChange
		}{"logged", logged[0]})
	}
	for _, c := range changes {
		requireProtoEqual(t, want(after, appended), c.change, "the %s change", c.how)
		requireOnlyNamed(t, c.change)
		requireProtoEqual(t, after, replay(t, before, c.change), "the %s change replayed", c.how)
	}
}

func testDeltas(t *testing.T, newStore Factory) {
	// journey is created anew in each case and checked as a create.
	journey := func(t *testing.T, s store.Store, r *Recorder, k store.JourneyKey) *handoffv1.Journey {
		t.Helper()
		create(t, s, newJourney(t, k, now().Add(-time.Minute)))
		requireDelta(t, s, r, k, &handoffv1.Journey{}, 0, createChange)
		return get(t, s, k)
	}

	t.Run("a_create_is_a_change_to_every_field_it_sets", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		r, _ := follow(t, s, k)
		journey(t, s, r, k)
	})

	saves := append(slices.Clone(mergeCases),
		mergeCase{name: "a_save_that_clears_the_channel_detail_and_wants_no_journey", save: func(t *testing.T, sv *store.Save) {
			sv.Channel, sv.ChannelDetail, sv.WantJourney = handoffv1.Channel_CHANNEL_APP, "", false
			sv.Answers = []store.AnswerChange{answer(t, "n", 1)}
		}},
		mergeCase{name: "a_save_that_clears_the_step_and_replaces_the_answers_naming_some_absent", save: func(t *testing.T, sv *store.Save) {
			sv.SetStep, sv.Step, sv.ReplaceAnswers = true, "", true
			sv.Answers = []store.AnswerChange{answer(t, "vehicle", map[string]any{"plate": "XY-987"}), removal("vehicle.year"), removal("n")}
		}},
	)
	t.Run("a_save_is_a_change_to_its_last_touch_step_and_answers", func(t *testing.T) {
		for _, tc := range saves {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t, Options{})
				k := key("c-1", "j-1")
				r, _ := follow(t, s, k)
				created := journey(t, s, r, k)
				// A detail for the save to replace, or to clear.
				created.ChannelDetail = "desk 4"
				before := touch(t, s, created)
				from := len(timeline(t, s, k))
				sv := saveOf(k)
				sv.Channel, sv.ChannelDetail = handoffv1.Channel_CHANNEL_PHONE, "desk 7"
				tc.save(t, &sv)
				_, err := s.SaveJourney(t.Context(), sv)
				require.NoError(t, err)
				requireDelta(t, s, r, k, before, from, func(after *handoffv1.Journey, appended []*handoffv1.Touchpoint) *handoffv1.JourneyChange {
					return saveChange(after, sv, appended...)
				})
			})
		}
	})

	// Updates as the service makes them: each changes the journey read.
	updates := []struct {
		name string
		// prepare brings the journey where the update starts from.
		prepare func(t *testing.T, s store.Store, k store.JourneyKey)
		change  func(j *handoffv1.Journey)
		// content says the update changes content (its etag moves).
		content bool
		tps     int
	}{
		{"a_claim", nil, func(j *handoffv1.Journey) {
			j.Assignee, j.AssigneeDisplayName, j.AssigneeChannel = "alice", "Alice", handoffv1.Channel_CHANNEL_PHONE
			j.ClaimExpireTime = timestamppb.New(now().Add(time.Minute))
		}, false, 1},
		{"a_release_clearing_the_holder", func(t *testing.T, s store.Store, k store.JourneyKey) {
			claimed(t, s, k, "alice", now().Add(time.Minute))
		}, func(j *handoffv1.Journey) {
			j.Assignee, j.AssigneeDisplayName, j.AssigneeChannel, j.ClaimExpireTime = "", "", 0, nil
		}, false, 1},
		{"a_transfer", func(t *testing.T, s store.Store, k store.JourneyKey) {
			claimed(t, s, k, "alice", now().Add(time.Minute))
		}, func(j *handoffv1.Journey) {
			j.Assignee, j.AssigneeDisplayName, j.AssigneeChannel = "bob", "Bob", handoffv1.Channel_CHANNEL_CHAT
			j.Channel, j.ChannelDetail = handoffv1.Channel_CHANNEL_CHAT, "alice to bob"
		}, false, 1},
		{"a_completion", nil, func(j *handoffv1.Journey) {
			j.State = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED
		}, true, 1},
		{"an_audited_read", nil, func(j *handoffv1.Journey) {
			j.Channel, j.ChannelDetail = handoffv1.Channel_CHANNEL_PHONE, "desk 4"
		}, false, 1},
		{"an_offer_with_two_touchpoints", nil, func(*handoffv1.Journey) {}, false, 2},
		{"a_change_of_step_without_touchpoints", nil, func(j *handoffv1.Journey) { j.Step = "driver" }, true, 0},
	}
	t.Run("an_update_is_a_change_to_every_field_but_the_answers", func(t *testing.T) {
		for _, tc := range updates {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t, Options{})
				k := key("c-1", "j-1")
				r, _ := follow(t, s, k)
				journey(t, s, r, k)
				if tc.prepare != nil {
					tc.prepare(t, s, k)
				}
				before := get(t, s, k)
				from := len(timeline(t, s, k))
				j := proto.CloneOf(before)
				tc.change(j)
				j.UpdateTime = timestamppb.New(now())
				var tps []*handoffv1.Touchpoint
				for range tc.tps {
					tps = append(tps, newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_HANDOFF_OFFERED, j.GetStep(), now()))
				}
				_, err := s.UpdateJourney(t.Context(), store.Update{Journey: j, ContentChanged: tc.content, Touchpoints: tps})
				require.NoError(t, err)
				requireDelta(t, s, r, k, before, from, updateChange)
			})
		}
	})

	t.Run("every_change_of_a_history_replays_into_the_journey", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		r, _ := follow(t, s, k)
		history(t, s, k, 12)
		r.WaitFor(t, k, 12)
		requireProtoEqual(t, get(t, s, k), replay(t, &handoffv1.Journey{}, r.Of(k)...))
		// The log starts after the create, which is announced only.
		logged, complete := changesSince(t, s, k, 1)
		require.True(t, complete)
		requireProtoEqual(t, get(t, s, k), replay(t, &handoffv1.Journey{}, append(r.Of(k)[:1], logged...)...))
	})
}
