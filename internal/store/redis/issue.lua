-- Lists a new handoff code with the journey it was made for, in the
-- journey's own hash: a code opens the journey only while it is listed
-- there as working (see redeem_listed.lua), so erasing the journey takes
-- its codes with it, and a journey created again under the same name
-- starts with none. The list also carries the per-journey limits.
--
-- The field `codes` holds the codes made within the code lifetime, oldest
-- first, as space-separated `<code>:<expire ms>:<state>`, the state being L
-- (working), W (withdrawn by a newer code) or R (redeemed).
--
-- KEYS[1] journey hash, KEYS[2] the customer's codes set (erasure's list).
-- ARGV[1] the code, ARGV[2] its expire time (ms), ARGV[3] now (ms),
-- ARGV[4] how many codes may work at once, ARGV[5] how many may be made
-- while earlier ones have not expired.
--
-- Returns false when the journey does not exist; {'limited', <expire ms of
-- the oldest code counted>} when ARGV[5] are made already; else
-- {'listed', <withdrawn code>...}.

if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local now = tonumber(ARGV[3])
local kept, working = {}, {}
-- Expire times stay the strings they were written as: Lua's numbers are
-- doubles, and printing one back could change its form.
local oldest
for code, exp, state in string.gmatch(redis.call('HGET', KEYS[1], 'codes') or '', '(%w+):(%d+):(%a)') do
  if tonumber(exp) > now then
    kept[#kept + 1] = {code, exp, state}
    if state == 'L' then
      working[#working + 1] = kept[#kept]
    end
    if not oldest or tonumber(exp) < tonumber(oldest) then
      oldest = exp
    end
  else
    -- Expired: its key is gone by itself; keep erasure's list short.
    redis.call('SREM', KEYS[2], code)
  end
end
if #kept >= tonumber(ARGV[5]) then
  return {'limited', oldest}
end

local new = {ARGV[1], ARGV[2], 'L'}
kept[#kept + 1] = new
working[#working + 1] = new
local reply = {'listed'}
for i = 1, #working - tonumber(ARGV[4]) do
  working[i][3] = 'W'
  reply[#reply + 1] = working[i][1]
  redis.call('SREM', KEYS[2], working[i][1])
end

local parts = {}
for i, e in ipairs(kept) do
  parts[i] = e[1] .. ':' .. e[2] .. ':' .. e[3]
end
redis.call('HSET', KEYS[1], 'codes', table.concat(parts, ' '))

redis.call('SADD', KEYS[2], ARGV[1])
local set_at = redis.call('PEXPIRETIME', KEYS[2])
if set_at < 0 or set_at < tonumber(ARGV[2]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
end
return reply
