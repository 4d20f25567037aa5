-- Counts (and optionally records) failures of one key in a sliding window:
-- a sorted set of failure times, trimmed to the window on every call.
--
-- KEYS[1] the failures sorted set.
-- ARGV[1] now (ms), ARGV[2] window (ms), ARGV[3] "1" to record a failure,
-- ARGV[4] a member unique to this call.
--
-- Returns {count, oldest failure time in ms (0 when none)}.

local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
local count = redis.call('ZCARD', KEYS[1])
local oldest = 0
if count > 0 then
  oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
end
return {count, oldest}
