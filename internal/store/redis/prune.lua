-- Removes index members whose journey is gone, or was created again under
-- the same id (its member then has another create time). The caller judged
-- each member stale from the revision it read; a member is removed only if
-- that revision is still current, so a journey created or updated since is
-- never dropped from the index.
--
-- KEYS[1] customer index, KEYS[1+i] journey hash of the i-th member.
-- ARGV: see A (pruneArgs in list.go): pairs of the i-th member and the
-- revision read ("" if missing).

local removed = 0
for i = 2, #KEYS do
  local member = ARGV[A.rest + 2 * (i - 2)]
  local seen = ARGV[A.rest + 2 * (i - 2) + 1]
  local seq = redis.call('HGET', KEYS[i], F.revision) or ''
  if seq == seen then
    removed = removed + redis.call('ZREM', KEYS[1], member)
  end
end
return removed
