-- Removes one link from the customer's links hash (see link.lua), live or
-- expired, marking its digest `x:` until Go tidies its index entry.
--
-- KEYS[1] the customer's links hash.
-- ARGV: see A (unlinkArgs in identities.go).
--
-- Returns {digest, '1' when the link was live else '0'}, or false when the
-- hash holds no such link.

local rec = redis.call('HGET', KEYS[1], 'l:' .. ARGV[A.id])
if not rec then
  return false
end
local e, d = string.match(rec, '^(%d+) %d+ %d+ (%S+)')
redis.call('HDEL', KEYS[1], 'l:' .. ARGV[A.id], 'd:' .. d)
redis.call('HSET', KEYS[1], 'x:' .. d, '1')
local live = '0'
if tonumber(e) > tonumber(ARGV[A.now_ms]) then
  live = '1'
end
return {d, live}
