-- Takes a redeemed code off its journey's list (see issue.lua): the second
-- step of a redeem, after redeem.lua used up the code's own key. The code
-- opens the journey only if the journey lists it as working, so a code
-- withdrawn by a newer one, or made for a journey erased since (even one
-- created again under the same name), opens nothing.
--
-- KEYS[1] journey hash, KEYS[2] the customer's codes set, KEYS[3] this
-- code's redeem mark.
-- ARGV[1] the code, ARGV[2] this redeem's id, ARGV[3] now (ms), ARGV[4] how
-- long the mark stays (ms), ARGV[5] '1' for a code made before codes were
-- listed with their journey: it counts as listed while the customer's codes
-- set holds it.
--
-- Returns 1 when the code opens the journey, else 0. A retry of the same
-- redeem (go-redis resends a script whose reply was lost) finds its mark.

if redis.call('GET', KEYS[3]) == ARGV[2] then
  return 1
end

local listed = false
if ARGV[5] == '1' then
  listed = redis.call('EXISTS', KEYS[1]) == 1 and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1
else
  local now = tonumber(ARGV[3])
  local list = redis.call('HGET', KEYS[1], 'codes')
  if list then
    local marked = string.gsub(list, '(%w+):(%d+):L', function(code, exp)
      if code == ARGV[1] and tonumber(exp) > now then
        listed = true
        return code .. ':' .. exp .. ':R'
      end
    end)
    if listed then
      redis.call('HSET', KEYS[1], 'codes', marked)
    end
  end
end
if not listed then
  return 0
end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4])
return 1
