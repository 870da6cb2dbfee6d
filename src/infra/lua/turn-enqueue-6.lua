-- Appends an entry (an operation's run) to its stack's FIFO; when the stack has no turn, creates
-- one (the caller then adds the turn's job to the shared queue). An entry id queued before (within
-- the marker's TTL) is not queued again: a duplicate enqueue is a no-op, as a duplicate job id was.
-- KEYS: pending, turn, turnSeq, turns, opSeq, entryMark
-- ARGV: stack, entryId, operationId, enqueuedAt, now, markTtlSeconds
-- Returns {seq, turnId | false}; seq 0 for a duplicate.
if not redis.call('SET', KEYS[6], '1', 'NX', 'EX', ARGV[6]) then return {0, false} end
local seq = redis.call('INCR', KEYS[5])
redis.call('RPUSH', KEYS[1], cjson.encode({
  id = ARGV[2], operationId = ARGV[3], seq = seq, enqueuedAt = tonumber(ARGV[4]),
}))
if redis.call('EXISTS', KEYS[2]) == 1 then return {seq, false} end
local id = 'turn-' .. redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[2], id)
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
return {seq, id}
