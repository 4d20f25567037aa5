-- Saves a journey's step and answers in one step, with no read before it
-- (docs/layout.md, "A save is one script"): checks what must hold at the
-- moment of the write, merges the answers, moves the totals, etag and
-- revision, appends the touchpoint, logs and publishes the change and moves
-- the TTLs. Nothing is written unless everything is.
--
-- KEYS[1] journey hash, KEYS[2] timeline list, KEYS[3] customer index,
-- KEYS[4] change log list.
-- ARGV: see A (saveArgs in save.go); after the fixed part, the answers as
-- quadruples: path, size, value as stored, and an empty parent's size. An
-- empty size removes the answer at path; its value is then the stored `{}`
-- its parent becomes if the removal leaves it empty (as a Struct keeps an
-- emptied object), with that size ('' when there is no such parent).
--
-- Returns {'saved', etag, revision, change record (with A.want_change,
-- else ''), incarnation, journey type, reminder time, reminded-for expiry,
-- step} (what the change's events need), then what insight counts from, as it was before the save
-- (step, channel, expiry, entry channel, furthest step, customer's last
-- save, last resume), followed, with A.want_journey, by the record's fields and values; or {'missing'}, {'convert'} (a v1
-- record), {'replayed'} (this very save ran before), {'type', type,
-- version} (the save was checked against another journey type version),
-- {'step', step} (the journey may not move to the save's step from its
-- own), {'state', state}, {'lapsed'}, {'held', assignee}, {'conflict'},
-- {'limit', answers, bytes}.

local key = KEYS[1]
local P = F.answer_prefix
local names = {F.version, F.etag, F.revision, F.state, F.assignee, F.claim_expire,
  F.step, F.step_etag, F.removed_etag, F.answer_count, F.answer_bytes, F.type, F.type_version,
  F.incarnation, F.reminder_time, F.reminded_for,
  F.channel, F.expire_time, F.entry_channel, F.furthest, F.customer_save, F.resumed}
