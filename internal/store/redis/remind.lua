-- Records that a journey was reminded it expires (docs/reach.md,
-- "Reminders before expiry"): appends the REMINDED touchpoint, sets the
-- reminder, moves the revision, logs and publishes the change. Neither the
-- etag nor any of the journey's TTLs move: a reminder is not a touch.
--
-- KEYS[1] journey hash, KEYS[2] timeline list, KEYS[3] change log list.
-- ARGV: see A (remindArgs in events.go).
--
-- Returns {'reminded', change record, incarnation} followed by the
-- record's fields and values; {'replayed'} (this very reminder ran
-- before); {'missing'}; {'convert'} (a v1 record); or {'conflict', state,
-- expiry, reminded-for expiry, type, type version} when the journey is not
-- active, expires at another time, or was reminded for this expiry.

local cur = redis.call('HMGET', KEYS[1], F.version, F.etag, F.revision, F.state, F.expire_time,
  F.reminded_for, F.incarnation, F.type, F.type_version)
if not cur[2] then
  return {'missing'}
end
if cur[1] ~= F.record_version then
  return {'convert'}
end
local wid = ARGV[A.write_id]
if wrote_before(redis.call('HMGET', KEYS[1], unpack(write_fields())), wid) then
  return {'replayed'}
end
local state, expire, reminded_for = cur[4] or '', cur[5] or '', cur[6] or ''
if state ~= ARGV[A.active_state] or expire ~= ARGV[A.expire_us] or reminded_for == expire then
  return {'conflict', state, expire, reminded_for, cur[8] or '', cur[9] or ''}
end

local revision = tonumber(cur[3] or '0') + 1
redis.call('HSET', KEYS[1], F.revision, revision, write_slot(revision), wid,
  F.reminder_time, ARGV[A.reminder_us], F.reminded_for, expire)
local touchpoints = append_touchpoints(KEYS[2], ARGV[A.touchpoint_prefix], {ARGV[A.touchpoint]})
-- A journey created without a touchpoint had no timeline: the new one
-- ends with the journey, as every timeline does.
local at = redis.call('PEXPIRETIME', KEYS[1])
if at > 0 then
  redis.call('PEXPIREAT', KEYS[2], at)
end
local change = record(ARGV[A.head], revision, cur[2], touchpoints)
log_change(KEYS[3], change, ARGV[A.log_entries], ARGV[A.log_ttl_ms], ARGV[A.feed_channel])
local reply = {'reminded', change, cur[7] or ''}
for _, x in ipairs(redis.call('HGETALL', KEYS[1])) do
  reply[#reply + 1] = x
end
return reply
