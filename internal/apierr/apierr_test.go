package apierr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/journeyhandoff/handoff/internal/store"
)

func TestStatus(t *testing.T) {
	secret := errors.New("dial tcp 10.0.0.7:6379: connection refused")
	tests := []struct {
		name string
		err  error
		want codes.Code
	}{
		{"a_missing_journey_is_not_found", fmt.Errorf("journey x: %w", store.ErrNotFound), codes.NotFound},
		{"an_existing_journey_is_already_exists", fmt.Errorf("journey x: %w", store.ErrAlreadyExists), codes.AlreadyExists},
		{"a_stale_etag_is_aborted", fmt.Errorf("journey x: %w", store.ErrConflict), codes.Aborted},
		{"a_store_that_does_not_answer_is_unavailable", fmt.Errorf("redis get: %w: %w", store.ErrUnavailable, secret), codes.Unavailable},
		{"a_reached_limit_is_resource_exhausted", fmt.Errorf("journey x: %w", &store.TooManyError{What: "handoff codes", RetryAt: time.Now().Add(time.Minute)}), codes.ResourceExhausted},
		{"a_deadline_is_deadline_exceeded", fmt.Errorf("redis get: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{"a_status_passes_unchanged", status.Error(codes.FailedPrecondition, "held by alice"), codes.FailedPrecondition},
		{"anything_else_is_internal", secret, codes.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			got := Status(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)), tt.err)
			require.Equal(t, tt.want, status.Code(got))
			require.NotContains(t, status.Convert(got).Message(), "10.0.0.7", "internal causes stay out of the client's message")
		})
	}
}
