-- Start of a turn: the head of the stack's FIFO if this job holds the stack's turn (the head is not
-- popped, only marked started, so a cancel can no longer remove it); else the turn's holder.
-- KEYS: turn, pending, started  ARGV: jobId
-- Returns {1, head | false} for the holder, {0, holder | false} for a stale turn.
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then return {0, holder} end
local head = redis.call('LINDEX', KEYS[2], 0)
if head then redis.call('SET', KEYS[3], head) end
return {1, head}
