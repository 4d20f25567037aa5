package service

import (
	"errors"
	"fmt"

	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/store"
)

// The service states its rules' outcomes through internal/apierr, the one
// place where errors become statuses; these are its shorthands.
var (
	invalidArgument    = apierr.InvalidArgument
	failedPrecondition = apierr.FailedPrecondition
)

// journeyNotFound is what a caller learns about a journey it may not see:
// exactly what it would learn about one that does not exist.
func journeyNotFound(key store.JourneyKey) error {
	return apierr.NotFound("journey %s not found (it may have expired)", key.Name())
}

// journeyError puts the journey's name on a store error, which
// apierr.Status maps in the server. Not found is answered here, so that a
// missing journey and a forbidden one read exactly alike.
func journeyError(key store.JourneyKey, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return journeyNotFound(key)
	}
	return fmt.Errorf("journey %s: %w", key.Name(), err)
}
