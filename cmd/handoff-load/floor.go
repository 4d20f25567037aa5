package main

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/loadgen"
	"github.com/journeyhandoff/handoff/internal/store"
	redisstore "github.com/journeyhandoff/handoff/internal/store/redis"
)

// scriptFloor is the second floor: the Redis work of one save and nothing
// else. It calls the real store's UpdateJourney, which is one script
// (update.lua: read and check the revision and etag, write the journey,
// append to the timeline, log and publish the change), with the same
// journey, answers and touchpoint a save through handoffd writes. What it
// leaves out is handoffd itself, and the read (HMGET) the service does
// before it writes.
//
// A conditional write needs the revision and etag it was read at, so each
// worker owns its own journeys, read before the phase, and carries their
// state from one write to the next; no two workers ever race.
//
// This file is the driver's only use of the store's save path, so it can
// follow the store in one change: the floor means "all a save asks of
// Redis" only while it calls what the service calls for a save. When the
// store saves another way (docs/layout.md: one script, no read before it),
// this must call that, with the arguments the service passes.
type scriptFloor struct {
	st       *redisstore.Store
	journeys [][]*handoffv1.Journey // per worker
}

// newScriptFloor reads perWorker journeys for each of workers, out of the
// first block journeys, which no other workload writes.
func newScriptFloor(ctx context.Context, st *redisstore.Store, workers, perWorker, block int) (*scriptFloor, error) {
	if workers*perWorker > block {
		return nil, fmt.Errorf("the save-script floor needs %d × %d journeys of its own; only %d are set aside (load more journeys)", workers, perWorker, block)
	}
	f := &scriptFloor{st: st, journeys: make([][]*handoffv1.Journey, workers)}
	for w := range workers {
		for k := range perWorker {
			i := w*perWorker + k
			j, err := st.GetJourney(ctx, mustKey(journeyName(i)))
			if err != nil {
				return nil, fmt.Errorf("read journey %d for the save-script floor: %w", i, err)
			}
			f.journeys[w] = append(f.journeys[w], j)
		}
	}
	return f, nil
}

// op writes one page save, as the service would after its read.
func (f *scriptFloor) op() loadgen.Op {
	return func(ctx context.Context, w int, seq uint64) error {
		mine := f.journeys[w]
		k := int(seq % uint64(len(mine)))
		j := mine[k]
		newPageSave(seq).applyTo(j)
		j.UpdateTime = timestamppb.New(time.Now().UTC().Truncate(time.Microsecond))
		saved, err := f.st.UpdateJourney(ctx, store.Update{
			Journey:        j,
			ContentChanged: true,
			Touchpoints:    []*handoffv1.Touchpoint{progress(j, handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED)},
		})
		if err != nil {
			// Start again from what is stored (outside any latency: a
			// failed call is counted, not timed).
			if fresh, gerr := f.st.GetJourney(ctx, mustKey(j.GetName())); gerr == nil {
				mine[k] = fresh
			}
			return err
		}
		mine[k] = saved
		return nil
	}
}

func mustKey(name string) store.JourneyKey {
	k, err := store.ParseJourneyName(name)
	if err != nil {
		panic(err)
	}
	return k
}