local first_write = #names + 1
for _, w in ipairs(write_fields()) do
  names[#names + 1] = w
end
local cur = redis.call('HMGET', key, unpack(names))
local version, etag, revision, state, assignee, claim_expire = cur[1], cur[2], cur[3], cur[4], cur[5], cur[6]
local step, step_etag, removed_etag, count, bytes = cur[7], cur[8], cur[9], cur[10], cur[11]
local journey_type, type_version = cur[12] or '', cur[13] or ''

if not etag then
  return {'missing'}
end
if version ~= F.record_version then
  return {'convert'}
end
local wid = ARGV[A.write_id]
for i = first_write, #cur do
  if cur[i] == wid then
    return {'replayed'}
  end
end
-- The service checked the save against the journey type version it
-- expected; a journey of another is checked again.
if type_version ~= ARGV[A.type_version] or (type_version ~= '' and journey_type ~= ARGV[A.type]) then
  return {'type', journey_type, type_version}
end
local set_step = ARGV[A.set_step] == '1'
-- A.step_from: ' a b c ', the steps the journey may move to A.step from;
-- a journey on no step may move anywhere.
if set_step and ARGV[A.step_from] ~= '' and step and step ~= '' and
    not string.find(ARGV[A.step_from], ' ' .. step .. ' ', 1, true) then
  return {'step', step}
end
if state ~= ARGV[A.active_state] then
  return {'state', state or ''}
end
if assignee then
  if claim_expire and tonumber(claim_expire) <= tonumber(ARGV[A.update_us]) then
    return {'lapsed'}
  end
  if ARGV[A.agent] ~= '' and assignee ~= ARGV[A.agent] then
    return {'held', assignee}
  end
end

local ops = {}
for i = A.rest, #ARGV, 4 do
  ops[#ops + 1] = {path = ARGV[i], size = ARGV[i + 1], value = ARGV[i + 2], parent_size = ARGV[i + 3]}
end
local replace = ARGV[A.replace_answers] == '1'

-- The stored answers, read as needed: one HGET per field, or all of them
-- at once when a path's descendants must be found.
local stored, all = {}, nil
local function orig(f)
  if all then
    return stored[f] or false
  end
  local v = stored[f]
  if v == nil then
    v = redis.call('HGET', key, f) or false
    stored[f] = v
  end
  return v
end
local function load_all()
  if all then
    return all
  end
  all, stored = {}, {}
  local kv = redis.call('HGETALL', key)
  for i = 1, #kv, 2 do
    if string.sub(kv[i], 1, #P) == P then
      all[#all + 1] = kv[i]
      stored[kv[i]] = kv[i + 1]
    end
  end
  return all
end
local function version_of(v)
  return tonumber(string.match(v, '^(%d+)[.:]'))
end
local function size_of(v)
  return tonumber(string.match(v, '^[%d.]+:(%d+):'))
end
local function starts(s, prefix)
  return string.sub(s, 1, #prefix) == prefix
end
-- ancestors are the fields of the proper prefixes of path.
local function ancestors(path)
  local out = {}
  local at = string.find(path, '.', 1, true)
  while at do
    out[#out + 1] = P .. string.sub(path, 1, at - 1)
    at = string.find(path, '.', at + 1, true)
  end
  return out
end

-- The etag check, on the journey as stored.
local if_etag = ARGV[A.if_etag]
if if_etag ~= '' then
  if ARGV[A.whole_journey_etag] == '1' then
    if etag ~= if_etag then
      return {'conflict'}
    end
  else
    local E = tonumber(if_etag)
    -- Etags start at 1 and move by one: anything else was never given out.
    if not E or string.match(if_etag, '^%d+$') == nil or E < 1 or E > tonumber(etag) then
      return {'conflict'}
    end
    local removed_since = removed_etag and tonumber(removed_etag) > E
    if set_step and step_etag and tonumber(step_etag) > E then
      return {'conflict'}
    end
    if replace then
      if removed_since then
        return {'conflict'}
      end
      for _, f in ipairs(load_all()) do
        if version_of(stored[f]) > E then
          return {'conflict'}
        end
      end
    end
    for _, op in ipairs(ops) do
      local f = P .. op.path
      local v = orig(f)
      local related = v
      if v and version_of(v) > E then
        return {'conflict'}
      end
      for _, a in ipairs(ancestors(op.path)) do
        local av = orig(a)
        if av and version_of(av) > E then
          return {'conflict'}
        end
      end
      if not v then
        for _, g in ipairs(load_all()) do
          if starts(g, f .. '.') then
            related = true
            if version_of(stored[g]) > E then
              return {'conflict'}
            end
          end
        end
      end
      -- Nothing stored at or under the path: a removal since leaves nothing
      -- to compare with, so be cautious.
      if not related and removed_since then
        return {'conflict'}
      end
    end
  end
end

-- The merge, in a view of the changed fields (false: removed). Each
-- answer written names the touchpoint that wrote it: the one this save
-- appends.
local new_etag = tonumber(etag) + 1
local written = tostring(new_etag)
if ARGV[A.touchpoint] ~= '' then
  written = written .. '.' .. (redis.call('LLEN', KEYS[2]) + 1)
end
local new_revision = tonumber(revision or '0') + 1
count, bytes = tonumber(count or '0'), tonumber(bytes or '0')
local view = {}
local function get(f)
  local v = view[f]
  if v == nil then
    return orig(f)
  end
  return v
end
local function drop(f)
  local v = get(f)
  if v then
    count = count - 1
    bytes = bytes - size_of(v)
    view[f] = false
  end
end
if replace then
  for _, f in ipairs(load_all()) do
    drop(f)
  end
end
-- any_under reports whether any answer lies under prefix (which ends in '.').
local function any_under(prefix)
  for _, g in ipairs(load_all()) do
    if starts(g, prefix) and get(g) then
      return true
    end
  end
  for g, v in pairs(view) do
    if v and starts(g, prefix) then
      return true
    end
  end
  return false
end
for _, op in ipairs(ops) do
  local f = P .. op.path
  local setting = op.size ~= ''
  if setting then
    -- A leaf where an object must now go gives way.
    for _, a in ipairs(ancestors(op.path)) do
      drop(a)
    end
  end
  local dropped = false
  if get(f) then
    drop(f)
    dropped = true
  else
    local under = f .. '.'
    for _, g in ipairs(load_all()) do
      if starts(g, under) and get(g) then
        drop(g)
        dropped = true
      end
    end
    for g, v in pairs(view) do
      if v and starts(g, under) then
        drop(g)
        dropped = true
      end
    end
  end
  if setting then
    view[f] = written .. ':' .. op.size .. ':' .. op.value
    count = count + 1
    bytes = bytes + tonumber(op.size)
  elseif dropped and op.parent_size ~= '' then
    -- An object the removal left empty stays, as an empty object.
    local parent = string.match(op.path, '^(.*)%.[^.]*$')
    if not any_under(P .. parent .. '.') then
      view[P .. parent] = written .. ':' .. op.parent_size .. ':' .. op.value
      count = count + 1
      bytes = bytes + tonumber(op.parent_size)
    end
  end
end
if count > tonumber(ARGV[A.max_answers]) or bytes > tonumber(ARGV[A.max_bytes]) then
  return {'limit', tostring(count), tostring(bytes)}
end

-- The write.
local del, set = {}, {}
local removed = false
for f, v in pairs(view) do
  if v then
    set[#set + 1] = f
    set[#set + 1] = v
  elseif orig(f) then
    del[#del + 1] = f
    removed = true
  end
end
set[#set + 1] = F.etag
set[#set + 1] = new_etag
set[#set + 1] = F.revision
set[#set + 1] = new_revision
set[#set + 1] = write_slot(new_revision)
set[#set + 1] = wid
set[#set + 1] = F.update_time
set[#set + 1] = ARGV[A.update_us]
set[#set + 1] = F.expire_time
set[#set + 1] = ARGV[A.expire_us]
set[#set + 1] = F.channel
set[#set + 1] = ARGV[A.channel]
set[#set + 1] = F.answer_count
set[#set + 1] = count
set[#set + 1] = F.answer_bytes
set[#set + 1] = bytes
if removed then
  set[#set + 1] = F.removed_etag
  set[#set + 1] = new_etag
end
if ARGV[A.channel_detail] == '' then
  del[#del + 1] = F.channel_detail
else
  set[#set + 1] = F.channel_detail
  set[#set + 1] = ARGV[A.channel_detail]
end
local step_after = step or ''
if set_step and ARGV[A.step] ~= step_after then
  step_after = ARGV[A.step]
  set[#set + 1] = F.step_etag
  set[#set + 1] = new_etag
  if step_after == '' then
    del[#del + 1] = F.step
  else
    set[#set + 1] = F.step
    set[#set + 1] = step_after
  end
end
-- What insight counts from (docs/insight.md); Go names a position only
-- for a save that sets the step.
count_from(set, cur[19], cur[20], ARGV[A.step_position])
if ARGV[A.customer] == '1' then
  set[#set + 1] = F.customer_save
  set[#set + 1] = ARGV[A.update_us]
end
if #del > 0 then
  redis.call('HDEL', key, unpack(del))
end
redis.call('HSET', key, unpack(set))
local expire_at = ARGV[A.expire_ms]
redis.call('PEXPIREAT', key, expire_at)

local entries = {}
if ARGV[A.touchpoint] ~= '' then
  local entry = ARGV[A.touchpoint]
  if ARGV[A.stamp_step] == '1' then
    entry = STAMP .. step_after .. STAMP .. entry
  end
  entries[1] = entry
end
local touchpoints = append_touchpoints(KEYS[2], ARGV[A.touchpoint_prefix], entries)
redis.call('PEXPIREAT', KEYS[2], expire_at)
extend_ttl(KEYS[3], expire_at)
local change = record(ARGV[A.head], new_revision, tostring(new_etag), touchpoints)
log_change(KEYS[4], change, ARGV[A.log_entries], ARGV[A.log_ttl_ms], ARGV[A.feed_channel])

-- The record crosses back only for the events that need it.
if ARGV[A.want_change] ~= '1' then
  change = ''
end
local reply = {'saved', tostring(new_etag), tostring(new_revision), change, cur[14] or '', journey_type,
  cur[15] or '', cur[16] or '', step_after,
  step or '', cur[17] or '', cur[18] or '', cur[19] or '', cur[20] or '', cur[21] or '', cur[22] or ''}
if ARGV[A.want_journey] == '1' then
  for _, x in ipairs(redis.call('HGETALL', key)) do
    reply[#reply + 1] = x
  end
end
return reply
