-- Takes a redeemed code off its journey's list (see issue.lua): the second
-- step of a redeem, after redeem.lua used up the code's own key. The code
-- opens the journey only if the journey (this incarnation of it) lists it
-- as working, so a code withdrawn by a newer one, or made for a journey
-- erased since (even one created again under the same name), opens
-- nothing.
--
-- KEYS[1] journey hash, KEYS[2] the journey's code list, KEYS[3] the
-- customer's codes set, KEYS[4] this code's redeem mark.
-- ARGV: see A (redeemListedArgs in codes.go): the code, this redeem's id,
-- now (ms), how long the mark stays (ms), and '1' for a code made before
-- codes were listed with their journey: it counts as listed while the
-- journey exists and the customer's codes set holds it. The code stays in
-- that set (erasure's list) until it expires: its key is a tombstone now.
--
-- Returns 1 when the code opens the journey, else 0. A retry of the same
-- redeem (go-redis resends a script whose reply was lost) finds its mark.

if redis.call('GET', KEYS[4]) == ARGV[A.redeem_id] then
  return 1
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end

if ARGV[A.legacy] == '1' then
  if redis.call('SISMEMBER', KEYS[3], ARGV[A.code]) == 0 then
    return 0
  end
else
  if (redis.call('HGET', KEYS[2], F.incarnation) or false) ~= (redis.call('HGET', KEYS[1], F.incarnation) or '') then
    return 0
  end
  local exp = string.match(redis.call('HGET', KEYS[2], ARGV[A.code]) or '', '^(%d+):L$')
  if not exp or tonumber(exp) <= tonumber(ARGV[A.now_ms]) then
    return 0
  end
  redis.call('HSET', KEYS[2], ARGV[A.code], exp .. ':R')
end
redis.call('SET', KEYS[4], ARGV[A.redeem_id], 'PX', ARGV[A.mark_ms])
return 1
