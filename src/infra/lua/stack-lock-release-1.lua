-- Deletes the lock only while the key still holds our token (compare-and-delete).
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
