package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts of the writes and the listing. Each runs atomically on
// the Redis server; the keys it touches are all of one tenant, so they
// share a hash slot. They return a status word that the Go side turns into
// an engine error. go-redis runs them with EVALSHA and falls back to EVAL
// when the server does not have them cached (after a restart or failover).

// prelude holds the helpers every write script uses.
const prelude = `
-- now is the server's clock in Unix milliseconds.
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- put writes a record and its expiry (Unix ms, 0 for none) and reports
-- whether it is live: an expiry already past deletes the record at once.
local function put(key, value, at)
  redis.call('SET', key, value)
  if at > 0 then
    redis.call('PEXPIREAT', key, at)
    return redis.call('EXISTS', key) == 1
  end
  return true
end

-- index keeps a client in the listing index while it is live, and its
-- expiry in the expiry index while it has one.
local function index(ids, exp, id, at, live)
  if not live then
    redis.call('ZREM', ids, id)
    redis.call('ZREM', exp, id)
    return
  end
  redis.call('ZADD', ids, 0, id)
  if at > 0 then
    redis.call('ZADD', exp, at, id)
  else
    redis.call('ZREM', exp, id)
  end
end

-- prune drops up to n index entries of clients that have expired.
local function prune(ids, exp, n)
  local gone = redis.call('ZRANGEBYSCORE', exp, '-inf', '(' .. now(), 'LIMIT', 0, n)
  if #gone > 0 then
    redis.call('ZREM', ids, unpack(gone))
    redis.call('ZREM', exp, unpack(gone))
  end
end
`

// pruneOnWrite is how many expired index entries each client write drops:
// more than the one entry a write adds, so the index shrinks back to the
// live clients as writes go on.
const pruneOnWrite = "8"

// pruneOnList is how many expired index entries a listing drops first.
// Entries beyond it are still skipped, and dropped, as the listing meets
// them.
const pruneOnList = "1000"

// createClient stores a client, consuming a use of its initial access token.
//
// KEYS: client, clients index, expiry index[, token]
// ARGV: record, client ID, expiry ms (0: none), replace ("1" or "0"), prune count
//
// A record equal to the one being written means that this very call was
// applied already and is being retried (go-redis retries after a dropped
// connection): it succeeds without consuming a second use.
var createClient = redis.NewScript(prelude + `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return 'OK' end
if cur and ARGV[4] ~= '1' then return 'EXISTS' end
if #KEYS == 4 then
  local t = redis.call('HMGET', KEYS[4], 'uses', 'max_uses')
  if not t[1] then return 'NO_TOKEN' end
  local max = tonumber(t[2])
  if max > 0 and tonumber(t[1]) >= max then return 'EXHAUSTED' end
  redis.call('HINCRBY', KEYS[4], 'uses', 1)
end
local at = tonumber(ARGV[3])
index(KEYS[2], KEYS[3], ARGV[2], at, put(KEYS[1], ARGV[1], at))
prune(KEYS[2], KEYS[3], tonumber(ARGV[5]))
return 'OK'
`)

// updateClient replaces a client record if it is still the one the caller
// read (compare and set).
//
// KEYS: client, clients index, expiry index
// ARGV: record read, new record, client ID, new expiry ms (0: none), prune count
var updateClient = redis.NewScript(prelude + `
local cur = redis.call('GET', KEYS[1])
if not cur then return 'NOT_FOUND' end
if cur ~= ARGV[1] then return 'CONFLICT' end
local at = tonumber(ARGV[4])
index(KEYS[2], KEYS[3], ARGV[3], at, put(KEYS[1], ARGV[2], at))
prune(KEYS[2], KEYS[3], tonumber(ARGV[5]))
return 'OK'
`)

// deleteClient removes a client record and its index entries.
//
// KEYS: client, clients index, expiry index
// ARGV: client ID
var deleteClient = redis.NewScript(`
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if n == 0 then return 'NOT_FOUND' end
return 'OK'
`)

// listClients returns the records of up to n live clients whose IDs follow
// the given one in byte order. An ID in the index whose record is gone
// (expired, or removed by hand) is skipped and dropped from the index. It
// reads the records by keys built from the prefix argument: they are of
// the same tenant as KEYS, so in the same hash slot.
//
// KEYS: clients index, expiry index
// ARGV: after ("" from the start), n, client key prefix, prune count
var listClients = redis.NewScript(prelude + `
prune(KEYS[1], KEYS[2], tonumber(ARGV[4]))
local want = tonumber(ARGV[2])
local from = '-'
if ARGV[1] ~= '' then from = '(' .. ARGV[1] end
local out = {}
while #out < want do
  local ids = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, want - #out)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local v = redis.call('GET', ARGV[3] .. id)
    if v then
      out[#out + 1] = v
    else
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
    end
  end
  from = '(' .. ids[#ids]
end
return out
`)

// createToken stores an initial access token unless a live one has its ID.
// A token equal to the one being written means a retried call (see
// createClient).
//
// KEYS: token
// ARGV: record, uses, max uses, expiry ms (0: none)
var createToken = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'record')
if cur == ARGV[1] then return 'OK' end
if cur then return 'EXISTS' end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'uses', ARGV[2], 'max_uses', ARGV[3])
local at = tonumber(ARGV[4])
if at > 0 then redis.call('PEXPIREAT', KEYS[1], at) end
return 'OK'
`)
