-- Reads a journey: its record and the timeline entries that wrote its
-- answers (who changed each, docs/journeytypes.md), in one step.
--
-- KEYS[1] journey hash, KEYS[2] timeline list.
-- Returns record_reply (change.lua); its first item is 0 when there is no
-- journey.

return record_reply(KEYS[1], KEYS[2])
