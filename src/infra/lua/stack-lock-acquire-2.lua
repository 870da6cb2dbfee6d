-- Takes a free lock and stamps the holder with the next fence of the stack, in one step.
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local holder = cjson.decode(ARGV[1])
holder.fence = redis.call('INCR', KEYS[2])
local value = cjson.encode(holder)
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value
