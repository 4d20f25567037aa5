package main

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	journeyanswers "github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/loadgen"
	"github.com/journeyhandoff/handoff/internal/service"
	"github.com/journeyhandoff/handoff/internal/store"
	redisstore "github.com/journeyhandoff/handoff/internal/store/redis"
)

// scriptFloor is the second floor: the Redis work of one save and nothing
// else. It calls the real store's SaveJourney, which is one script
// (save.lua: check the journey's state and holder, merge the answers, move
// the totals, etag and revision, append to the timeline, log and publish
// the change), with the same answers, step and touchpoint a save through
// handoffd asks for, and the journey back only when the driver's saves ask
// for more than their etag (-save-read-mask). What it leaves out is
// handoffd itself.
//
// Each worker saves its own journeys, out of a block no other workload
// writes, so the floor measures the script and not contention on a
// journey.
//
// This file makes every save the driver asks of the store (the relay,
// relay.go, takes its saves from pageStoreSave and at), so it can follow
// the store in one change: the floor means "all a save asks of Redis" only
// while it calls what the service calls for a save.
type scriptFloor struct {
	st       *redisstore.Store
	journeys [][]store.JourneyKey // per worker
}

// newScriptFloor sets perWorker journeys aside for each of workers, out of
// the first block journeys, which no other workload writes.
func newScriptFloor(_ context.Context, st *redisstore.Store, workers, perWorker, block int) (*scriptFloor, error) {
	if workers*perWorker > block {
		return nil, fmt.Errorf("the save-script floor needs %d × %d journeys of its own; only %d are set aside (load more journeys)", workers, perWorker, block)
	}
	f := &scriptFloor{st: st, journeys: make([][]store.JourneyKey, workers)}
	for w := range workers {
		for k := range perWorker {
			f.journeys[w] = append(f.journeys[w], mustKey(journeyName(w*perWorker+k)))
		}
	}
	return f, nil
}

// op writes one page save, as the service asks the store for it.
func (f *scriptFloor) op() loadgen.Op {
	return func(ctx context.Context, w int, seq uint64) error {
		mine := f.journeys[w]
		sv, err := pageStoreSave(seq)
		if err != nil {
			return err
		}
		_, err = f.st.SaveJourney(ctx, at(sv, mine[int(seq%uint64(len(mine)))], time.Now()))
		return err
	}
}

// pageStoreSave is page save seq as the service asks the store for it,
// but for its journey and time (see at).
func pageStoreSave(seq uint64) (store.Save, error) {
	p := newPageSave(seq)
	data, err := p.structData()
	if err != nil {
		return store.Save{}, err
	}
	sv := store.Save{
		SetStep: true, Step: p.step, Channel: handoffv1.Channel_CHANNEL_WEB,
		Limits:      store.AnswerLimits{Answers: service.DefaultMaxDataKeys, Bytes: service.DefaultMaxDataBytes},
		WantJourney: wantsJourney(saveReadMask),
	}
	if quote != nil {
		// As the service asks for a save it checked against the type.
		sv.Type, sv.TypeVersion, sv.StepFrom = quote.id(), quote.version, quote.tp.StepsFrom(p.step)
	}
	// As the service reads a request without a mask: each answer by its path.
	for _, l := range journeyanswers.Leaves(data) {
		sv.Answers = append(sv.Answers, store.AnswerChange{Path: l.Path, Value: l.Value})
	}
	return sv, nil
}

// at is sv saving key at now, with the touchpoint the service records for
// the website's save.
func at(sv store.Save, key store.JourneyKey, now time.Time) store.Save {
	now = now.UTC().Truncate(time.Microsecond)
	sv.Key, sv.UpdateTime = key, now
	sv.Touchpoint = &handoffv1.Touchpoint{
		Time: timestamppb.New(now), Channel: handoffv1.Channel_CHANNEL_WEB, Step: sv.Step,
		Actor: &handoffv1.Actor{Id: servicePrincipal, Role: handoffv1.Role_ROLE_SERVICE},
		Kind:  handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED,
	}
	return sv
}

// wantsJourney says whether a save with this read_mask has the store read
// the journey back (as the service decides it: more than the brief reply).
func wantsJourney(readMask []string) bool {
	if len(readMask) == 0 {
		return true
	}
	for _, f := range readMask {
		switch f {
		case "name", "etag", "revision", "update_time", "updateTime", "expire_time", "expireTime":
		default:
			return true
		}
	}
	return false
}

func mustKey(name string) store.JourneyKey {
	k, err := store.ParseJourneyName(name)
	if err != nil {
		panic(err)
	}
	return k
}
