-- Creates a journey atomically: nothing is written unless everything is.
--
-- KEYS[1] journey hash, KEYS[2] timeline list, KEYS[3] customer index,
-- KEYS[4] change log list, KEYS[5] request id key (absent when the create
-- carries no request id).
-- ARGV: see A (createArgs in journeys.go); after the fixed part, the
-- touchpoints (A.touchpoints of them), then the record's field/value pairs.
--
-- Returns {"created"}, {"exists"}, or {"replayed", <journey id>} when the
-- request id already made a journey.

if KEYS[5] then
  local made = redis.call('GET', KEYS[5])
  -- A request id key can outlive its journey only through clock trouble; the
  -- caller then names it in A.stale_request so this create replaces it, and
  -- of two such retries only the first does.
  if made and made ~= ARGV[A.stale_request] then
    return {'replayed', made}
  end
end

local wid = ARGV[A.write_id]
if redis.call('EXISTS', KEYS[1]) == 1 then
  if wrote_before(redis.call('HMGET', KEYS[1], unpack(write_fields())), wid) then
    return {'created'}
  end
  return {'exists'}
end

-- What an earlier journey of this id left (its log outlives it; its
-- timeline may expire a moment later) must not become part of this one.
redis.call('DEL', KEYS[2], KEYS[4])

local n = tonumber(ARGV[A.touchpoints])
local entries = tail(A.rest, n)
local fields = tail(A.rest + n, #ARGV - A.rest - n + 1)
-- The create's write id doubles as the journey's incarnation: what is tied
-- to this journey (its handoff codes, see issue.lua) does not carry over to
-- a journey created again under the same name.
redis.call('HSET', KEYS[1], F.incarnation, wid, write_slot(1), wid, unpack(fields))
local expire_at = ARGV[A.expire_ms]
redis.call('PEXPIREAT', KEYS[1], expire_at)

local touchpoints = append_touchpoints(KEYS[2], ARGV[A.touchpoint_prefix], entries)
-- Does nothing when there were no touchpoints and so is no timeline.
redis.call('PEXPIREAT', KEYS[2], expire_at)

redis.call('ZADD', KEYS[3], 0, ARGV[A.index_member])
-- The index must live as long as the customer's longest-lived journey.
extend_ttl(KEYS[3], expire_at)

if KEYS[5] then
  redis.call('SET', KEYS[5], ARGV[A.journey_id])
  redis.call('PEXPIREAT', KEYS[5], ARGV[A.request_expire_ms])
end

-- Announced, not logged: a watcher from revision 0 starts from a snapshot
-- anyway, and the whole journey would sit in the log for an hour.
redis.call('SPUBLISH', ARGV[A.feed_channel], record(ARGV[A.head], 1, '1', touchpoints))
return {'created'}
