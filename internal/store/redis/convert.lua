-- Converts a v1 journey record (a protobuf body) to the current layout,
-- if it is still the one the caller read and decoded: the hash is replaced
-- by the fields the caller computed from it, and its change log, whose
-- entries hold whole v1 journeys, is dropped (a watcher resuming across
-- the conversion gets a snapshot). The timeline stays: its entries read
-- alike in both layouts.
--
-- KEYS[1] journey hash, KEYS[2] change log list.
-- ARGV: see A (convertArgs in journeys.go); then the new record's
-- field/value pairs.
--
-- Returns "converted" (by this call or another before it), "missing" or
-- "conflict" (the v1 record moved since it was read: read it again).

local cur = redis.call('HMGET', KEYS[1], F.version, F.etag, F.revision)
if not cur[2] then
  return 'missing'
end
if cur[1] == F.record_version then
  return 'converted'
end
if cur[2] ~= ARGV[A.read_etag] or (cur[3] or '0') ~= ARGV[A.read_revision] then
  return 'conflict'
end
local inc = redis.call('HGET', KEYS[1], F.incarnation)
-- The record keeps the life it had: converting is no touch.
local ttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], unpack(tail(A.rest, #ARGV - A.rest + 1)))
if inc then
  redis.call('HSET', KEYS[1], F.incarnation, inc)
end
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 'converted'
