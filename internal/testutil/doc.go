// Package testutil holds helpers for tests that need real dependencies.
//
// StartRedis runs a real redis-server (no mocks, no Docker) on a free
// loopback port with its data in the test's temporary directory, so the
// Redis store is tested against the server it will meet in production,
// including outages (Stop, Start) and crashes (Kill). StartRedisTLS runs one
// that speaks only TLS, with a throwaway CA from WriteCertificates.
// StartRedisCluster runs a Redis Cluster of six such servers (three
// primaries, one replica each), made with redis-cli --cluster create, in
// about 4 to 6 seconds.
package testutil
