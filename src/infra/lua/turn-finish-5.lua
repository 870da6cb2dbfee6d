-- The head ran (or its turn failed and was given up): pop it, then pass the turn on to a new turn
-- job at the back of the shared queue, or drop the turn when the stack has nothing left. With pop
-- '0' the head stays and only the turn is given a new job (a turn that completed without running
-- its head to the end). Only the turn's holder may do either.
-- KEYS: turn, pending, turnSeq, turns, started  ARGV: jobId, head, stack, now, pop
-- Returns {1, nextTurnId | false} for the holder, {0, false} otherwise.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0, false} end
if ARGV[5] == '1' and redis.call('LINDEX', KEYS[2], 0) == ARGV[2] then redis.call('LPOP', KEYS[2]) end
redis.call('DEL', KEYS[5])
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[4], ARGV[3])
  return {1, false}
end
local id = 'turn-' .. redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
return {1, id}
