-- Appends the events of a journey's writes to the stream, once each and in
-- revision order (docs/reach.md, "How a write reaches the stream"), and
-- keeps what the journey's last write left: its revision and incarnation
-- (what the next append is checked against), the facts its
-- `journey.expired` will carry, and when it is next due.
--
-- KEYS[1] the stream, KEYS[2] the journeys hash (name -> `<revision>:<
-- incarnation>:<facts>`), KEYS[3] the due set, KEYS[4] the customer's set
-- of journey names (what an erasure forgets), KEYS[5] the customer's
-- erased marker (`<erasure id>:<erased µs>`, set by an erasure for a
-- while); all in the events slot.
-- ARGV: see A (eventsArgs in events.go); after the fixed part, pairs of an
-- event's revision and its JSON, oldest first.
--
-- Returns {'appended', id...}; {'kept', revision} when every revision up to
-- A.revision was appended already (a replay); {'gap', revision} when the
-- changes after the kept revision and before A.first_revision are missing:
-- Go reads them from the change log and calls again with A.force;
-- {'erased'} when the customer was erased after the write (A.write_us is
-- not later than the erasure): its events are dropped, for an erased
-- customer's journey must not reappear after its `customer.erased`.

local erased = redis.call('GET', KEYS[5])
if erased then
  local at = string.match(erased, ':(%d+)$')
  if at and tonumber(ARGV[A.write_us]) <= tonumber(at) then
    return {'erased'}
  end
end
local name = ARGV[A.name]
local inc = ARGV[A.incarnation]
local kept_rev = 0
local same = false
local kept = redis.call('HGET', KEYS[2], name)
if kept then
  local r, i = string.match(kept, '^(%d+):([^:]*):')
  -- Another incarnation is another journey of that name: this one starts
  -- over.
  if i == inc then
    kept_rev = tonumber(r)
    same = true
  end
end
local revision = tonumber(ARGV[A.revision])
if revision <= kept_rev then
  return {'kept', tostring(kept_rev)}
end
-- A gap is filled only within one incarnation: a journey first seen after
-- its create (written before events were on) has no events before.
if same and ARGV[A.force] ~= '1' and tonumber(ARGV[A.first_revision]) > kept_rev + 1 then
  return {'gap', tostring(kept_rev)}
end

local reply = {'appended'}
for i = A.rest, #ARGV, 2 do
  if tonumber(ARGV[i]) > kept_rev then
    reply[#reply + 1] = redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[A.min_id], '*', 'event', ARGV[i + 1])
  end
end
redis.call('HSET', KEYS[2], name, revision .. ':' .. inc .. ':' .. ARGV[A.facts])
redis.call('ZADD', KEYS[3], ARGV[A.due_ms], name)
if not same then
  -- Listed already when kept for this incarnation.
  redis.call('SADD', KEYS[4], name)
end
return reply
