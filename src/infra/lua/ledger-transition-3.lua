-- Moves an operation between statuses, atomically with its status event (and, when asked, the
-- site's deployed-state fields): only from an allowed status, never out of a terminal one, and,
-- when a fence is given, only while the record still carries that run's fence. A cancel, a
-- stalled job's second run and a worker racing on one operation cannot all win, and an operation
-- ends exactly once. Returns 1 done, 0 not from an allowed status, 2 already ended, 3 fenced out,
-- -1 no such record.
-- KEYS: op, events, site (unused unless ARGV[5] == '1').
-- ARGV: allowed statuses, terminal statuses, expected fence or '', status event data, site update
-- flag, site fields JSON, clear pendingWrite flag, then field/value pairs.
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return -1 end
for _, s in ipairs(cjson.decode(ARGV[2])) do if cjson.encode(s) == cur then return 2 end end
local ok = false
for _, s in ipairs(cjson.decode(ARGV[1])) do if cjson.encode(s) == cur then ok = true end end
if not ok then return 0 end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'fence') ~= ARGV[3] then return 3 end
for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', '5000', '*', 'type', 'status', 'data', ARGV[4])
if ARGV[5] == '1' then
  for k, v in pairs(cjson.decode(ARGV[6])) do redis.call('HSET', KEYS[3], k, v) end
  if ARGV[7] == '1' then redis.call('HDEL', KEYS[3], 'pendingWrite') end
end
return 1
