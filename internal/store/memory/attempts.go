package memory

import (
	"context"
	"strconv"
	"time"
)

// attempt is one counted attempt of a key.
type attempt struct {
	id string
	at time.Time
}

// RecordAttempt implements store.Store with a sliding window per key.
func (s *Store) RecordAttempt(_ context.Context, key string, window time.Duration, limit int) (string, bool, time.Time, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	recent := s.attempts[key]
	for len(recent) > 0 && !recent[0].at.After(now.Add(-window)) {
		recent = recent[1:]
	}
	if len(recent) >= limit {
		s.attempts[key] = recent
		return "", false, recent[0].at.Add(window), nil
	}
	s.attemptSeq++
	id := strconv.FormatUint(s.attemptSeq, 36)
	s.attempts[key] = append(recent, attempt{id: id, at: now})
	return id, true, time.Time{}, nil
}

// ForgetAttempt implements store.Store.
func (s *Store) ForgetAttempt(_ context.Context, key, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	recent := s.attempts[key]
	for i, a := range recent {
		if a.id == id {
			recent = append(recent[:i:i], recent[i+1:]...)
			break
		}
	}
	if len(recent) == 0 {
		delete(s.attempts, key)
		return nil
	}
	s.attempts[key] = recent
	return nil
}
