-- Helpers every journey-writing script shares. The Go code prepends this
-- file to each of them, after the constants it generates from record.go
-- (F: the record's fields, R: the change record's tags, WRITE_SLOTS,
-- STAMP), since a Redis script cannot call another.

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

-- bytes_field is a length-delimited field whose key is tag.
local function bytes_field(tag, b)
  return tag .. varint(#b) .. b
end

-- write_fields are the fields holding the ids of the journey's last writes.
local function write_fields()
  local f = {}
  for i = 0, WRITE_SLOTS - 1 do
    f[#f + 1] = F.write_prefix .. i
  end
  return f
end

-- wrote_before reports whether wid is among ids (an HMGET of
-- write_fields): the client retried a script whose reply it lost (the
-- connection dropped after Redis ran it), and the write is already done.
local function wrote_before(ids, wid)
  for _, id in ipairs(ids) do
    if id == wid then
      return true
    end
  end
  return false
end

-- write_slot is the field that remembers the write making revision r.
local function write_slot(r)
  return F.write_prefix .. (r % WRITE_SLOTS)
end

-- append_touchpoints pushes entries onto the timeline and returns them as
-- the change record's touchpoint fields, each named by its position.
local function append_touchpoints(timeline, name_prefix, entries)
  local out = {}
  local position = redis.call('LLEN', timeline)
  for _, e in ipairs(entries) do
    redis.call('RPUSH', timeline, e)
    position = position + 1
    local named = bytes_field(R.touch_name, name_prefix .. position) .. bytes_field(R.touch_entry, e)
    out[#out + 1] = bytes_field(R.touchpoint, named)
  end
  return table.concat(out)
end

-- record is the change record: the marker, Go's head, then what only the
-- script knows.
local function record(head, revision, etag, touchpoints)
  return R.marker .. head .. R.revision .. varint(revision) .. bytes_field(R.etag, etag) .. touchpoints
end

-- log_change keeps change among the journey's last `entries` changes for
-- ttl_ms after this one, and tells the instances that follow the journey.
local function log_change(log, change, entries, ttl_ms, channel)
  redis.call('RPUSH', log, change)
  redis.call('LTRIM', log, -tonumber(entries), -1)
  redis.call('PEXPIRE', log, ttl_ms)
  redis.call('SPUBLISH', channel, change)
end

-- extend_ttl moves key's expiry to at_ms unless it already lies later
-- (-1: no expiry yet).
local function extend_ttl(key, at_ms)
  local at = redis.call('PEXPIRETIME', key)
  if at < 0 or at < tonumber(at_ms) then
    redis.call('PEXPIREAT', key, at_ms)
  end
end

-- tail is ARGV[from..from+n-1].
local function tail(from, n)
  local out = {}
  for i = from, from + n - 1 do
    out[#out + 1] = ARGV[i]
  end
  return out
end

-- count_from adds to set (HSET pairs) what insight counts from
-- (docs/insight.md) that a write moves: an entry channel for a journey
-- written before insight, which is counted from now on, and the furthest
-- step when position (its place in the type, from 1; '' for none) passes
-- the one held.
local function count_from(set, entry_channel, furthest, position)
  if not entry_channel then
    set[#set + 1] = F.entry_channel
    set[#set + 1] = '0'
  end
  if position ~= '' and tonumber(position) > tonumber(furthest or '0') then
    set[#set + 1] = F.furthest
    set[#set + 1] = position
  end
end
