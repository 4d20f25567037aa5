-- Lists a new handoff code with the journey it was made for: a code opens
-- the journey only while it is listed there as working (see
-- redeem_listed.lua). The list is a hash of its own, tied to this very
-- journey by the journey's incarnation (`inc`, a random id its create
-- wrote): a list that outlives its journey (erased while a handoff was
-- under way) does not count for a journey created again under the same
-- name. The list also carries the per-journey limits.
--
-- The list's fields: `inc`, then one per code made within the code
-- lifetime, `<code>` = `<expire ms>:<state>`, the state being L (working),
-- W (withdrawn by a newer code) or R (redeemed). Small values and few
-- fields, so Redis keeps it in its compact encoding.
--
-- KEYS[1] journey hash, KEYS[2] the journey's code list, KEYS[3] the
-- customer's codes set (erasure's list).
-- ARGV: see A (issueArgs in codes.go): the code, its expire time (ms), now
-- (ms), how many codes may work at once, how many may be made while earlier
-- ones have not expired.
--
-- Returns false when the journey does not exist; {'limited', <expire ms of
-- the oldest code counted>} when A.max_made are made already; else
-- {'listed', <withdrawn code>...}.

if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local inc = redis.call('HGET', KEYS[1], F.incarnation) or ''
if (redis.call('HGET', KEYS[2], F.incarnation) or '') ~= inc then
  -- An earlier journey's list: nothing in it is this journey's.
  redis.call('DEL', KEYS[2])
end

-- Expire times stay the strings they were written as: Lua's numbers are
-- doubles, and printing one back could change its form.
local now = tonumber(ARGV[A.now_ms])
local kept = {}
local fields = redis.call('HGETALL', KEYS[2])
for i = 1, #fields, 2 do
  local code = fields[i]
  if code ~= F.incarnation then
    local exp, state = string.match(fields[i + 1], '^(%d+):(%a)$')
    if exp and tonumber(exp) > now then
      kept[#kept + 1] = {code, exp, state}
    else
      -- Expired: its key is gone by itself; keep both lists short.
      redis.call('HDEL', KEYS[2], code)
      redis.call('SREM', KEYS[3], code)
    end
  end
end
if #kept >= tonumber(ARGV[A.max_made]) then
  local oldest = kept[1][2]
  for _, e in ipairs(kept) do
    if tonumber(e[2]) < tonumber(oldest) then
      oldest = e[2]
    end
  end
  return {'limited', oldest}
end

-- Oldest first: codes share one lifetime, so expiry is making order.
table.sort(kept, function(a, b)
  if a[2] ~= b[2] then
    return tonumber(a[2]) < tonumber(b[2])
  end
  return a[1] < b[1]
end)
local working = {}
for _, e in ipairs(kept) do
  if e[3] == 'L' then
    working[#working + 1] = e
  end
end
local reply = {'listed'}
for i = 1, #working + 1 - tonumber(ARGV[A.max_live]) do
  local e = working[i]
  redis.call('HSET', KEYS[2], e[1], e[2] .. ':W')
  reply[#reply + 1] = e[1]
end

redis.call('HSET', KEYS[2], F.incarnation, inc, ARGV[A.code], ARGV[A.expire_ms] .. ':L')
local at = redis.call('PEXPIRETIME', KEYS[2])
if at < 0 or at < tonumber(ARGV[A.expire_ms]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[A.expire_ms])
end
redis.call('SADD', KEYS[3], ARGV[A.code])
extend_ttl(KEYS[3], ARGV[A.expire_ms])
return reply
