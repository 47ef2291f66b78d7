package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts of the writes and the listings. Each runs atomically on
// the Redis server; the keys it touches are all of one tenant, so they
// share a hash slot. They return a status word that the Go side turns into
// an engine error. go-redis runs them with EVALSHA and falls back to EVAL
// when the server does not have them cached (after a restart or failover).
//
// The scripts that use the prelude take the tenant's key prefix,
// "P:{T}:", as ARGV[1], and build from it the keys they find in the
// indexes: the client records of listed IDs and the filter indexes a
// client is in. Those keys carry the hash tag of the keys the script
// declares, so Redis Cluster finds them on the node that runs the script.

// prelude holds the helpers of the client scripts.
const prelude = `
local B = ARGV[1]

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

-- unindex removes a client from the listing index, the expiry index and
-- the filter indexes that clients:filters says it is in.
local function unindex(id)
  redis.call('ZREM', B .. 'clients', id)
  redis.call('ZREM', B .. 'clients:expiry', id)
  local f = redis.call('HGET', B .. 'clients:filters', id)
  if f then
    for _, suffix in ipairs(cmsgpack.unpack(f)) do
      redis.call('ZREM', B .. 'clients:' .. suffix, id)
    end
    redis.call('HDEL', B .. 'clients:filters', id)
  end
end

-- index puts a live client in the listing index, in the expiry index if it
-- expires (at > 0) and in the filter indexes whose suffixes filters lists,
-- after taking it out of those it was in. A client that is not live is
-- only taken out.
local function index(id, at, live, filters)
  unindex(id)
  if not live then return end
  redis.call('ZADD', B .. 'clients', 0, id)
  if at > 0 then redis.call('ZADD', B .. 'clients:expiry', at, id) end
  if #filters > 0 then
    for _, suffix in ipairs(filters) do
      redis.call('ZADD', B .. 'clients:' .. suffix, 0, id)
    end
    redis.call('HSET', B .. 'clients:filters', id, cmsgpack.pack(filters))
  end
end

-- prune takes up to n clients whose expiry has passed out of every index.
local function prune(n)
  local gone = redis.call('ZRANGEBYSCORE', B .. 'clients:expiry', '-inf', '(' .. now(), 'LIMIT', 0, n)
  for _, id in ipairs(gone) do unindex(id) end
end

-- pruneTokens takes up to n initial access tokens whose expiry has passed
-- out of the token indexes.
local function pruneTokens(n)
  local gone = redis.call('ZRANGEBYSCORE', B .. 'iats:expiry', '-inf', '(' .. now(), 'LIMIT', 0, n)
  if #gone > 0 then
    redis.call('ZREM', B .. 'iats', unpack(gone))
    redis.call('ZREM', B .. 'iats:expiry', unpack(gone))
  end
end
`

// pruneOnWrite is how many expired index entries each client or token
// write drops: more than the one entry a write adds, so the indexes shrink
// back to the live records as writes go on.
const pruneOnWrite = "8"

// pruneOnList is how many expired index entries a listing drops first.
// Entries beyond it are still skipped, and dropped, as the listing meets
// them.
const pruneOnList = "1000"

// listBudget bounds the index entries one listing script reads, so that a
// filtered listing that meets many clients it does not want cannot keep
// the server busy: the Go side calls the script again from where it
// stopped.
const listBudget = "1000"

