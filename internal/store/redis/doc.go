// Package redis keeps journeys, timelines, change logs and handoff codes in
// Redis (7.0 or later) through a go-redis v9 UniversalClient: standalone,
// Sentinel or Cluster. Every change is also published on its journey's own
// sharded pub/sub channel, which only the instances watching the journey
// subscribe to (feed.go).
//
// The key layout is the one in docs/design.md ("Redis key layout"). Every key
// of a customer carries the hash tag {customer}, so each write is one Lua
// script on one Cluster slot, and every key expires on its own (PEXPIREAT),
// so Redis needs no cleanup job. Errors are the store package's sentinels;
// whenever Redis does not answer they wrap store.ErrUnavailable.
package redis
