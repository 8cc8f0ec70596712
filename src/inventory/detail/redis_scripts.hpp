#pragma once
// The Lua scripts of redis_inventory (redis_inventory.hpp describes the keys). Each script is
// `prelude` followed by its body; every script takes the event's seven keys in the order of
// redis_inventory::keys_of. Items in ARGV are always `zone, quantity, n, seat_1 .. seat_n`.
//
// Hold failures are returned as {code, {seat or zone ...}}, with the codes of `failure_code`
// below; success as {0}.
#include <string>

namespace tkt::inventory::detail::redis_scripts {

// The failure codes the scripts return, in the order of hold_error.
enum failure_code : int {
    ok = 0,
    unknown_event = 1,
    invalid = 2,
    unknown_seat = 3,
    seat_unavailable = 4,
    sold_out = 5,
    per_hold_limit = 6,
    per_user_limit = 7,
    duplicate_hold = 8,
};

inline constexpr const char* prelude = R"lua(
local meta, order, seats, zones, holds, exp, users =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local SEP = '\31'
local PER_HOLD_MAX = 4

-- Integers (versions, milliseconds) as digits: Lua would print 1.8e+15.
local function int(x) return string.format('%.0f', x) end
local function num(x) return tonumber(x) or 0 end

local function split(s)
  local t, i = {}, 1
  while true do
    local j = string.find(s, SEP, i, true)
    if not j then t[#t + 1] = string.sub(s, i); return t end
    t[#t + 1] = string.sub(s, i, j - 1)
    i = j + 1
  end
end

local function incr(key, field, n)
  if n == 0 then return end
  if redis.call('HINCRBY', key, field, n) == 0 then redis.call('HDEL', key, field) end
end

local function bump() return int(redis.call('HINCRBY', meta, 'ver', 1)) end

-- Items from ARGV[p..]: zone, quantity, n, n seats. Returns them and the next position.
local function items_at(p)
  local it = {zone = ARGV[p], qty = tonumber(ARGV[p + 1]), seats = {}}
  local n = tonumber(ARGV[p + 2])
  for i = 1, n do it.seats[i] = ARGV[p + 2 + i] end
  return it, p + 3 + n
end

local function count(it)
  if #it.seats > 0 then return #it.seats end
  return it.qty
end

local function shape(it, enforce_limit)
  if #it.seats > 0 then
    if it.zone ~= '' or it.qty ~= 0 then return 2 end
  elseif it.zone == '' or it.qty <= 0 then
    return 2
  end
  if enforce_limit and count(it) > PER_HOLD_MAX then return 6 end
  return nil
end

-- Unknown seats or zone, a seat named twice; keeps the seats' values in it.vals.
local function resolve(it)
  if #it.seats == 0 then
    if redis.call('HEXISTS', zones, 'c:' .. it.zone) == 0 then return 3, {it.zone} end
    return nil
  end
  local vals = redis.call('HMGET', seats, unpack(it.seats))
  local unknown = {}
  for i = 1, #it.seats do
    if not vals[i] then unknown[#unknown + 1] = it.seats[i] end
  end
  if #unknown > 0 then return 3, unknown end
  local seen = {}
  for i = 1, #it.seats do
    if seen[it.seats[i]] then return 2 end
    seen[it.seats[i]] = true
  end
  it.vals = vals
  return nil
end

local function available(it)
  if #it.seats == 0 then
    local z = redis.call('HMGET', zones, 'c:' .. it.zone, 'h:' .. it.zone, 's:' .. it.zone)
    if num(z[1]) - num(z[2]) - num(z[3]) < it.qty then return 5 end
    return nil
  end
  local taken = {}
  for i = 1, #it.seats do
    if string.sub(it.vals[i], 1, 1) ~= 'a' then taken[#taken + 1] = it.seats[i] end
  end
  if #taken > 0 then return 4, taken end
  return nil
end

-- Every check of a hold, in the memory engine's order.
local function check_hold(id, user, it, max)
  if id == '' then return 2 end
  local code = shape(it, true)
  if code then return code end
  if redis.call('HEXISTS', holds, id) == 1 then return 8 end
  local list
  code, list = resolve(it)
  if code then return code, list end
  local u = redis.call('HMGET', users, 'h:' .. user, 's:' .. user)
  if num(u[1]) + num(u[2]) + count(it) > max then return 7 end
  return available(it)
end

local function set_seats(list, value)
  local args = {}
  for i = 1, #list do
    args[#args + 1] = list[i]
    args[#args + 1] = value
  end
  redis.call('HSET', seats, unpack(args))
end

local function record(user, exp_ms, state, it)
  local r = user .. SEP .. exp_ms .. SEP .. state .. SEP .. it.zone .. SEP .. it.qty
  for i = 1, #it.seats do r = r .. SEP .. it.seats[i] end
  return r
end

local function parse(rec)
  local f = split(rec)
  local it = {zone = f[4], qty = tonumber(f[5]), seats = {}}
  for i = 6, #f do it.seats[#it.seats + 1] = f[i] end
  return f[1], f[2], f[3], it
end

local function put_hold(id, user, exp_ms, state, it, ver)
  local n = count(it)
  if #it.seats == 0 then
    redis.call('HINCRBY', zones, 'h:' .. it.zone, it.qty)
    redis.call('HSET', zones, 'v:' .. it.zone, ver)
  else
    set_seats(it.seats, 'h' .. ver .. ':' .. id)
  end
  redis.call('HSET', holds, id, record(user, exp_ms, state, it))
  if state == 'h' then redis.call('ZADD', exp, exp_ms, id) end
  redis.call('HINCRBY', users, 'h:' .. user, n)
  redis.call('HINCRBY', meta, 'held', n)
end

local function put_sold(user, it, ver)
  local n = count(it)
  if #it.seats == 0 then
    redis.call('HINCRBY', zones, 's:' .. it.zone, it.qty)
    redis.call('HSET', zones, 'v:' .. it.zone, ver)
    incr(users, 'z:' .. user .. ':' .. it.zone, it.qty)
  else
    set_seats(it.seats, 's' .. ver .. ':' .. user)
  end
  incr(users, 's:' .. user, n)
  redis.call('HINCRBY', meta, 'sold', n)
end

-- Ends hold `id` (its record `rec`): its seats go back, or are sold to its user.
local function end_hold(id, rec, sell, ver)
  local user, _, state, it = parse(rec)
  local n = count(it)
  if #it.seats == 0 then
    redis.call('HINCRBY', zones, 'h:' .. it.zone, -it.qty)
    redis.call('HSET', zones, 'v:' .. it.zone, ver)
  else
    set_seats(it.seats, 'a' .. ver)
  end
  redis.call('HDEL', holds, id)
  if state == 'h' then redis.call('ZREM', exp, id) end
  redis.call('HINCRBY', users, 'h:' .. user, -n)
  redis.call('HINCRBY', meta, 'held', -n)
  if sell then put_sold(user, it, ver) end
end

-- A fresh layout from ARGV[from..to]: seat ids, or zone name and capacity pairs.
local function init(ver, max, kind, from, to)
  redis.call('DEL', meta, order, seats, zones, holds, exp, users)
  local cap = 0
  if kind == 'r' then
    for i = from, to, 1000 do
      local last = math.min(i + 999, to)
      local names, args = {}, {}
      for j = i, last do
        names[#names + 1] = ARGV[j]
        args[#args + 1] = ARGV[j]
        args[#args + 1] = 'a' .. ver
      end
      redis.call('RPUSH', order, unpack(names))
      redis.call('HSET', seats, unpack(args))
    end
    cap = to - from + 1
  else
    for i = from, to, 2 do
      local z = ARGV[i]
      redis.call('RPUSH', order, z)
      redis.call('HSET', zones, 'c:' .. z, ARGV[i + 1], 'h:' .. z, 0, 's:' .. z, 0, 'v:' .. z, ver)
      cap = cap + tonumber(ARGV[i + 1])
    end
  end
  redis.call('HSET', meta, 'ver', ver, 'kind', kind, 'max', max, 'cap', cap, 'held', 0, 'sold', 0)
end
)lua";

// ARGV: version_base, max_per_user, kind, layout... Returns the version.
inline constexpr const char* load = R"lua(
local ver = math.max(num(redis.call('HGET', meta, 'ver')), tonumber(ARGV[1])) + 1
init(int(ver), ARGV[2], ARGV[3], 4, #ARGV)
return ver
)lua";

// ARGV: id, user, expires_ms, items.
inline constexpr const char* hold = R"lua(
local m = redis.call('HMGET', meta, 'max', 'ver')
if not m[1] then return {1} end
local it = items_at(4)
local code, list = check_hold(ARGV[1], ARGV[2], it, tonumber(m[1]))
if code then return {code, list or {}} end
local ver = int(tonumber(m[2]) + 1)
redis.call('HSET', meta, 'ver', ver)
put_hold(ARGV[1], ARGV[2], ARGV[3], 'h', it, ver)
return {0}
)lua";

// ARGV: id, r (release) or c (commit). Returns 1 when the hold ended here.
inline constexpr const char* end = R"lua(
local rec = redis.call('HGET', holds, ARGV[1])
if not rec then return 0 end
end_hold(ARGV[1], rec, ARGV[2] == 'c', bump())
return 1
)lua";

// ARGV: id. Returns the hold's record, pinned, or nil.
inline constexpr const char* pin = R"lua(
local rec = redis.call('HGET', holds, ARGV[1])
if not rec then return false end
local f = split(rec)
if f[3] == 'h' then
  f[3] = 'p'
  rec = table.concat(f, SEP)
  redis.call('HSET', holds, ARGV[1], rec)
  redis.call('ZREM', exp, ARGV[1])
  bump()
end
return rec
)lua";

// ARGV: user, items.
inline constexpr const char* mark_sold = R"lua(
if redis.call('EXISTS', meta) == 0 then return {1} end
local it = items_at(2)
local code, list = shape(it, false)
if not code then code, list = resolve(it) end
if not code then code, list = available(it) end
if code then return {code, list or {}} end
put_sold(ARGV[1], it, bump())
return {0}
)lua";

// ARGV: user, items. Returns 1 when the items were sold to the user and are available now.
inline constexpr const char* unsell = R"lua(
if redis.call('EXISTS', meta) == 0 then return 0 end
local user = ARGV[1]
local it = items_at(2)
if shape(it, false) or resolve(it) then return 0 end
if #it.seats == 0 then
  if num(redis.call('HGET', users, 'z:' .. user .. ':' .. it.zone)) < it.qty then return 0 end
else
  for i = 1, #it.seats do
    local v = it.vals[i]
    local colon = string.find(v, ':', 2, true)
    if string.sub(v, 1, 1) ~= 's' or string.sub(v, colon + 1) ~= user then return 0 end
  end
end
local ver = bump()
if #it.seats == 0 then
  redis.call('HINCRBY', zones, 's:' .. it.zone, -it.qty)
  redis.call('HSET', zones, 'v:' .. it.zone, ver)
  incr(users, 'z:' .. user .. ':' .. it.zone, -it.qty)
else
  set_seats(it.seats, 'a' .. ver)
end
incr(users, 's:' .. user, -count(it))
redis.call('HINCRBY', meta, 'sold', -count(it))
return 1
)lua";

// ARGV: now_ms, batch. Returns {id, record, id, record, ...} of the holds it ended.
inline constexpr const char* expire = R"lua(
local due = redis.call('ZRANGEBYSCORE', exp, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due == 0 then return {} end
local ver = bump()
local out = {}
for _, id in ipairs(due) do
  local rec = redis.call('HGET', holds, id)
  if rec then
    end_hold(id, rec, false, ver)
    out[#out + 1] = id
    out[#out + 1] = rec
  else
    redis.call('ZREM', exp, id)
  end
end
return out
)lua";

// Returns nil, or {version, kind, names, values}: the seats' values in layout order, or four
// values per zone (capacity, held, sold, version).
inline constexpr const char* snapshot = R"lua(
local m = redis.call('HMGET', meta, 'ver', 'kind')
if not m[1] then return false end
local names = redis.call('LRANGE', order, 0, -1)
local vals = {}
if m[2] == 'r' then
  for i = 1, #names, 1000 do
    local part = redis.call('HMGET', seats, unpack(names, i, math.min(i + 999, #names)))
    for j = 1, #part do vals[#vals + 1] = part[j] end
  end
else
  for _, z in ipairs(names) do
    local f = redis.call('HMGET', zones, 'c:' .. z, 'h:' .. z, 's:' .. z, 'v:' .. z)
    for j = 1, 4 do vals[#vals + 1] = f[j] or '' end
  end
end
return {m[1], m[2], names, vals}
)lua";

// Everything, for audit: meta, order, seats, zones, holds, exp (with scores), users.
inline constexpr const char* dump = R"lua(
return {redis.call('HGETALL', meta), redis.call('LRANGE', order, 0, -1),
        redis.call('HGETALL', seats), redis.call('HGETALL', zones),
        redis.call('HGETALL', holds), redis.call('ZRANGE', exp, 0, -1, 'WITHSCORES'),
        redis.call('HGETALL', users)}
)lua";

// ARGV: mode (a: only if absent, r: replace), version_base, version_floor, max_per_user, kind,
// n, n layout values, then the sold count and per entry `user, items`, then the hold count and
// per hold `id, user, expires_ms, state, items`. Returns {0} when the event was there (and
// mode is a), else {1, sold_refused, {refused hold ids}}.
inline constexpr const char* restore = R"lua(
if ARGV[1] == 'a' and redis.call('EXISTS', meta) == 1 then return {0} end
local ver = int(math.max(num(redis.call('HGET', meta, 'ver')), tonumber(ARGV[2]),
                         tonumber(ARGV[3])) + 1)
local max = tonumber(ARGV[4])
local nl = tonumber(ARGV[6])
init(ver, ARGV[4], ARGV[5], 7, 6 + nl)
local p = 7 + nl
local sold_refused = 0
local ns = tonumber(ARGV[p])
p = p + 1
for _ = 1, ns do
  local user = ARGV[p]
  local it
  it, p = items_at(p + 1)
  if #it.seats == 0 then
    local z = redis.call('HMGET', zones, 'c:' .. it.zone, 'h:' .. it.zone, 's:' .. it.zone)
    local fits = 0
    if z[1] and it.qty > 0 then
      fits = math.max(0, math.min(it.qty, num(z[1]) - num(z[2]) - num(z[3])))
    end
    if fits > 0 then put_sold(user, {zone = it.zone, qty = fits, seats = {}}, ver) end
    sold_refused = sold_refused + math.max(it.qty - fits, 0)
  else
    for _, s in ipairs(it.seats) do
      local v = redis.call('HGET', seats, s)
      if v and string.sub(v, 1, 1) == 'a' then
        put_sold(user, {zone = '', qty = 0, seats = {s}}, ver)
      else
        sold_refused = sold_refused + 1
      end
    end
  end
end
local refused = {}
local nh = tonumber(ARGV[p])
p = p + 1
for _ = 1, nh do
  local id, user, exp_ms, state = ARGV[p], ARGV[p + 1], ARGV[p + 2], ARGV[p + 3]
  local it
  it, p = items_at(p + 4)
  if check_hold(id, user, it, max) then
    refused[#refused + 1] = id
  else
    put_hold(id, user, exp_ms, state, it, ver)
  end
end
return {1, sold_refused, refused}
)lua";

inline std::string with_prelude(const char* body) {
    return std::string(prelude) + body;
}

}  // namespace tkt::inventory::detail::redis_scripts