// createClient stores a client, consuming a use of its initial access
// token, in the order of checks engine.Store.CreateClient gives: the
// tombstone, the token, the ID, the quota. The quota counts the clients in
// the listing index less those whose expiry has passed.
//
// KEYS: client, tombstone, audit stream, marks...[, token]
// ARGV: prefix, record, client ID, expiry ms (0: none), replace ("1" or
// "0"), max clients (0: no bound), prune count, the suffix of the
// software_id filter index in which no other live client may be ("": no
// such check), audit event ("" for none), audit stream length, the number
// of marks, the expiry ms of each mark, filter suffixes...
//
// A live mark refuses the create with REPLAYED:<its position>; the marks
// are set with the write (engine.CreateOptions.Marks).
//
// The software_id check reads that index: an ID whose record is gone is
// taken out of every index, a live one other than the client's refuses
// the create.
//
// A record equal to the one being written means that this very call was
// applied already and is being retried (go-redis retries after a dropped
// connection): it succeeds without consuming a second use or appending a
// second audit event.
var createClient = redis.NewScript(prelude + `
if redis.call('EXISTS', KEYS[2]) == 1 then return 'NO_TENANT' end
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[2] then return 'OK' end
local nmarks = tonumber(ARGV[11])
local tok = KEYS[4 + nmarks]
if tok then
  local t = redis.call('HMGET', tok, 'uses', 'max_uses')
  if not t[1] then return 'NO_TOKEN' end
  local max = tonumber(t[2])
  if max > 0 and tonumber(t[1]) >= max then return 'EXHAUSTED' end
end
if cur and ARGV[5] ~= '1' then return 'EXISTS' end
for i = 1, nmarks do
  if redis.call('EXISTS', KEYS[3 + i]) == 1 then return 'REPLAYED:' .. i end
end
if ARGV[8] ~= '' then
  for _, other in ipairs(redis.call('ZRANGE', B .. 'clients:' .. ARGV[8], 0, -1)) do
    if other ~= ARGV[3] then
      if redis.call('EXISTS', B .. 'client:' .. other) == 1 then return 'SOFTWARE_TAKEN' end
      unindex(other)
    end
  end
end
local quota = tonumber(ARGV[6])
if not cur and quota > 0 then
  prune(tonumber(ARGV[7]))
  local live = redis.call('ZCARD', B .. 'clients') -
    redis.call('ZCOUNT', B .. 'clients:expiry', '-inf', '(' .. now())
  if live >= quota then return 'QUOTA' end
end
if tok then redis.call('HINCRBY', tok, 'uses', 1) end
for i = 1, nmarks do
  redis.call('SET', KEYS[3 + i], '1', 'PXAT', ARGV[11 + i])
end
local at = tonumber(ARGV[4])
index(ARGV[3], at, put(KEYS[1], ARGV[2], at), {unpack(ARGV, 12 + nmarks)})
prune(tonumber(ARGV[7]))
if ARGV[9] ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[10], '*', '` + auditField + `', ARGV[9])
end
return 'OK'
`)

// readClientAudited returns a client record and whether it appended the
// audit event: it does when the record's registration token digest is the
// one given (engine.AuditedClientReader), with the exact trimming of
// AppendAudit. nil when there is no record.
//
// The digest is the record's first "registration_token_hash" member, and
// only if it comes before "metadata": the record codec writes it among the
// server's own members (tenant, client_id, times, secret digests, then the
// token digest), before anything a client sets. The name cannot appear
// inside a string, where every quote is escaped, so a member of that name
// in a client's metadata (after "metadata", where it is not looked for)
// is the only other place it can be.
//
// KEYS: client, audit stream
// ARGV: digest, audit event, audit stream length
var readClientAudited = redis.NewScript(`
local rec = redis.call('GET', KEYS[1])
if not rec then return false end
local name = '"registration_token_hash":"'
local at = string.find(rec, name, 1, true)
local md = string.find(rec, '"metadata":', 1, true)
if at and md and at < md then
  at = at + #name
  if string.sub(rec, at, at + #ARGV[1]) == ARGV[1] .. '"' then
    redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], '*', '` + auditField + `', ARGV[2])
    return {rec, 1}
  end
end
return {rec, 0}
`)

// updateClient replaces a client record if it is still the one the caller
// read (compare and set). A record equal to the new one means a retried
// call that was applied.
//
// KEYS: client
// ARGV: prefix, record read, new record, client ID, new expiry ms (0:
// none), prune count, filter suffixes...
var updateClient = redis.NewScript(prelude + `
local cur = redis.call('GET', KEYS[1])
if not cur then return 'NOT_FOUND' end
if cur == ARGV[3] then return 'OK' end
if cur ~= ARGV[2] then return 'CONFLICT' end
local at = tonumber(ARGV[5])
index(ARGV[4], at, put(KEYS[1], ARGV[3], at), {unpack(ARGV, 7)})
prune(tonumber(ARGV[6]))
return 'OK'
`)

