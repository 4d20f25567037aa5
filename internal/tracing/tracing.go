// Package tracing sets up OpenTelemetry tracing for handoffd: spans go to
// an OTLP/gRPC collector when one is configured, and nowhere otherwise.
// Spans carry the names of calls and commands, never answers or tokens:
// the instrumentation that could record them is configured not to.
package tracing

import (
	"context"
	"errors"
	"os"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing is where spans go, and how trace context crosses calls.
type Tracing struct {
	// Provider makes the tracers; a no-op one when tracing is off.
	Provider trace.TracerProvider
	// Propagator reads and writes W3C trace context (traceparent).
	Propagator propagation.TextMapPropagator
	// Enabled says whether spans are exported at all.
	Enabled  bool
	shutdown func(context.Context) error
}

// Start exports spans over OTLP/gRPC to endpoint (a URL such as
// http://collector:4317), or, when endpoint is empty, to where the standard
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT says.
// With neither, tracing is off and costs nothing. The sampler follows the
// standard OTEL_TRACES_SAMPLER variables (default: sample everything, or
// as the caller's traceparent says).
func Start(ctx context.Context, endpoint, version string) (*Tracing, error) {
	t := &Tracing{
		Propagator: propagation.TraceContext{},
		Provider:   noop.NewTracerProvider(),
		shutdown:   func(context.Context) error { return nil },
	}
	if endpoint == "" && os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return t, nil
	}
	var opts []otlptracegrpc.Option
	if endpoint != "" {
		opts = append(opts, otlptracegrpc.WithEndpointURL(endpoint))
	}
	exporter, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName("handoffd"), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, errors.Join(err, exporter.Shutdown(ctx))
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	t.Provider, t.Enabled, t.shutdown = provider, true, provider.Shutdown
	return t, nil
}

// Shutdown sends the spans not yet exported and stops.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }
