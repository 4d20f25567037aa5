// Package memory is the embedded Store, used when no Redis is configured.
//
// Everything lives in maps behind one mutex, so nothing survives a restart
// and nothing is shared between processes: it suits one instance, tests and
// demos. It follows the same contract as the Redis store (both pass
// storetest.Run), including etags, TTLs, request ids and single-use codes.
package memory
