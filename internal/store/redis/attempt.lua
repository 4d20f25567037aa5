-- Records an attempt of one key in a sliding window, unless the limit is
-- reached: a sorted set of attempt times, trimmed to the window on every
-- call. Check and record in one script, so concurrent attempts cannot pass
-- the limit together.
--
-- KEYS[1] the attempts sorted set.
-- ARGV[1] now (ms), ARGV[2] window (ms), ARGV[3] limit, ARGV[4] a member
-- unique to this attempt.
--
-- Returns {1, 0} when recorded, {0, oldest attempt time in ms} when not.

local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return {0, tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
