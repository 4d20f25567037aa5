package memory

import (
	"context"
	"time"
)

// CountFailures implements store.Store with a sliding window per key.
func (s *Store) CountFailures(_ context.Context, key string, window time.Duration, record bool) (int, time.Time, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	recent := s.failures[key]
	for len(recent) > 0 && !recent[0].After(now.Add(-window)) {
		recent = recent[1:]
	}
	if record {
		recent = append(recent, now)
	}
	if len(recent) == 0 {
		delete(s.failures, key)
		return 0, time.Time{}, nil
	}
	s.failures[key] = recent
	return len(recent), recent[0].Add(window), nil
}
