-- Creates a journey atomically: nothing is written unless everything is.
--
-- KEYS[1] journey hash, KEYS[2] timeline list, KEYS[3] customer index,
-- KEYS[4] change log list, KEYS[5] request id key (absent when the create
-- carries no request id).
-- ARGV[1] journey body, ARGV[2] index member, ARGV[3] expire time (ms),
-- ARGV[4] journey id, ARGV[5] request id key expire time (ms),
-- ARGV[6] journey id of a request id key the caller found stale (or ""),
-- ARGV[7] the change's head (see change.lua), ARGV[8] touchpoint name prefix,
-- ARGV[9] change log entries, ARGV[10] change log TTL (ms), ARGV[11] channel,
-- ARGV[12] this write's id, ARGV[13..] touchpoints, oldest first.
--
-- Returns {"created"}, {"exists"}, or {"replayed", <journey id>} when the
-- request id already made a journey.

if KEYS[5] then
  local made = redis.call('GET', KEYS[5])
  -- A request id key can outlive its journey only through clock trouble; the
  -- caller then names it in ARGV[6] so this create replaces it, and of two
  -- such retries only the first does.
  if made and made ~= ARGV[6] then
    return {'replayed', made}
  end
end

if redis.call('EXISTS', KEYS[1]) == 1 then
  if wrote_before(redis.call('HGET', KEYS[1], 'wids'), ARGV[12]) then
    return {'created'}
  end
  return {'exists'}
end

-- What an earlier journey of this id left (its log outlives it; its
-- timeline may expire a moment later) must not become part of this one.
redis.call('DEL', KEYS[2], KEYS[4])

local expire_at = ARGV[3]
-- The create's write id doubles as the journey's incarnation (`inc`): what
-- is tied to this journey (its handoff codes, see issue.lua) does not carry
-- over to a journey created again under the same name.
redis.call('HSET', KEYS[1], 'rev', 1, 'seq', 1, 'body', ARGV[1], 'wids', ARGV[12], 'inc', ARGV[12])
redis.call('PEXPIREAT', KEYS[1], expire_at)

local change = append_timeline(KEYS[2], ARGV[7], ARGV[8], 13)
-- Does nothing when there were no touchpoints and so is no timeline.
redis.call('PEXPIREAT', KEYS[2], expire_at)

redis.call('ZADD', KEYS[3], 0, ARGV[2])
-- The index must live as long as the customer's longest-lived journey, so
-- its expiry only ever moves later (-1: it was just created, no expiry yet).
local index_at = redis.call('PEXPIRETIME', KEYS[3])
if index_at < 0 or index_at < tonumber(expire_at) then
  redis.call('PEXPIREAT', KEYS[3], expire_at)
end

if KEYS[5] then
  redis.call('SET', KEYS[5], ARGV[4])
  redis.call('PEXPIREAT', KEYS[5], ARGV[5])
end

log_change(KEYS[4], change, ARGV[9], ARGV[10], ARGV[11])
return {'created'}