// deleteClient removes a client record and its index entries.
//
// KEYS: client
// ARGV: prefix, client ID
var deleteClient = redis.NewScript(prelude + `
local n = redis.call('DEL', KEYS[1])
unindex(ARGV[2])
if n == 0 then return 'NOT_FOUND' end
return 'OK'
`)

// listClients returns the records of up to n live clients that pass the
// filter, from the IDs of an index that follow the given one in byte
// order, reading at most budget index entries. An ID whose record is gone
// (expired, or removed by hand) is skipped and taken out of every index;
// one whose record does not belong in the filter index being read is
// skipped and taken out of it.
//
// The reply is {done, last, record...}: done is "1" when the index has no
// more entries after the ones read, last the last ID read (from which the
// caller goes on when done is "0" and it wants more).
//
// KEYS: the index: clients, clients:token:<id>, clients:policy:<version>
// or clients:software:<digest>
// ARGV: prefix, after ("" from the start), n, budget, prune count, the
// index's kind ("all", "token", "policy" or "software"), filter token ID
// ("": none), filter policy name and digest ("": none), filter
// software_id ("": none)
var listClients = redis.NewScript(prelude + `
prune(tonumber(ARGV[5]))
local want, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
local kind, tok, pname, pdigest, sw = ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]

-- ran reports whether the policy version ran at the client's last write.
local function ran(c)
  local h = c.history
  if type(h) ~= 'table' or #h == 0 then return false end
  local ps = h[#h].policies
  if type(ps) ~= 'table' then return false end
  for _, p in ipairs(ps) do
    if type(p) == 'table' and p.name == pname and p.digest == pdigest then return true end
  end
  return false
end

-- check reports whether the record belongs in the index being read, and
-- whether it passes the whole filter. A record it cannot decode passes:
-- the Go side decides.
local function check(rec)
  if tok == '' and pname == '' and sw == '' then return true, true end
  local ok, c = pcall(cjson.decode, rec)
  if not ok or type(c) ~= 'table' then return true, true end
  local byToken = tok == '' or c.issued_by == tok
  local byPolicy = pname == '' or ran(c)
  local bySoftware = sw == '' or (type(c.metadata) == 'table' and c.metadata.software_id == sw)
  local inIndex = true
  if kind == 'token' then inIndex = byToken elseif kind == 'policy' then inIndex = byPolicy
  elseif kind == 'software' then inIndex = bySoftware end
  return inIndex, byToken and byPolicy and bySoftware
end

local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local out = {'0', ARGV[2]}
local found, read = 0, 0
while found < want and read < budget do
  local ids = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, math.min(want - found, budget - read))
  if #ids == 0 then
    out[1] = '1'
    break
  end
  for _, id in ipairs(ids) do
    read = read + 1
    local v = redis.call('GET', B .. 'client:' .. id)
    if not v then
      unindex(id)
    else
      local inIndex, match = check(v)
      if not inIndex then
        redis.call('ZREM', KEYS[1], id)
      elseif match then
        found = found + 1
        out[#out + 1] = v
      end
    end
  end
  from = '(' .. ids[#ids]
  out[2] = ids[#ids]
end
return out
`)

// createToken stores an initial access token unless a live one has its ID
// or the tenant has a tombstone, and indexes it. A token equal to the one
// being written means a retried call (see createClient).
//
// KEYS: token, tombstone
// ARGV: prefix, record, uses, max uses, expiry ms (0: none), token ID,
// prune count
var createToken = redis.NewScript(prelude + `
if redis.call('EXISTS', KEYS[2]) == 1 then return 'NO_TENANT' end
local cur = redis.call('HGET', KEYS[1], 'record')
if cur == ARGV[2] then return 'OK' end
if cur then return 'EXISTS' end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'record', ARGV[2], 'uses', ARGV[3], 'max_uses', ARGV[4])
local at, id = tonumber(ARGV[5]), ARGV[6]
local live = true
if at > 0 then
  redis.call('PEXPIREAT', KEYS[1], at)
  live = redis.call('EXISTS', KEYS[1]) == 1
end
if live then
  redis.call('ZADD', B .. 'iats', 0, id)
end
-- A live token has its expiry in the index, and an expired one of the same
-- ID leaves none behind that would prune the new one.
if live and at > 0 then
  redis.call('ZADD', B .. 'iats:expiry', at, id)
else
  redis.call('ZREM', B .. 'iats:expiry', id)
end
pruneTokens(tonumber(ARGV[7]))
return 'OK'
`)

// deleteToken removes an initial access token and its index entries.
//
// KEYS: token
// ARGV: prefix, token ID
var deleteToken = redis.NewScript(prelude + `
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', B .. 'iats', ARGV[2])
redis.call('ZREM', B .. 'iats:expiry', ARGV[2])
if n == 0 then return 'NOT_FOUND' end
return 'OK'
`)

// listTokens returns up to n live initial access tokens whose IDs follow
// the given one, reading at most budget index entries; IDs whose token is
// gone are taken out of the indexes. The reply is {done, last, record,
// uses, record, uses...}, done and last as for listClients.
//
// KEYS: iats
// ARGV: prefix, after ("" from the start), n, budget, prune count
var listTokens = redis.NewScript(prelude + `
pruneTokens(tonumber(ARGV[5]))
local want, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local out = {'0', ARGV[2]}
local found, read = 0, 0
while found < want and read < budget do
  local ids = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, math.min(want - found, budget - read))
  if #ids == 0 then
    out[1] = '1'
    break
  end
  for _, id in ipairs(ids) do
    read = read + 1
    local v = redis.call('HMGET', B .. 'iat:' .. id, 'record', 'uses')
    if v[1] then
      found = found + 1
      out[#out + 1] = v[1]
      out[#out + 1] = v[2]
    else
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZREM', B .. 'iats:expiry', id)
    end
  end
  from = '(' .. ids[#ids]
  out[2] = ids[#ids]
end
return out
`)

// createAdmin stores a tenant admin token unless a live one has its ID or
// the tenant has a tombstone, and indexes it. A token equal to the one
// being written means a retried call.
//
// KEYS: admin token, tombstone
// ARGV: prefix, record, expiry ms (0: none), token ID
var createAdmin = redis.NewScript(prelude + `
if redis.call('EXISTS', KEYS[2]) == 1 then return 'NO_TENANT' end
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[2] then return 'OK' end
if cur then return 'EXISTS' end
if put(KEYS[1], ARGV[2], tonumber(ARGV[3])) then
  redis.call('ZADD', B .. 'admins', 0, ARGV[4])
end
return 'OK'
`)

// deleteAdmin removes a tenant admin token and its index entry.
//
// KEYS: admin token
// ARGV: prefix, token ID
var deleteAdmin = redis.NewScript(prelude + `
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', B .. 'admins', ARGV[2])
if n == 0 then return 'NOT_FOUND' end
return 'OK'
`)

// listAdmins returns the records of the live admin tokens whose IDs follow
// the given one, reading at most budget index entries; IDs whose token is
// gone are taken out of the index. The reply is {done, last, record...},
// as for listClients.
//
// KEYS: admins
// ARGV: prefix, after ("" from the start), budget
var listAdmins = redis.NewScript(prelude + `
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local ids = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {'0', ARGV[2]}
if #ids < tonumber(ARGV[3]) then out[1] = '1' end
for _, id in ipairs(ids) do
  local v = redis.call('GET', B .. 'admin:' .. id)
  if v then out[#out + 1] = v else redis.call('ZREM', KEYS[1], id) end
  out[2] = id
end
return out
`)

