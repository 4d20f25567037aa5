-- Links a digest to the customer, in the customer's links hash (the
-- truth; the digest's index set, in another slot, is Go's second step).
--
-- The hash's fields: `l:<id>` = `<expire ms> <create ms> <kind> <digest>
-- <network>` per link, `d:<digest>` = `<expire ms>:<id>`, so a lookup
-- checks that the customer still holds a digest with one HGET, and
-- `x:<digest>` = `1` for a digest dropped here whose index entry Go has
-- not yet tidied (erasure reads them too). The hash lives as long as its
-- longest-lived link.
--
-- KEYS[1] the customer's links hash.
-- ARGV: see A (linkArgs in identities.go); the tail lists the digests the
-- link replaces (the same identity under older keys).
--
-- Returns {id, create ms, '1' when new else '0', digest dropped...}: the
-- digests no longer linked here (replaced, or of expired links), whose
-- index entries Go tidies. A new link when the customer already holds
-- ARGV[A.limit] live links (0: no limit) is refused: {'', '', 'full',
-- digest dropped...}, and nothing is linked.

local links = KEYS[1]
local now = tonumber(ARGV[A.now_ms])
local digest = ARGV[A.digest]
local function parse(rec)
  local e, c, k, d, n = string.match(rec, '^(%d+) (%d+) (%d+) (%S+) ?(.*)$')
  return tonumber(e), c, k, d, n
end

local dropped = {}
local function drop(field, d)
  redis.call('HDEL', links, field, 'd:' .. d)
  if d ~= digest then
    redis.call('HSET', links, 'x:' .. d, '1')
    dropped[#dropped + 1] = d
  end
end

-- One read of the hash: expired links are dropped first, so neither they
-- nor their digests count; the live ones are kept for what follows.
local live = {} -- link id → {expire ms, create ms, digest}
local all = redis.call('HGETALL', links)
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'l:' then
    local e, c, _, d = parse(all[i + 1])
    if e <= now then
      drop(all[i], d)
    else
      live[string.sub(all[i], 3)] = {e, c, d}
    end
  end
end

local id, create, created = ARGV[A.id], ARGV[A.create_ms], '1'
local candidates = {digest}
for i = A.rest, #ARGV do
  candidates[#candidates + 1] = ARGV[i]
end
for _, d in ipairs(candidates) do
  for old, l in pairs(live) do
    if l[3] == d then
      if created == '1' then
        id, create, created = old, l[2], '0'
      end
      live[old] = nil
      drop('l:' .. old, d)
    end
  end
end

local out = {id, create, created}
local limit = tonumber(ARGV[A.limit])
if created == '1' and limit > 0 then
  local n = 0
  for _ in pairs(live) do
    n = n + 1
  end
  if n >= limit then
    out = {'', '', 'full'}
  end
end
if out[3] == 'full' then
  for _, d in ipairs(dropped) do
    out[#out + 1] = d
  end
  return out
end

local expire = ARGV[A.expire_ms]
redis.call('HDEL', links, 'x:' .. digest)
redis.call('HSET', links,
  'l:' .. id, expire .. ' ' .. create .. ' ' .. ARGV[A.kind] .. ' ' .. digest .. ' ' .. ARGV[A.network],
  'd:' .. digest, expire .. ':' .. id)

local latest = tonumber(expire)
for _, l in pairs(live) do
  latest = math.max(latest, l[1])
end
redis.call('PEXPIREAT', links, latest)

for _, d in ipairs(dropped) do
  out[#out + 1] = d
end
return out
