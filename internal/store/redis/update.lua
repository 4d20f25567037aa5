-- Replaces a journey if its revision is still the one the caller read, and
-- appends to its timeline, atomically.
--
-- KEYS[1] journey hash, KEYS[2] timeline list, KEYS[3] customer index.
-- ARGV[1] expected revision (the etag), ARGV[2] journey body,
-- ARGV[3] expire time (ms), ARGV[4..] touchpoints to append, oldest first.
--
-- Returns {"updated", <new revision>}, {"missing"} or {"conflict"}.

local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev then
  return {'missing'}
end
-- Compared as strings: an etag that is not a number simply never matches.
if rev ~= ARGV[1] then
  return {'conflict'}
end

local expire_at = ARGV[3]
local next_rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('HSET', KEYS[1], 'body', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], expire_at)

for i = 4, #ARGV do
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
-- The timeline may not exist (a journey created without touchpoints);
-- PEXPIREAT on a missing key does nothing.
redis.call('PEXPIREAT', KEYS[2], expire_at)

local index_at = redis.call('PEXPIRETIME', KEYS[3])
if index_at < 0 or index_at < tonumber(expire_at) then
  redis.call('PEXPIREAT', KEYS[3], expire_at)
end

return {'updated', tostring(next_rev)}
