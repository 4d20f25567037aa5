-- Redeems a handoff code once. The code's value becomes a tombstone naming
-- the redeem that used it, instead of being deleted, so that a retry of
-- this script (go-redis resends a command whose reply was lost with its
-- connection) still gets the journey rather than finding the code gone.
--
-- KEYS[1] the code key.
-- ARGV[1] this redeem's id, ARGV[2] how long the tombstone stays (ms).
--
-- Returns "<customer>/<journey>", or false when the code is unknown,
-- expired or already used.

local v = redis.call('GET', KEYS[1])
if not v then
  return false
end
local used_by, journey = string.match(v, '^!(%S+) (.*)$')
if used_by then
  if used_by == ARGV[1] then
    return journey
  end
  return false
end
-- The tombstone never outlives the code itself.
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or ttl > tonumber(ARGV[2]) then
  ttl = tonumber(ARGV[2])
end
redis.call('SET', KEYS[1], '!' .. ARGV[1] .. ' ' .. v, 'PX', ttl)
return v
