-- Replaces a journey's fields but its answers, if its revision and etag are
-- still the ones the caller read, appends to its timeline, and logs and
-- publishes the change, atomically: claims, releases, transfers,
-- completions, audited reads and handoff offers, whose rules read the
-- whole journey first. Answers change only through save.lua.
--
-- KEYS[1] journey hash, KEYS[2] timeline list, KEYS[3] customer index,
-- KEYS[4] change log list.
-- ARGV: see A (updateArgs in journeys.go); after the fixed part, the
-- touchpoints (A.touchpoints of them), then field/value pairs to set (an
-- empty value deletes the field).
--
-- Returns {"updated", change record, incarnation, reminder time,
-- reminded-for expiry} (the events of the change are Go's to append)
-- followed by what insight counts from, as it was before the update
-- (state, step, channel, expiry, entry channel, furthest step, customer's
-- last save, last resume), or
-- {"replayed"} (this very update ran before), {"missing"}, {"convert"} (a
-- v1 record) or {"conflict"}.

local cur = redis.call('HMGET', KEYS[1], F.version, F.etag, F.revision, F.step,
  F.incarnation, F.reminder_time, F.reminded_for,
  F.state, F.channel, F.expire_time, F.entry_channel, F.furthest, F.customer_save, F.resumed)
if not cur[2] then
  return {'missing'}
end
if cur[1] ~= F.record_version then
  return {'convert'}
end
local wid = ARGV[A.write_id]
if cur[2] ~= ARGV[A.read_etag] or cur[3] ~= ARGV[A.read_revision] then
  if wrote_before(redis.call('HMGET', KEYS[1], unpack(write_fields())), wid) then
    return {'replayed'}
  end
  return {'conflict'}
end

local n = tonumber(ARGV[A.touchpoints])
local entries = tail(A.rest, n)
local etag, revision = ARGV[A.new_etag], tonumber(ARGV[A.new_revision])
local set, del = {}, {}
for i = A.rest + n, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    del[#del + 1] = ARGV[i]
  else
    set[#set + 1] = ARGV[i]
    set[#set + 1] = ARGV[i + 1]
    if ARGV[i] == F.step and ARGV[i + 1] ~= cur[4] then
      set[#set + 1] = F.step_etag
      set[#set + 1] = etag
    end
  end
end
-- What insight counts from (docs/insight.md).
count_from(set, cur[11], cur[12], ARGV[A.step_position])
if ARGV[A.resume_us] ~= '' then
  set[#set + 1] = F.resumed
  set[#set + 1] = ARGV[A.resume_us]
end
if #del > 0 then
  redis.call('HDEL', KEYS[1], unpack(del))
end
redis.call('HSET', KEYS[1], F.etag, etag, F.revision, revision, write_slot(revision), wid, unpack(set))
local expire_at = ARGV[A.expire_ms]
redis.call('PEXPIREAT', KEYS[1], expire_at)

local touchpoints = append_touchpoints(KEYS[2], ARGV[A.touchpoint_prefix], entries)
redis.call('PEXPIREAT', KEYS[2], expire_at)
extend_ttl(KEYS[3], expire_at)

local change = record(ARGV[A.head], revision, etag, touchpoints)
log_change(KEYS[4], change, ARGV[A.log_entries], ARGV[A.log_ttl_ms], ARGV[A.feed_channel])
return {'updated', change, cur[5] or '', cur[6] or '', cur[7] or '',
  cur[8] or '', cur[4] or '', cur[9] or '', cur[10] or '', cur[11] or '', cur[12] or '', cur[13] or '', cur[14] or ''}
