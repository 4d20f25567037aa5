package service

import (
	"context"
	"strings"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// DeleteCustomer erases everything kept of a customer.
func (s *Service) DeleteCustomer(ctx context.Context, req *handoffv1.DeleteCustomerRequest) (*handoffv1.DeleteCustomerResponse, error) {
	p, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	customer := strings.TrimPrefix(req.GetName(), "customers/")
	n, err := s.store.EraseCustomer(ctx, customer)
	if err != nil {
		return nil, err
	}
	// Who erased is worth keeping; whose data it was is not.
	s.opts.Logger.InfoContext(ctx, "customer erased", "by", p.ID, "journeys", n)
	return &handoffv1.DeleteCustomerResponse{ErasedJourneys: int32(n)}, nil
}
