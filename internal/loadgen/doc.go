// Package loadgen holds the pieces of the load driver (cmd/handoff-load)
// that carry logic worth testing on their own: latency histograms, the
// closed-loop (fixed callers) and open-loop (fixed rate) runners, the
// workload mix, and readers for /proc, Redis INFO and Prometheus text.
//
// Latency is recorded in HDR histograms. The open-loop runner measures each
// request from the time it was meant to start, not from when it was sent,
// so a stall that delays the requests behind it shows in the tail instead
// of being hidden (coordinated omission).
package loadgen
