// Package apierr is where an error becomes what the API answers: a gRPC
// status (and, through the gateway, its HTTP status). The service states
// its rules' outcomes with these constructors; the server's last
// interceptor passes whatever a handler returned through Status. No other
// package makes a status.
package apierr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/journeyhandoff/handoff/internal/store"
)

// Status turns what a handler returned into the status the client sees.
// Errors that carry a status already pass unchanged; store sentinels get
// their code and a message a person can act on; anything else is an
// INTERNAL whose cause goes to the log, never to the client.
func Status(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var tooMany *store.TooManyError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, store.ErrAlreadyExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, store.ErrConflict):
		return status.Error(codes.Aborted, err.Error()+": read it again, then reapply your change")
	case errors.As(err, &tooMany):
		return RetryLater("too many "+tooMany.What, time.Until(tooMany.RetryAt))
	case errors.Is(err, store.ErrUnavailable):
		log.WarnContext(ctx, "store unavailable", "error", err)
		return status.Error(codes.Unavailable, "the journey store is not answering; try again in a moment")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the call ran out of time")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the call was canceled")
	}
	log.ErrorContext(ctx, "internal error", "error", err)
	return Internal()
}

// Internal is what a client learns of a bug: that it happened, and where
// to look.
func Internal() error {
	return status.Error(codes.Internal, "internal error; the request id in the logs has the details")
}

// InvalidArgument is INVALID_ARGUMENT with one google.rpc.BadRequest field
// violation, so clients can put the message next to the right input and
// branch on reason, an UPPER_SNAKE_CASE word that never changes (AIP-193).
func InvalidArgument(field, reason, description string) error {
	return BadRequest(field+": "+description, &errdetails.BadRequest_FieldViolation{Field: field, Reason: reason, Description: description})
}

// BadRequest is INVALID_ARGUMENT with message and the violations as a
// google.rpc.BadRequest, which REST and gRPC clients read field by field.
func BadRequest(message string, violations ...*errdetails.BadRequest_FieldViolation) error {
	st := status.New(codes.InvalidArgument, message)
	if withDetails, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: violations}); err == nil {
		st = withDetails
	}
	return st.Err()
}

// RetryLater is RESOURCE_EXHAUSTED saying when to try again, in the
// message and as a google.rpc.RetryInfo (whole seconds, at least one).
func RetryLater(what string, retryIn time.Duration) error {
	retryIn = max(retryIn, time.Second).Round(time.Second)
	st := status.New(codes.ResourceExhausted, fmt.Sprintf("%s; try again in %s", what, retryIn))
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryIn)}); err == nil {
		st = d
	}
	return st.Err()
}

// NotFound, and the other codes below, are the outcome of a rule, with a
// message that says what to do.
func NotFound(format string, args ...any) error {
	return status.Errorf(codes.NotFound, format, args...)
}

// FailedPrecondition: the journey is not in a state that allows the call.
func FailedPrecondition(format string, args ...any) error {
	return status.Errorf(codes.FailedPrecondition, format, args...)
}

// PermissionDenied: the caller's role may not do this.
func PermissionDenied(format string, args ...any) error {
	return status.Errorf(codes.PermissionDenied, format, args...)
}

// AlreadyExists: the name is taken.
func AlreadyExists(format string, args ...any) error {
	return status.Errorf(codes.AlreadyExists, format, args...)
}

// Aborted: a race lost; trying again may succeed.
func Aborted(format string, args ...any) error {
	return status.Errorf(codes.Aborted, format, args...)
}

// Unavailable: try again in a moment.
func Unavailable(message string) error { return status.Error(codes.Unavailable, message) }

// Unauthenticated: no or no valid credentials.
func Unauthenticated(message string) error { return status.Error(codes.Unauthenticated, message) }

// Reconnect is UNAVAILABLE for a stream the server ended on its side (it
// fell behind, the server is shutting down), with a google.rpc.ErrorInfo
// giving the reason and the revision to resume after.
func Reconnect(domain, reason, message string, resumeAfter int64) error {
	st := status.New(codes.Unavailable, fmt.Sprintf("%s: reconnect with after_revision=%d", message, resumeAfter))
	if d, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason:   reason,
		Domain:   domain,
		Metadata: map[string]string{"resume_after_revision": fmt.Sprint(resumeAfter)},
	}); err == nil {
		st = d
	}
	return st.Err()
}