// putTenant writes a tenant record if the record is still the one the
// caller read (compare and set) and the tenant is not being deleted. It
// removes a "deleted" tombstone: the tenant exists again. A record equal
// to the new one means a retried call that was applied.
//
// KEYS: tenant, tombstone
// ARGV: record read ("" if none), "1" if there was one else "0", new record
var putTenant = redis.NewScript(`
local tomb = redis.call('GET', KEYS[2])
if tomb == 'deleting' then return 'DELETING' end
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[3] then return 'OK' end
if ARGV[2] == '1' then
  if cur ~= ARGV[1] then return 'CONFLICT' end
elseif cur then
  return 'CONFLICT'
end
redis.call('SET', KEYS[1], ARGV[3])
if tomb then redis.call('DEL', KEYS[2]) end
return 'OK'
`)

// purgeTenant removes up to n of a deleting tenant's records with their
// index entries: clients first, then initial access tokens, then admin
// tokens, then uploaded policies (each its record and all its bytes, which
// UNLINK frees in the background), and the indexes once they are empty.
// It returns how many it removed (fewer than n: none are left), or -1 if the tenant is not being
// deleted (another DeleteTenant finished, and the tenant may have been
// created again).
//
// KEYS: tombstone
// ARGV: prefix, n
var purgeTenant = redis.NewScript(prelude + `
if redis.call('GET', KEYS[1]) ~= 'deleting' then return -1 end
local n = tonumber(ARGV[2])
local done = 0
for _, id in ipairs(redis.call('ZRANGE', B .. 'clients', 0, n - 1)) do
  redis.call('DEL', B .. 'client:' .. id)
  unindex(id)
  done = done + 1
end
if done < n then
  -- Filter entries of clients missing from the listing index: none,
  -- unless the indexes were changed by hand.
  local r = redis.call('HSCAN', B .. 'clients:filters', 0, 'COUNT', n - done)
  for i = 1, #r[2], 2 do
    redis.call('DEL', B .. 'client:' .. r[2][i])
    unindex(r[2][i])
    done = done + 1
  end
end
-- purge removes up to n - done records listed in an index, with their
-- index entries.
local function purge(index, record)
  if done >= n then return end
  for _, id in ipairs(redis.call('ZRANGE', B .. index, 0, n - done - 1)) do
    redis.call('DEL', B .. record .. id)
    redis.call('ZREM', B .. index, id)
    done = done + 1
  end
end
purge('iats', 'iat:')
purge('admins', 'admin:')
if done < n then
  for _, name in ipairs(redis.call('ZRANGE', B .. 'policies', 0, n - done - 1)) do
    redis.call('DEL', B .. 'policy:' .. name)
    redis.call('UNLINK', B .. 'policy-blobs:' .. name)
    redis.call('ZREM', B .. 'policies', name)
    done = done + 1
  end
end
if done < n then
  redis.call('DEL', B .. 'clients:expiry', B .. 'iats:expiry')
end
return done
`)

// finishDelete removes a deleted tenant's record and turns its tombstone
// from "deleting" into "deleted", expiring after the given time. It does
// nothing if the tombstone is no longer "deleting" (another DeleteTenant
// finished first).
//
// KEYS: tenant, tombstone
// ARGV: tombstone lifetime in ms
var finishDelete = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= 'deleting' then return 'GONE' end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], 'deleted', 'PX', ARGV[1])
return 'OK'
`)

// allow takes one event from a rate-limit budget kept by the generic cell
// rate algorithm: the key holds the theoretical arrival time (TAT) in
// Unix microseconds of the server's clock, when the bucket will be full
// again. An event fits while the TAT is at most per - interval ahead of
// now, and moves it on by interval. The key expires when the bucket is
// full again, so idle budgets vanish. The reply is {1, 0} when the event
// fits, else {0, microseconds until it would}.
//
// KEYS: budget
// ARGV: interval µs, per µs
var allow = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2]) - interval
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then tat = now end
if tat - now > tolerance then return {0, tat - now - tolerance} end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
return {1, 0}
`)

