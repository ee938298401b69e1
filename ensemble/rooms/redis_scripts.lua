-- Atomic room operations for ensemble/rooms/redis.py. Each script is one
-- section below, run by EVALSHA with every key derived from ARGV[1], the key
-- prefix: one Redis holds the rooms (not a cluster).
--
--   P.."peer:"..id         the peer as JSON {id, room, name, fold, audio, video, screen, process, token}
--   P.."resumed:"..id      a peer taken over from another process (by its token): that
--                          process must not put it back (expires)
--   P.."room:"..r          hash: salt, digest (hex, "" without password), scene, version, by, emptied_at
--   P.."room:"..r..":peers"  sorted set of peer ids, in the order they joined (P.."joins" counts)
--   P.."room:"..r..":names"  hash: name skeleton (protocol.name_skeleton, made in Python) -> peer id
--   P.."room:"..r..":chat"   list of messages as JSON, oldest first
--   P.."rooms"             sorted set: room -> when it may be forgotten (+inf while occupied);
--                          entries past that time are taken out whenever a room empties
--                          and at every upkeep, so it holds live rooms and rooms in their grace
--   P.."proc:"..p          a process's heartbeat (expires), P.."proc:"..p..":peers" its peers
--   P.."procs"             set of process ids that have beaten
--   P.."fails:"..t..":"..k   failures of key k (an address) in table t of the guard
--                          (expires), P.."wait:"..t..":"..k its wait or lockout (expires)

--[[ common ]]
local P = ARGV[1]

local function room_key(room)
  return P .. "room:" .. room
end

-- Take a peer out of its room; the room starts its grace period when emptied. A passwordless
-- room's chat ends with its last member, unless that member is rejoining the same room
-- (`staying_in`: a reload taking its membership over keeps the history).
local function remove(id, now, grace_ms, staying_in)
  local raw = redis.call("GET", P .. "peer:" .. id)
  if not raw then
    return false
  end
  local peer = cjson.decode(raw)
  local room = room_key(peer.room)
  redis.call("DEL", P .. "peer:" .. id)
  redis.call("ZREM", room .. ":peers", id)
  if redis.call("HGET", room .. ":names", peer.fold) == id then
    redis.call("HDEL", room .. ":names", peer.fold)
  end
  redis.call("SREM", P .. "proc:" .. peer.process .. ":peers", id)
  if redis.call("ZCARD", room .. ":peers") == 0 then
    redis.call("HSET", room, "emptied_at", now)
    redis.call("PEXPIRE", room, grace_ms)
    local digest = redis.call("HGET", room, "digest")
    if peer.room ~= staying_in and (not digest or digest == "") then
      redis.call("DEL", room .. ":chat")
    else
      redis.call("PEXPIRE", room .. ":chat", grace_ms)
    end
    redis.call("ZREMRANGEBYSCORE", P .. "rooms", "-inf", now)
    redis.call("ZADD", P .. "rooms", now + grace_ms / 1000, peer.room)
  end
  return raw
end

-- Forget a room whose grace period is over (Redis expiry does it too, by the real clock).
local function forget_if_expired(room, now, grace_ms)
  local key = room_key(room)
  local emptied = redis.call("HGET", key, "emptied_at")
  if emptied and emptied ~= "" and now - tonumber(emptied) >= grace_ms / 1000 then
    redis.call("DEL", key, key .. ":peers", key .. ":names", key .. ":chat")
    redis.call("ZREM", P .. "rooms", room)
  end
end

-- Put a peer (already encoded, with its `fold`) into a room that exists. The process
-- that serves it is alive right now: it beats here too, so a process that dies before
-- its first heartbeat is still swept.
local function add(room, id, fold, raw, process, now, beat_ms)
  local key = room_key(room)
  redis.call("SET", P .. "proc:" .. process, now, "PX", beat_ms)
  redis.call("SADD", P .. "procs", process)
  redis.call("SET", P .. "peer:" .. id, raw)
  redis.call("ZADD", key .. ":peers", redis.call("INCR", P .. "joins"), id)
  redis.call("HSET", key .. ":names", fold, id)
  redis.call("SADD", P .. "proc:" .. process .. ":peers", id)
  redis.call("HSET", key, "emptied_at", "")
  redis.call("PERSIST", key)
  redis.call("PERSIST", key .. ":chat")
  redis.call("ZADD", P .. "rooms", "+inf", room)
