package redis

import (
	"context"
	"strconv"
	"strings"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// The scripts run twice with the same arguments, as go-redis resends a
// command whose reply was lost with its connection.

func (s *Store) CreateRunTwice(ctx context.Context, key store.JourneyKey, j *handoffv1.Journey, first *handoffv1.Touchpoint) (results [2]string, _ error) {
	_, keys, args, err := s.createCall(key, j, first, "")
	if err != nil {
		return results, err
	}
	for i := range results {
		res, err := createScript.Run(ctx, s.client, keys, args...).StringSlice()
		if err != nil {
			return results, err
		}
		results[i] = res[0]
	}
	return results, nil
}

func (s *Store) SaveRunTwice(ctx context.Context, sv store.Save) (results [2]string, _ error) {
	keys, args, err := s.saveCall(sv)
	if err != nil {
		return results, err
	}
	for i := range results {
		res, err := saveScript.Run(ctx, s.client, keys, args...).StringSlice()
		if err != nil {
			return results, err
		}
		results[i] = res[0]
	}
	return results, nil
}

func (s *Store) UpdateRunTwice(ctx context.Context, u store.Update) (results [2]string, _ error) {
	key, err := store.ParseJourneyName(u.Journey.GetName())
	if err != nil {
		return results, err
	}
	_, keys, args, err := s.updateCall(key, u)
	if err != nil {
		return results, err
	}
	for i := range results {
		res, err := updateScript.Run(ctx, s.client, keys, args...).StringSlice()
		if err != nil {
			return results, err
		}
		results[i] = res[0]
	}
	return results, nil
}

func (s *Store) RedeemRunTwice(ctx context.Context, code string) (results [2]string, _ error) {
	id := writeID()
	for i := range results {
		res, err := redeemScript.Run(ctx, s.client, []string{s.codeKey(code)}, id, redeemTombstone.Milliseconds()).Text()
		if err != nil {
			return results, err
		}
		results[i] = res
	}
	// Then the second step, twice too: listed with its journey?
	customer, journey, _ := strings.Cut(strings.TrimPrefix(results[0], listedMark), "/")
	key := store.JourneyKey{Customer: customer, Journey: journey}
	for i := range results {
		opens, err := redeemListedScript.Run(ctx, s.client, s.redeemListedKeys(key, code), s.redeemListedArgs(code, id, "0")...).Int()
		if err != nil {
			return results, err
		}
		results[i] += " opens=" + strconv.Itoa(opens)
	}
	return results, nil
}

// SaveTwice makes a save, then makes it again with the same write id, as
// a caller's retry after an error does: the second is a replay.
func (s *Store) SaveTwice(ctx context.Context, sv store.Save, between func()) (first, second error) {
	keys, args, err := s.saveCall(sv)
	if err != nil {
		return err, err
	}
	_, first = s.save(ctx, sv, keys, args)
	between()
	_, second = s.save(ctx, sv, keys, args)
	return first, second
}

// EventPipelines are how many pipelines of event appends the store sent,
// and how many appends they carried.
func (s *Store) EventPipelines() (sent, calls int64) {
	s.appends.mu.Lock()
	defer s.appends.mu.Unlock()
	return s.appends.sent, s.appends.calls
}

// StreamKey is the events stream's key.
func (s *Store) StreamKey() string { return s.streamKey() }

// ScriptNames names every script by its SHA1, as EVALSHA sends it.
var ScriptNames = map[string]string{
	attemptScript.Hash():      "attempt",
	sinceScript.Hash():        "since",
	issueScript.Hash():        "issue",
	redeemScript.Hash():       "redeem",
	redeemListedScript.Hash(): "redeem_listed",
	createScript.Hash():       "create",
	updateScript.Hash():       "update",
	convertScript.Hash():      "convert",
	saveScript.Hash():         "save",
	pruneScript.Hash():        "prune",
	eventsScript.Hash():       "events",
	remindScript.Hash():       "remind",
	expireEventScript.Hash():  "expire_event",
	eraseEventsScript.Hash():  "erase_events",
	cursorScript.Hash():       "cursor",
	leaseScript.Hash():        "lease",
	releaseScript.Hash():      "release",
	linkScript.Hash():         "link",
	unlinkScript.Hash():       "unlink",
}

// SaveEventsAfter makes a save whose script runs, then between (an
// erasure, say), then its events' append: a write overtaken.
func (s *Store) SaveEventsAfter(ctx context.Context, sv store.Save, between func()) error {
	keys, args, err := s.saveCall(sv)
	if err != nil {
		return err
	}
	res, err := saveScript.Run(ctx, s.client, keys, args...).StringSlice()
	if err != nil {
		return err
	}
	between()
	_, err = s.saved(ctx, sv, res)
	return err
}

// EraseEventsTwice runs an erasure's events script twice with the same
// arguments, as go-redis resends it after a lost reply.
func (s *Store) EraseEventsTwice(ctx context.Context, customer string) error {
	keys, args, err := s.eraseEventsCall(customer, writeID(), time.Now())
	if err != nil {
		return err
	}
	for range 2 {
		if err := eraseEventsScript.Run(ctx, s.client, keys, args...).Err(); err != nil {
			return err
		}
	}
	return nil
}

// EventsKey is a key of the events slot (journeys, due, c:<customer>).
func (s *Store) EventsKey(what string) string { return s.eventsKey(what) }

// SaveReply is save.lua's whole reply to sv.
func (s *Store) SaveReply(ctx context.Context, sv store.Save) ([]string, error) {
	keys, args, err := s.saveCall(sv)
	if err != nil {
		return nil, err
	}
	return saveScript.Run(ctx, s.client, keys, args...).StringSlice()
}
