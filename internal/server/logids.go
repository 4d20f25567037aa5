package server

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/journeyhandoff/handoff/internal/clientaddr"
)

// WithCallIDs adds the call's request id, its client's address (as
// --trusted-proxies decides it) and, when the call is traced, its trace and
// span ids to every line logged with the call's context, so that a line
// from deep inside a call (a store that did not answer) sits beside the
// call's own line and its trace, and a flood can be traced to its source.
func WithCallIDs(h slog.Handler) slog.Handler { return callIDs{h} }

type callIDs struct{ slog.Handler }

func (c callIDs) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if addr, ok := clientaddr.FromContext(ctx); ok {
		r.AddAttrs(slog.String("client_addr", addr.String()))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return c.Handler.Handle(ctx, r)
}

func (c callIDs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return callIDs{c.Handler.WithAttrs(attrs)}
}

func (c callIDs) WithGroup(name string) slog.Handler {
	return callIDs{c.Handler.WithGroup(name)}
}
