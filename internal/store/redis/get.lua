-- Reads a journey: its record and the timeline entries that wrote its
-- answers (who changed each, docs/journeytypes.md), in one step.
--
-- KEYS[1] journey hash, KEYS[2] timeline list.
-- Returns the number of the record's items (0: no journey), its fields
-- and values (HGETALL), then each position of a touchpoint that wrote one
-- of its answers and that timeline entry.

-- answer_writer is the timeline position of the touchpoint that last wrote
-- a stored answer (`<etag>.<position>:<size>:<value>`), or nil when the
-- answer does not say (written before positions were kept).
local function answer_writer(v)
  return string.match(v, '^%d+%.(%d+):')
end

-- record_reply is the reply.
local function record_reply(key, timeline)
  local kv = redis.call('HGETALL', key)
  local out = {tostring(#kv)}
  for _, x in ipairs(kv) do
    out[#out + 1] = x
  end
  local seen = {}
  for i = 1, #kv, 2 do
    if string.sub(kv[i], 1, #F.answer_prefix) == F.answer_prefix then
      local at = answer_writer(kv[i + 1])
      if at and not seen[at] then
        seen[at] = true
        local entry = redis.call('LINDEX', timeline, tonumber(at) - 1)
        if entry then
          out[#out + 1] = at
          out[#out + 1] = entry
        end
      end
    end
  end
  return out
end

return record_reply(KEYS[1], KEYS[2])
