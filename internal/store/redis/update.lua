-- Replaces a journey if its revision and etag are still the ones the caller
-- read, appends to its timeline, and logs and publishes the change,
-- atomically. The caller computed the new revision and etag, so that the
-- journey it returns and the change it encoded carry them.
--
-- KEYS[1] journey hash, KEYS[2] timeline list, KEYS[3] customer index,
-- KEYS[4] change log list.
-- ARGV[1] etag read, ARGV[2] revision read, ARGV[3] new etag,
-- ARGV[4] new revision, ARGV[5] journey body, ARGV[6] expire time (ms),
-- ARGV[7] the change's head (see change.lua), ARGV[8] touchpoint name prefix,
-- ARGV[9] change log entries, ARGV[10] change log TTL (ms), ARGV[11] channel,
-- ARGV[12] this write's id, ARGV[13..] touchpoints to append, oldest first.
--
-- Returns "updated", "missing" or "conflict".

local cur = redis.call('HMGET', KEYS[1], 'rev', 'seq', 'wids')
if not cur[1] then
  return 'missing'
end
-- Compared as strings: an etag that is not a number simply never matches.
-- A hash written before revisions were kept has none: revision 0.
if cur[1] ~= ARGV[1] or (cur[2] or '0') ~= ARGV[2] then
  if wrote_before(cur[3], ARGV[12]) then
    return 'updated'
  end
  return 'conflict'
end

local expire_at = ARGV[6]
redis.call('HSET', KEYS[1], 'rev', ARGV[3], 'seq', ARGV[4], 'body', ARGV[5], 'wids', remember_write(cur[3], ARGV[12]))
redis.call('PEXPIREAT', KEYS[1], expire_at)

local change = append_timeline(KEYS[2], ARGV[7], ARGV[8], 13)
-- The timeline may not exist (a journey created without touchpoints);
-- PEXPIREAT on a missing key does nothing.
redis.call('PEXPIREAT', KEYS[2], expire_at)

local index_at = redis.call('PEXPIRETIME', KEYS[3])
if index_at < 0 or index_at < tonumber(expire_at) then
  redis.call('PEXPIREAT', KEYS[3], expire_at)
end

log_change(KEYS[4], change, ARGV[9], ARGV[10], ARGV[11])
return 'updated'
