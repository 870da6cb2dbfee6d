-- Renew and release only while the key still holds our token: a holder whose lock expired can
-- never extend or delete its successor's lock.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end
