-- Links a digest to the customer, in the customer's links hash (the
-- truth; the digest's index set, in another slot, is Go's second step).
--
-- The hash's fields: `l:<id>` = `<expire ms> <create ms> <kind> <digest>
-- <network>` per link, and `d:<digest>` = `<expire ms>:<id>`, so a lookup
-- checks that the customer still holds a digest with one HGET. The hash
-- lives as long as its longest-lived link.
--
-- KEYS[1] the customer's links hash.
-- ARGV: see A (linkArgs in identities.go); the tail lists the digests the
-- link replaces (the same identity under older keys).
--
-- Returns {id, create ms, '1' when new else '0', digest dropped...}: the
-- digests no longer linked here, whose index entries Go tidies.

local links = KEYS[1]
local now = tonumber(ARGV[A.now_ms])
local function parse(rec)
  local e, c, k, d, n = string.match(rec, '^(%d+) (%d+) (%d+) (%S+) ?(.*)$')
  return tonumber(e), c, k, d, n
end

-- Expired links are dropped first, so neither they nor their digests count.
local all = redis.call('HGETALL', links)
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'l:' then
    local e, _, _, d = parse(all[i + 1])
    if e <= now then
      redis.call('HDEL', links, all[i], 'd:' .. d)
    end
  end
end

local id, create, created = ARGV[A.id], ARGV[A.create_ms], '1'
local dropped = {}
local candidates = {ARGV[A.digest]}
for i = A.rest, #ARGV do
  candidates[#candidates + 1] = ARGV[i]
end
for _, d in ipairs(candidates) do
  local held = redis.call('HGET', links, 'd:' .. d)
  if held then
    local old = string.match(held, '^%d+:(.*)$')
    local rec = redis.call('HGET', links, 'l:' .. old)
    if rec then
      local _, c = parse(rec)
      if created == '1' then
        id, create, created = old, c, '0'
      end
      redis.call('HDEL', links, 'l:' .. old)
    end
    redis.call('HDEL', links, 'd:' .. d)
    if d ~= ARGV[A.digest] then
      dropped[#dropped + 1] = d
    end
  end
end

local expire = ARGV[A.expire_ms]
redis.call('HSET', links,
  'l:' .. id, expire .. ' ' .. create .. ' ' .. ARGV[A.kind] .. ' ' .. ARGV[A.digest] .. ' ' .. ARGV[A.network],
  'd:' .. ARGV[A.digest], expire .. ':' .. id)

local latest = 0
local recs = redis.call('HGETALL', links)
for i = 1, #recs, 2 do
  if string.sub(recs[i], 1, 2) == 'l:' then
    latest = math.max(latest, (parse(recs[i + 1])))
  end
end
redis.call('PEXPIREAT', links, latest)

local out = {id, create, created}
for _, d in ipairs(dropped) do
  out[#out + 1] = d
end
return out