end

local function create_room(room, salt, digest)
  redis.call("HSET", room_key(room), "salt", salt, "digest", digest, "version", 0, "scene", "", "by", "", "emptied_at", "")
end

--[[ join ]]
-- ARGV: prefix, room, id, process, now, grace_ms, max_peers, replaces, resume token
--       ("" for this connection's own membership), salt, digest, heartbeat expiry (ms),
--       then (fold, peer JSON) for each name to try, the plain name first.
-- Returns a JSON object (redis.py JoinReply): {status = "ok", peer, left ("" if none),
-- others (peers' JSON, false for one gone meanwhile), chat (messages' JSON), scene, version,
-- by, salt, digest}; {status = "salt", salt} when the password must be hashed with the
-- room's salt; or {status = "error", error = code}.
local room, id, process = ARGV[2], ARGV[3], ARGV[4]
local now, grace_ms, max_peers = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local replaces, resume_token, salt, digest = ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local key = room_key(room)
if replaces ~= "" and resume_token ~= "" then
  local raw = redis.call("GET", P .. "peer:" .. replaces)
  local old = raw and cjson.decode(raw)
  if not old or old.token == "" or old.token ~= resume_token then
    replaces = ""
  elseif old.process ~= process then
    redis.call("SET", P .. "resumed:" .. replaces, 1, "EX", 3600)
  end
end
forget_if_expired(room, now, grace_ms)
if redis.call("EXISTS", key) == 1 then
  local stored_salt, stored_digest = unpack(redis.call("HMGET", key, "salt", "digest"))
  if stored_digest and stored_digest ~= "" then
    if salt ~= stored_salt then
      return cjson.encode({status = "salt", salt = stored_salt})
    end
    if digest ~= stored_digest then
      return cjson.encode({status = "error", error = "wrong_password"})
    end
  end
  local count = redis.call("ZCARD", key .. ":peers")
  if replaces ~= "" and redis.call("ZSCORE", key .. ":peers", replaces) then
    count = count - 1
  end
  if count >= max_peers then
    return cjson.encode({status = "error", error = "room_full"})
  end
end
local left = ""
if replaces ~= "" then
  left = remove(replaces, now, grace_ms, room) or ""
end
if redis.call("EXISTS", key) == 0 then
  create_room(room, salt, digest)
end
local others = redis.call("ZRANGE", key .. ":peers", 0, -1)
local other_peers = {}
if #others > 0 then
  for i, other in ipairs(others) do
    others[i] = P .. "peer:" .. other
  end
  other_peers = redis.call("MGET", unpack(others))
end
for i = 13, #ARGV, 2 do
  if redis.call("HEXISTS", key .. ":names", ARGV[i]) == 0 then
    add(room, id, ARGV[i], ARGV[i + 1], process, now, tonumber(ARGV[12]))
    local state = redis.call("HMGET", key, "scene", "version", "by", "salt", "digest")
    return cjson.encode({
      status = "ok", peer = ARGV[i + 1], left = left, others = other_peers,
      chat = redis.call("LRANGE", key .. ":chat", 0, -1),
      scene = state[1] or "", version = tonumber(state[2]) or 0, by = state[3] or "",
      salt = state[4] or "", digest = state[5] or "",
    })
  end
end
return redis.error_reply("no free name among the candidates")

--[[ leave ]]
-- ARGV: prefix, id, now, grace_ms. Returns the peer as it was, or nil.
return remove(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))

--[[ media ]]
-- ARGV: prefix, id, audio, video, screen ("1" or "0"). Returns the updated peer, or nil.
local raw = redis.call("GET", P .. "peer:" .. ARGV[2])
if not raw then
  return false
end
local peer = cjson.decode(raw)
peer.audio = ARGV[3] == "1"
peer.video = ARGV[4] == "1"
peer.screen = ARGV[5] == "1"
raw = cjson.encode(peer)
redis.call("SET", P .. "peer:" .. ARGV[2], raw)
return raw

