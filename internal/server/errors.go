package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/journeyhandoff/handoff/internal/store"
)

// toStatus turns what a handler returned into the status the client sees.
// Errors that already carry a status pass unchanged; store sentinels get
// their code and a message a person can act on; anything else is an
// INTERNAL whose cause goes to the log, never to the client.
func toStatus(ctx context.Context, log *slog.Logger, err error) error {
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
		retryIn := max(time.Until(tooMany.RetryAt), time.Second).Round(time.Second)
		st := status.New(codes.ResourceExhausted, fmt.Sprintf("too many %s; try again in %s", tooMany.What, retryIn))
		if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryIn)}); err == nil {
			st = d
		}
		return st.Err()
	case errors.Is(err, store.ErrUnavailable):
		log.WarnContext(ctx, "store unavailable", "error", err)
		return status.Error(codes.Unavailable, "the journey store is not answering; try again in a moment")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the call ran out of time")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the call was canceled")
	}
	log.ErrorContext(ctx, "internal error", "error", err)
	return status.Error(codes.Internal, "internal error; the request id in the logs has the details")
}

func errorMappingUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		return resp, toStatus(ctx, log, err)
	}
}

func errorMappingStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return toStatus(ss.Context(), log, handler(srv, ss))
	}
}

// badRequest is INVALID_ARGUMENT with message and the violations as a
// google.rpc.BadRequest, which REST and gRPC clients read field by field.
func badRequest(message string, violations ...*errdetails.BadRequest_FieldViolation) *status.Status {
	st := status.New(codes.InvalidArgument, message)
	if withDetails, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: violations}); err == nil {
		return withDetails
	}
	return st
}
