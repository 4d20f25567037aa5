// Package loadgen holds the pieces of the load driver (cmd/handoff-load)
// that carry logic worth testing on their own: latency histograms, the
// closed-loop (fixed callers) and open-loop (fixed rate) runners, the
// workload mix, rings of requests encoded before the run and the gRPC codec
// that sends them as they are, and readers for /proc, Redis INFO and
// Prometheus text.
//
// Latency is recorded in HDR histograms. The open-loop runner measures each
// request from the time it was meant to start, not from when it was sent,
// so a stall that delays the requests behind it shows in the tail instead
// of being hidden (coordinated omission).
//
// Requests are encoded before the run and replies left undecoded so that a
// call costs the driver the same whatever the method: the driver shares
// the machine with what it measures, and a save whose Struct the driver
// encodes on every call would take CPU from the server that the empty call
// it is compared with does not.
package loadgen
