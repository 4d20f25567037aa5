-- Helpers that create.lua and update.lua share: the Go code prepends this
-- file to each of them, since a Redis script cannot call another.
--
-- A change is published and logged as an encoded handoff.v1.JourneyChange.
-- The caller encodes its revision and journey (the "head"); the touchpoints
-- are appended here, because their names are their positions in the
-- timeline, which only the script knows. Protobuf allows that: a message is
-- the concatenation of its fields, in any order. A store that seals values
-- passes a sealed head and sealed touchpoints instead; the change is then
-- the envelope seal.go describes, built by the same code.

-- varint is n in protobuf's base-128 varint encoding.
local function varint(n)
  local out = {}
  while n >= 128 do
    out[#out + 1] = string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  out[#out + 1] = string.char(n)
  return table.concat(out)
end

-- bytes_field is a length-delimited field whose key byte is key.
local function bytes_field(key, b)
  return key .. varint(#b) .. b
end

-- append_timeline pushes ARGV[first..] onto the timeline (stored without
-- names) and returns the change: head, then each touchpoint with its name
-- (Touchpoint.name, field 1) as JourneyChange.touchpoints (field 3).
local function append_timeline(timeline, head, name_prefix, first)
  local change = {head}
  local position = redis.call('LLEN', timeline)
  for i = first, #ARGV do
    redis.call('RPUSH', timeline, ARGV[i])
    position = position + 1
    -- The name goes first: a plain touchpoint does not mind (fields may come
    -- in any order), and a sealed one (see seal.go) can then be told from
    -- its name without knowing its length.
    local named = bytes_field('\10', name_prefix .. position) .. ARGV[i]
    change[#change + 1] = bytes_field('\26', named)
  end
  return table.concat(change)
end

-- remember_write adds a write's id to the journey's recent ones (the last
-- 8, space-separated), kept so that a retried script can tell that it ran.
local function remember_write(wids, wid)
  local ids = {}
  for id in string.gmatch(wids or '', '%S+') do
    ids[#ids + 1] = id
  end
  ids[#ids + 1] = wid
  return table.concat(ids, ' ', math.max(1, #ids - 7))
end

-- wrote_before reports whether wid is among the recent write ids: the
-- client retried a script whose reply it lost (the connection dropped
-- after Redis ran it), and the write it asks for is already done.
local function wrote_before(wids, wid)
  return wids and string.find(' ' .. wids .. ' ', ' ' .. wid .. ' ', 1, true) ~= nil
end

-- log_change keeps change among the journey's last `entries` changes for
-- ttl_ms after this one, and tells every subscriber.
local function log_change(log, change, entries, ttl_ms, channel)
  redis.call('RPUSH', log, change)
  redis.call('LTRIM', log, -tonumber(entries), -1)
  redis.call('PEXPIRE', log, ttl_ms)
  redis.call('PUBLISH', channel, change)
end

