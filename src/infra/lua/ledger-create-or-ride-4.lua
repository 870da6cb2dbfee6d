-- The ledger's create-or-ride step, atomic. KEYS: the pending key of a stack+pool, the new record's
-- hash, the site's time index, the new record's event stream. ARGV: 1 id, 2 creation score,
-- 3 params (JSON), 4 record key prefix, 5 first status event, 6 coalesced event, 7 '1' when the new
-- request needs an approval, 8 the encoded 'queued' status, 9 riders suffix, 10 events suffix,
-- 11 the rider's coalescedInto field name, then field/value pairs of the new record.
-- If the pending operation is still queued (a worker moves it to running with the transition
-- script, on the same hash), the new request's params replace the pending one's and the new record
-- rides on it; otherwise the new record becomes the pending one. Neither side may involve an
-- approval: an operation that waits for or holds one keeps the params its approver saw, and a
-- request that needs one runs (and waits) on its own. Records are written here, not by
-- Ledger.create, so that "pending" never names a record that does not exist yet.
local carrier = redis.call('GET', KEYS[1])
local attached = ''
if carrier then
  local ck = ARGV[4] .. carrier
  if ARGV[7] == '0' and redis.call('HGET', ck, 'status') == ARGV[8] and redis.call('HGET', ck, 'cancelRequested') ~= 'true' and redis.call('HEXISTS', ck, 'approval') == 0 then
    redis.call('HSET', ck, 'params', ARGV[3])
    redis.call('SADD', ck .. ARGV[9], ARGV[1])
    redis.call('XADD', ck .. ARGV[10], 'MAXLEN', '~', '5000', '*', 'type', 'coalesced', 'data', ARGV[6])
    attached = carrier
  end
end
for i = 12, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
if attached ~= '' then
  redis.call('HSET', KEYS[2], ARGV[11], cjson.encode(attached))
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', 604800)
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '5000', '*', 'type', 'status', 'data', ARGV[5])
return attached
