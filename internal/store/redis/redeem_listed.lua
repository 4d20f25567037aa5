-- Takes a redeemed code off its journey's list (see issue.lua): the second
-- step of a redeem, after redeem.lua used up the code's own key. The code
-- opens the journey only if the journey (this incarnation of it) lists it
-- as working, so a code withdrawn by a newer one, or made for a journey
-- erased since (even one created again under the same name), opens
-- nothing.
--
-- KEYS[1] journey hash, KEYS[2] the journey's code list, KEYS[3] the
-- customer's codes set, KEYS[4] this code's redeem mark.
-- ARGV[1] the code, ARGV[2] this redeem's id, ARGV[3] now (ms), ARGV[4] how
-- long the mark stays (ms), ARGV[5] '1' for a code made before codes were
-- listed with their journey: it counts as listed while the journey exists
-- and the customer's codes set holds it.
--
-- Returns 1 when the code opens the journey, else 0. A retry of the same
-- redeem (go-redis resends a script whose reply was lost) finds its mark.

if redis.call('GET', KEYS[4]) == ARGV[2] then
  return 1
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end

if ARGV[5] == '1' then
  if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 0 then
    return 0
  end
else
  if (redis.call('HGET', KEYS[2], 'inc') or false) ~= (redis.call('HGET', KEYS[1], 'inc') or '') then
    return 0
  end
  local exp = string.match(redis.call('HGET', KEYS[2], ARGV[1]) or '', '^(%d+):L$')
  if not exp or tonumber(exp) <= tonumber(ARGV[3]) then
    return 0
  end
  redis.call('HSET', KEYS[2], ARGV[1], exp .. ':R')
end
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[4])
return 1
