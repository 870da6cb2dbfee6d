-- Removes an operation's entries that have not started from its stack's FIFO (a cancel before the
-- run). The head a turn has started is left: it is cancelled as a running operation.
-- KEYS: pending, started  ARGV: operationId
-- Returns how many entries were removed.
local started = redis.call('GET', KEYS[2])
local removed = 0
for _, raw in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if raw ~= started and cjson.decode(raw).operationId == ARGV[1] then
    removed = removed + redis.call('LREM', KEYS[1], 1, raw)
  end
end
return removed
