-- Creates a journey atomically: nothing is written unless everything is.
--
-- KEYS[1] journey hash, KEYS[2] timeline list, KEYS[3] customer index,
-- KEYS[4] request id key (absent when the create carries no request id).
-- ARGV[1] journey body, ARGV[2] index member, ARGV[3] expire time (ms),
-- ARGV[4] journey id, ARGV[5] request id key expire time (ms),
-- ARGV[6] journey id of a request id key the caller found stale (or ""),
-- ARGV[7..] touchpoints, oldest first.
--
-- Returns {"created"}, {"exists"}, or {"replayed", <journey id>} when the
-- request id already made a journey.

if KEYS[4] then
  local made = redis.call('GET', KEYS[4])
  -- A request id key can outlive its journey only through clock trouble; the
  -- caller then names it in ARGV[6] so this create replaces it, and of two
  -- such retries only the first does.
  if made and made ~= ARGV[6] then
    return {'replayed', made}
  end
end

if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'exists'}
end

local expire_at = ARGV[3]
redis.call('HSET', KEYS[1], 'rev', 1, 'body', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], expire_at)

if #ARGV >= 7 then
  for i = 7, #ARGV do
    redis.call('RPUSH', KEYS[2], ARGV[i])
  end
  redis.call('PEXPIREAT', KEYS[2], expire_at)
end

redis.call('ZADD', KEYS[3], 0, ARGV[2])
-- The index must live as long as the customer's longest-lived journey, so
-- its expiry only ever moves later (-1: it was just created, no expiry yet).
local index_at = redis.call('PEXPIRETIME', KEYS[3])
if index_at < 0 or index_at < tonumber(expire_at) then
  redis.call('PEXPIREAT', KEYS[3], expire_at)
end

if KEYS[4] then
  redis.call('SET', KEYS[4], ARGV[4])
  redis.call('PEXPIREAT', KEYS[4], ARGV[5])
end

return {'created'}
