package server

import "time"

// RequestLimits bound what a client may send. handoffd's configuration
// embeds them: each is one field here, its default in DefaultRequestLimits,
// one flag.
type RequestLimits struct {
	// MaxBodyBytes caps an HTTP request body (larger: 413).
	MaxBodyBytes int64
	// MaxMessageBytes caps a gRPC message, the gateway's included.
	MaxMessageBytes int
	// MaxHeaderBytes caps an HTTP request's header section (larger: 431).
	MaxHeaderBytes int
	// BodyReadTimeout bounds how long a client may take to send an HTTP
	// request body (slower: 408).
	BodyReadTimeout time.Duration
}

// DefaultRequestLimits are the limits with nothing configured.
func DefaultRequestLimits() RequestLimits {
	return RequestLimits{
		// Four times the answers' limit: room for the rest of a request,
		// and a quarter of the memory per call of 1 MiB.
		MaxBodyBytes:    256 << 10,
		MaxMessageBytes: 256 << 10,
		MaxHeaderBytes:  64 << 10,
		BodyReadTimeout: 15 * time.Second,
	}
}
