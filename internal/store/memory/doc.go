// Package memory is the embedded Store, used when no Redis is configured.
//
// Everything lives in maps behind one mutex, so nothing survives a restart
// and nothing is shared between processes: it suits one instance, tests and
// demos. It follows the same contract as the Redis store (both pass
// storetest.Run), including etags and revisions, saves checked per answer
// (it keeps the etag each answer was written at, as the Redis record
// does), TTLs, request ids, single-use codes, the change log of deltas and
// subscriptions (whose handlers run under the store's lock, which is what
// keeps each journey's changes in order).
package memory
