-- Appends to a journey's timeline without touching the journey: its body,
-- revision (so the etag callers hold stays good) and expiry stay as they are,
-- and the timeline keeps expiring with it.
--
-- KEYS[1] journey hash, KEYS[2] timeline list.
-- ARGV[1..] touchpoints to append, oldest first.
--
-- Returns "appended" or "missing".

local expire_at = redis.call('PEXPIRETIME', KEYS[1])
if expire_at == -2 then
  return 'missing'
end
for i = 1, #ARGV do
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
if expire_at > 0 then
  redis.call('PEXPIREAT', KEYS[2], expire_at)
end
return 'appended'
