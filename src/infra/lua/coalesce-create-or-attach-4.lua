-- One atomic step: if the stack+pool's pending operation is still queued (no worker has moved it
-- to running, which is itself an atomic script on the same hash), the new request's wanted value
-- replaces the pending one's and the new record rides on it; otherwise the new record becomes the
-- pending one. Neither side may involve an approval: an operation that waits for or holds one
-- keeps the params its approver saw, and a request that needs one runs (and waits) on its own. Records are written here, not by Ledger.create, so that "pending" never names a
-- record that does not exist yet (two requests would both become carriers, in either queue order).
local carrier = redis.call('GET', KEYS[1])
local attached = ''
if carrier then
  local ck = ARGV[4] .. carrier
  if ARGV[7] == '0' and redis.call('HGET', ck, 'status') == '"queued"' and redis.call('HGET', ck, 'cancelRequested') ~= 'true' and redis.call('HEXISTS', ck, 'approval') == 0 then
    redis.call('HSET', ck, 'params', ARGV[3])
    redis.call('SADD', ck .. ':riders', ARGV[1])
    redis.call('XADD', ck .. ':events', 'MAXLEN', '~', '5000', '*', 'type', 'coalesced', 'data', ARGV[6])
    attached = carrier
  end
end
for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
if attached ~= '' then
  redis.call('HSET', KEYS[2], 'coalescedInto', cjson.encode(attached))
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', 604800)
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '5000', '*', 'type', 'status', 'data', ARGV[5])
return attached
