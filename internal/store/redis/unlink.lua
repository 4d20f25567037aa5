-- Removes one link from the customer's links hash (see link.lua).
--
-- KEYS[1] the customer's links hash.
-- ARGV: see A (unlinkArgs in identities.go).
--
-- Returns the link's digest, whose index entry Go tidies, or false when
-- there is no such live link.

local rec = redis.call('HGET', KEYS[1], 'l:' .. ARGV[A.id])
if not rec then
  return false
end
local e, d = string.match(rec, '^(%d+) %d+ %d+ (%S+)')
redis.call('HDEL', KEYS[1], 'l:' .. ARGV[A.id], 'd:' .. d)
if tonumber(e) <= tonumber(ARGV[A.now_ms]) then
  return false
end
return d