--[[ scene ]]
-- ARGV: prefix, room, scene JSON, base version, by.
-- Returns a JSON object (redis.py SceneReply): {status = "ok", version} or
-- {status = "conflict", scene, version, by}.
-- A room Redis lost (until upkeep puts it back) is at version 0 with no scene.
local key = room_key(ARGV[2])
local current = redis.call("HMGET", key, "scene", "version", "by")
if redis.call("EXISTS", key) == 0 or tonumber(current[2]) ~= tonumber(ARGV[4]) then
  return cjson.encode({status = "conflict", scene = current[1] or "", version = tonumber(current[2]) or 0, by = current[3] or ""})
end
local version = tonumber(ARGV[4]) + 1
redis.call("HSET", key, "scene", ARGV[3], "version", version, "by", ARGV[5])
return cjson.encode({status = "ok", version = version})

--[[ chat ]]
-- ARGV: prefix, room, message JSON, history length. A room Redis lost keeps nothing.
if redis.call("EXISTS", room_key(ARGV[2])) == 0 then
  return 0
end
local key = room_key(ARGV[2]) .. ":chat"
redis.call("RPUSH", key, ARGV[3])
redis.call("LTRIM", key, -tonumber(ARGV[4]), -1)
local ttl = redis.call("PTTL", room_key(ARGV[2]))
if ttl > 0 then
  redis.call("PEXPIRE", key, ttl)
end
return 1

--[[ restore ]]
-- A live peer whose membership Redis lost (restarted empty, or this process was
-- taken for dead): put it back as it was. ARGV: prefix, id, fold, peer JSON,
-- process, salt, digest, room, now, heartbeat expiry (ms). Returns 1 if it was missing, 0 if it is there, -1 if
-- its owner took it over on another connection (this process must forget it).
local id, fold, raw, process, room = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[8]
if redis.call("EXISTS", P .. "resumed:" .. id) == 1 then
  return -1
end
if redis.call("EXISTS", P .. "peer:" .. id) == 1 then
  return 0
end
if redis.call("EXISTS", room_key(room)) == 0 then
  create_room(room, ARGV[6], ARGV[7])
end
add(room, id, fold, raw, process, tonumber(ARGV[9]), tonumber(ARGV[10]))
return 1

--[[ sweep ]]
-- Remove the peers of every process whose heartbeat expired. ARGV: prefix, now,
-- grace_ms. Returns the removed peers. Atomic: of two sweepers, one finds them.
local removed = {}
for _, process in ipairs(redis.call("SMEMBERS", P .. "procs")) do
  if redis.call("EXISTS", P .. "proc:" .. process) == 0 then
    for _, id in ipairs(redis.call("SMEMBERS", P .. "proc:" .. process .. ":peers")) do
      local raw = remove(id, tonumber(ARGV[2]), tonumber(ARGV[3]))
      if raw then
        table.insert(removed, raw)
      end
    end
    redis.call("DEL", P .. "proc:" .. process .. ":peers")
    redis.call("SREM", P .. "procs", process)
  end
end
return removed

--[[ fail ]]
-- One more failure of ARGV[3] in table ARGV[2] of the guard. ARGV[4]: the failures
-- that lock the key, ARGV[5]: the first failure's wait (ms), ARGV[6]: the lockout (ms).
-- The n-th failure makes the key wait ARGV[5] * 2^(n-1) ms, never more than the
-- lockout, which the ARGV[4]-th starts. Failures are forgotten a lockout after the
-- last one. Returns a JSON object (redis.py FailReply): {state = "slowed" or "locked",
-- count = failures, wait_ms}.
local fails = P .. "fails:" .. ARGV[2] .. ":" .. ARGV[3]
local lock_ms = tonumber(ARGV[6])
local count = redis.call("INCR", fails)
redis.call("PEXPIRE", fails, lock_ms)
local state, ms = "slowed", math.min(tonumber(ARGV[5]) * 2 ^ math.min(count - 1, 64), lock_ms)
if count >= tonumber(ARGV[4]) then
  state, ms = "locked", lock_ms
end
ms = math.floor(ms)
if ms > 0 then
  redis.call("SET", P .. "wait:" .. ARGV[2] .. ":" .. ARGV[3], count, "PX", ms)
end
return cjson.encode({state = state, count = count, wait_ms = ms})
