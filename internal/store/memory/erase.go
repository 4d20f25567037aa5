package memory

import (
	"context"
	"time"
)

// EraseCustomer implements store.Store.
func (s *Store) EraseCustomer(_ context.Context, customer string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if c := s.customers[customer]; c != nil {
		n = len(c.journeys)
	}
	delete(s.customers, customer)
	s.eraseLinks(customer)
	for code, e := range s.codes {
		if e.key.Customer == customer {
			delete(s.codes, code)
		}
	}
	s.erased(customer, time.Now())
	return n, nil
}
