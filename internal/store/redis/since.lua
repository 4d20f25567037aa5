-- Reads a journey's revision and the logged changes after a revision, in
-- one atomic step. The log holds consecutive revisions ending at the
-- current one, so the changes after `after` are its last (revision - after)
-- entries: only those are read, however long the log is.
--
-- KEYS[1] journey hash, KEYS[2] change log list.
-- ARGV: see A (sinceArgs in changes.go).
--
-- Returns {} when the journey is missing, else {revision, change...},
-- oldest change first.

local cur = redis.call('HMGET', KEYS[1], F.etag, F.revision)
if not cur[1] then
  return {}
end
local revision = tonumber(cur[2] or '0')
local wanted = revision - tonumber(ARGV[A.after])
if wanted <= 0 then
  return {revision}
end
local out = redis.call('LRANGE', KEYS[2], -wanted, -1)
table.insert(out, 1, revision)
return out
