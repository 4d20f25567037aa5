package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/journeyhandoff/handoff/internal/store"
)

// codeState is where a listed code stands.
type codeState int

const (
	codeWorking codeState = iota
	codeWithdrawn
	codeRedeemed
)

// listedCode is one code in its journey's list. The list, not the code
// map, decides whether a code opens its journey, so a journey created
// again under an erased one's name starts with no codes, as in Redis.
type listedCode struct {
	code    string
	expires time.Time
	state   codeState
}

// CreateHandoffCode implements store.Store; the lock makes the listing and
// the limits one step with the code.
func (s *Store) CreateHandoffCode(_ context.Context, code string, key store.JourneyKey, expireTime time.Time, limits store.CodeLimits) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if e, ok := s.codes[code]; ok && now.Before(e.expires) {
		return fmt.Errorf("handoff code: %w", store.ErrAlreadyExists)
	}
	j := s.live(key, now)
	if j == nil {
		return fmt.Errorf("handoff code for journey %s: %w", key.Name(), store.ErrNotFound)
	}
	j.codes = slices.DeleteFunc(j.codes, func(c listedCode) bool { return !now.Before(c.expires) })
	if len(j.codes) >= limits.Made {
		return fmt.Errorf("handoff code: %w", store.TooManyCodes(j.codes[0].expires))
	}
	j.codes = append(j.codes, listedCode{code: code, expires: expireTime})
	working := 0
	for i := len(j.codes) - 1; i >= 0; i-- {
		if j.codes[i].state != codeWorking {
			continue
		}
		if working++; working > limits.Live {
			j.codes[i].state = codeWithdrawn
			delete(s.codes, j.codes[i].code)
		}
	}
	s.codes[code] = codeEntry{key: key, expires: expireTime}
	return nil
}

// RedeemHandoffCode removes the code and returns its journey, if the
// journey still lists it as working; the lock makes exactly one of any
// concurrent redeemers find it.
func (s *Store) RedeemHandoffCode(_ context.Context, code string) (store.JourneyKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e, ok := s.codes[code]
	delete(s.codes, code)
	if !ok || !now.Before(e.expires) {
		return store.JourneyKey{}, fmt.Errorf("handoff code: %w", store.ErrNotFound)
	}
	if j := s.live(e.key, now); j != nil {
		for i := range j.codes {
			if c := &j.codes[i]; c.code == code && c.state == codeWorking && now.Before(c.expires) {
				c.state = codeRedeemed
				return e.key, nil
			}
		}
	}
	return store.JourneyKey{}, fmt.Errorf("handoff code: no longer listed with its journey: %w", store.ErrNotFound)
}

// DeleteHandoffCode removes the code; a missing code is not an error, since
// the caller only wants it gone.
func (s *Store) DeleteHandoffCode(_ context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.codes, code)
	return nil
}
