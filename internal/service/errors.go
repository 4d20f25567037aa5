package service

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/journeyhandoff/handoff/internal/store"
)

// invalidArgument is INVALID_ARGUMENT with one google.rpc.BadRequest field
// violation, so clients can put the message next to the right input and
// branch on reason, an UPPER_SNAKE_CASE word that never changes (AIP-193).
func invalidArgument(field, reason, description string) error {
	st := status.New(codes.InvalidArgument, field+": "+description)
	if withDetails, err := st.WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Reason: reason, Description: description}},
	}); err == nil {
		st = withDetails
	}
	return st.Err()
}

// journeyNotFound is what a caller learns about a journey it may not see:
// exactly what it would learn about one that does not exist.
func journeyNotFound(key store.JourneyKey) error {
	return status.Errorf(codes.NotFound, "journey %s not found (it may have expired)", key.Name())
}

// journeyError puts the journey's name on a store error; the server maps the
// sentinel to a status code. Not found is answered here, so that a missing
// journey and a forbidden one read exactly alike.
func journeyError(key store.JourneyKey, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return journeyNotFound(key)
	}
	return fmt.Errorf("journey %s: %w", key.Name(), err)
}

func failedPrecondition(format string, args ...any) error {
	return status.Errorf(codes.FailedPrecondition, format, args...)
}
