// Package server puts the journey service on the wire: the gRPC server with
// its interceptor chain (request id, client address, logging, metrics,
// recovery, auth, validation, error mapping), health and reflection; and the
// HTTP side: the grpc-gateway REST API, /healthz, /readyz, /metrics and
// /openapi.json.
//
// Store errors become status codes in exactly one place, errors.go. A REST
// body is read and checked before the gateway decodes it in body.go; a
// caller's address is decided in clientaddr.go.
package server
