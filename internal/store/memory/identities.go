package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/journeyhandoff/handoff/internal/store"
)

// identities are the identity links and lookups: the customers' links
// (the truth), an index of which customers linked each digest, and the
// lookups. All under Store.mu.
type identities struct {
	links   map[string]map[string]store.IdentityLink // customer → link id → link
	linkers map[string]map[string]bool               // digest → customers that linked it
	lookups map[string]store.IdentityLookup
}

func newIdentities() identities {
	return identities{
		links:   make(map[string]map[string]store.IdentityLink),
		linkers: make(map[string]map[string]bool),
		lookups: make(map[string]store.IdentityLookup),
	}
}

// heldLink is the customer's live link of digest, if any.
func (s *Store) heldLink(customer, digest string, now time.Time) (store.IdentityLink, bool) {
	for _, l := range s.ids.links[customer] {
		if l.Digest == digest && now.Before(l.ExpireTime) {
			return l, true
		}
	}
	return store.IdentityLink{}, false
}

// dropLink removes a link from both sides.
func (s *Store) dropLink(customer string, l store.IdentityLink) {
	delete(s.ids.links[customer], l.ID)
	if len(s.ids.links[customer]) == 0 {
		delete(s.ids.links, customer)
	}
	if held, ok := s.ids.linkers[l.Digest]; ok {
		delete(held, customer)
		if len(held) == 0 {
			delete(s.ids.linkers, l.Digest)
		}
	}
}

// LinkIdentity implements store.Store.
func (s *Store) LinkIdentity(_ context.Context, customer string, link store.IdentityLink, replaces []string, limit int) (store.IdentityLink, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	candidates := append([]string{link.Digest}, replaces...)
	created := true
	for _, d := range candidates {
		if _, ok := s.heldLink(customer, d, now); ok {
			created = false
		}
	}
	if created && limit > 0 {
		n := 0
		for _, l := range s.ids.links[customer] {
			if now.Before(l.ExpireTime) {
				n++
			}
		}
		if n >= limit {
			return store.IdentityLink{}, false, fmt.Errorf("link identity: %w", store.ErrLinkLimit)
		}
	}
	created = true
	for _, d := range candidates {
		old, ok := s.heldLink(customer, d, now)
		if !ok {
			continue
		}
		if created {
			link.ID, link.CreateTime, created = old.ID, old.CreateTime, false
		}
		s.dropLink(customer, old)
	}
	if s.ids.links[customer] == nil {
		s.ids.links[customer] = make(map[string]store.IdentityLink)
	}
	s.ids.links[customer][link.ID] = link
	if s.ids.linkers[link.Digest] == nil {
		s.ids.linkers[link.Digest] = make(map[string]bool)
	}
	s.ids.linkers[link.Digest][customer] = true
	return link, created, nil
}

// IdentityLinks implements store.Store.
func (s *Store) IdentityLinks(_ context.Context, customer string) ([]store.IdentityLink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var out []store.IdentityLink
	for _, l := range s.ids.links[customer] {
		if now.Before(l.ExpireTime) {
			out = append(out, l)
		}
	}
	store.SortIdentityLinks(out)
	return out, nil
}

// UnlinkIdentity implements store.Store.
func (s *Store) UnlinkIdentity(_ context.Context, customer, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.ids.links[customer][id]
	if !ok {
		return fmt.Errorf("identity link %s: %w", id, store.ErrNotFound)
	}
	s.dropLink(customer, l) // an expired one too, as Redis does
	if !time.Now().Before(l.ExpireTime) {
		return fmt.Errorf("identity link %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// LinkedCustomers implements store.Store.
func (s *Store) LinkedCustomers(_ context.Context, digests []string) (map[string][]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	out := map[string][]string{}
	for _, d := range digests {
		for c := range s.ids.linkers[d] {
			// The customer's own links decide, as in Redis.
			if _, ok := s.heldLink(c, d, now); ok {
				out[d] = append(out[d], c)
			}
		}
		slices.Sort(out[d])
	}
	return out, nil
}

// PutIdentityLookup implements store.Store.
func (s *Store) PutIdentityLookup(_ context.Context, l store.IdentityLookup) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.Matches = slices.Clone(l.Matches)
	s.ids.lookups[l.ID] = l
	return nil
}

// IdentityLookup implements store.Store.
func (s *Store) IdentityLookup(_ context.Context, id string) (store.IdentityLookup, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.ids.lookups[id]
	if !ok || !time.Now().Before(l.ExpireTime) {
		return store.IdentityLookup{}, fmt.Errorf("identity lookup: %w", store.ErrNotFound)
	}
	l.Matches = slices.Clone(l.Matches)
	return l, nil
}

// DeleteIdentityLookup implements store.Store.
func (s *Store) DeleteIdentityLookup(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids.lookups, id)
	return nil
}

// eraseLinks removes the customer's links from both sides; under s.mu.
func (s *Store) eraseLinks(customer string) {
	for _, l := range s.ids.links[customer] {
		s.dropLink(customer, l)
	}
}

// sweepIdentities frees expired links and lookups; under s.mu.
func (s *Store) sweepIdentities(now time.Time) {
	for c, links := range s.ids.links {
		for _, l := range links {
			if !now.Before(l.ExpireTime) {
				s.dropLink(c, l)
			}
		}
	}
	for id, l := range s.ids.lookups {
		if !now.Before(l.ExpireTime) {
			delete(s.ids.lookups, id)
		}
	}
}