// putPolicyBlob stores the bytes of a policy version under their digest,
// unless the policy has that digest already, and lists the policy in the
// tenant's policy index (so that DeleteTenant finds bytes whose record was
// never written), unless the tenant has a tombstone.
//
// New bytes must keep the tenant within its policy limits: a policy not
// yet in the index when the index holds the most policies allowed is
// TOO_MANY, bytes that bring the total of all the tenant's blob hashes
// (found through the index, under the tenant's hash tag) over the limit
// are TOO_BIG. Bytes already kept are OK without a check.
//
// KEYS: policy-blobs:<name>, policies, tombstone
// ARGV: prefix, digest, bytes, name, most policies, most bytes
var putPolicyBlob = redis.NewScript(`
local B = ARGV[1]
if redis.call('EXISTS', KEYS[3]) == 1 then return 'NO_TENANT' end
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
  if not redis.call('ZSCORE', KEYS[2], ARGV[4]) and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
    return 'TOO_MANY'
  end
  local total = string.len(ARGV[3])
  for _, name in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local blobs = B .. 'policy-blobs:' .. name
    for _, d in ipairs(redis.call('HKEYS', blobs)) do
      total = total + redis.call('HSTRLEN', blobs, d)
    end
  end
  if total > tonumber(ARGV[6]) then return 'TOO_BIG' end
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
end
redis.call('ZADD', KEYS[2], 0, ARGV[4])
return 'OK'
`)

// updatePolicy writes or removes a policy record if it is still the one
// the caller read (compare and set). A write drops the bytes of the
// digests given, lists the policy in the tenant's policy index, and is
// refused while the tenant has a tombstone; a removal deletes the record
// and all the policy's bytes and unlists it. A record equal to the new one
// means a retried call that was applied.
//
// The reply is OK, CONFLICT, NO_TENANT, or after a removal REMOVED, or
// EMPTY when the tenant's policy index is left empty.
//
// A write of a policy not yet in the index when the index holds the most
// policies allowed is TOO_MANY.
//
// KEYS: policy:<name>, policy-blobs:<name>, policies, tombstone
// ARGV: record read ("" if none), "1" if there was one else "0", new
// record ("" to remove), name, most policies, digests whose bytes go...
var updatePolicy = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[3] ~= '' and cur == ARGV[3] then return 'OK' end
if ARGV[2] == '1' then
  if cur ~= ARGV[1] then return 'CONFLICT' end
elseif cur then
  return 'CONFLICT'
end
if ARGV[3] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('UNLINK', KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[4])
  if redis.call('EXISTS', KEYS[3]) == 0 then return 'EMPTY' end
  return 'REMOVED'
end
if redis.call('EXISTS', KEYS[4]) == 1 then return 'NO_TENANT' end
if not redis.call('ZSCORE', KEYS[3], ARGV[4]) and redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then
  return 'TOO_MANY'
end
redis.call('SET', KEYS[1], ARGV[3])
for i = 6, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end
redis.call('ZADD', KEYS[3], 0, ARGV[4])
return 'OK'
`)

// putReplica stores a replica's status with an expiry, and the expiry, on
// the server's clock in Unix ms, in the replica index, from which it drops
// the entries whose expiry has passed.
//
// KEYS: replica:<id>, replicas
// ARGV: status, ttl ms, replica ID
var putReplica = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return 'OK'
`)

// listReplicas returns the statuses of the replicas in the index whose
// expiry has not passed, dropping the other entries, and those whose key
// is gone.
//
// KEYS: replicas
// ARGV: the replica key prefix, "P:{_}:replica:"
var listReplicas = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('GET', ARGV[1] .. id)
  if v then out[#out + 1] = v else redis.call('ZREM', KEYS[1], id) end
end
return out
`)

// publishChange publishes a policy change. PUBLISH names no key, so
// go-redis would send it to any node of a cluster, and two changes
// published one after the other through different nodes could reach a
// subscriber in the other order; declaring the channel's name, which
// carries the tag {_}, as the script's key sends every change through the
// node of that slot, whose messages reach the others in order.
//
// KEYS: the channel (not read or written as a key)
// ARGV: the change as JSON
var publishChange = redis.NewScript(`
return redis.call('PUBLISH', KEYS[1], ARGV[1])
`)
