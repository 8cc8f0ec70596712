#include "waiting_room/redis_waiting_room.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "common/log.hpp"

namespace tkt::waiting_room {
namespace {

using boost::asio::awaitable;

// Every script starts with this: the keys by name (the order of redis_waiting_room::keys) and
// the helpers the rules share.
constexpr const char* prelude = R"lua(
local meta, seqs, waiting, pre, admitted, away, streams, holds =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local function num(v) return tonumber(v) or 0 end
local function unlisted()
  if redis.call('HGET', meta, 'listed') then return 0 end
  return 1
end
local function create()
  if redis.call('EXISTS', meta) == 0 then
    redis.call('HSET', meta, 'open', 0, 'head', 0, 'last_seq', 0)
  end
end
-- {where (0 pre-queue, 1 waiting, 2 admitted), seq, head, admitted_until, created, unlisted}
-- of a member already in the room; `m` is HMGET meta head listed.
local function ticket_of(u, seq, m)
  local head, unl = num(m[1]), 1
  if m[2] then unl = 0 end
  if seq == 0 then return {0, 0, head, 0, 0, unl} end
  local untl = redis.call('ZSCORE', admitted, u)
  if untl then return {2, seq, head, tonumber(untl), 0, unl} end
  return {1, seq, head, 0, 0, unl}
end
local function ticket(u, seq)
  return ticket_of(u, seq, redis.call('HMGET', meta, 'head', 'listed'))
end
-- Seen now: only the absent are timed (the admitted and those with a stream open are not).
local function touch(u, now) redis.call('ZADD', away, 'XX', now, u) end
local function remove(u)
  redis.call('HDEL', seqs, u)
  redis.call('ZREM', waiting, u)
  redis.call('ZREM', pre, u)
  redis.call('ZREM', admitted, u)
  redis.call('ZREM', away, u)
  redis.call('HDEL', streams, u)
  redis.call('HDEL', holds, u)
end
local function is_admitted(u, seq, now)
  local s = redis.call('HGET', seqs, u)
  if not s or tonumber(s) ~= tonumber(seq) then return false end
  local untl = redis.call('ZSCORE', admitted, u)
  return untl and tonumber(untl) > tonumber(now)
end
)lua";

// ARGV: user, now. The hot path: a new member costs six calls.
constexpr const char* join_source = R"lua(
local u, now = ARGV[1], ARGV[2]
local m = redis.call('HMGET', meta, 'head', 'listed', 'open')
local seq = redis.call('HGET', seqs, u)
if seq then
  touch(u, now)
  return ticket_of(u, tonumber(seq), m)
end
local s, where = 0, 0
if m[3] == '1' then
  s = redis.call('HINCRBY', meta, 'last_seq', 1)
  where = 1
  redis.call('ZADD', waiting, s, u)
else
  if not m[3] then redis.call('HSET', meta, 'open', 0, 'head', 0, 'last_seq', 0) end
  redis.call('ZADD', pre, redis.call('HINCRBY', meta, 'pre_n', 1), u)
end
redis.call('HSET', seqs, u, s)
redis.call('ZADD', away, now, u)
local unl = 1
if m[2] then unl = 0 end
return {where, s, num(m[1]), 0, 1, unl}
)lua";

// ARGV: user, now. nil when not in the room.
constexpr const char* status_source = R"lua(
local seq = redis.call('HGET', seqs, ARGV[1])
if not seq then return false end
touch(ARGV[1], ARGV[2])
return ticket(ARGV[1], tonumber(seq))
)lua";

// ARGV: user. The seq the user had, -1 when not in the room.
constexpr const char* leave_source = R"lua(
local seq = redis.call('HGET', seqs, ARGV[1])
if not seq then return -1 end
remove(ARGV[1])
return tonumber(seq)
)lua";

// ARGV: user, now.
constexpr const char* attach_source = R"lua(
if redis.call('HEXISTS', seqs, ARGV[1]) == 0 then return 0 end
redis.call('ZREM', away, ARGV[1])
return redis.call('HINCRBY', streams, ARGV[1], 1)
)lua";

// ARGV: user, now.
constexpr const char* detach_source = R"lua(
local u = ARGV[1]
local n = num(redis.call('HGET', streams, u))
if n == 0 or redis.call('HEXISTS', seqs, u) == 0 then return 0 end
if n > 1 then return redis.call('HINCRBY', streams, u, -1) end
redis.call('HDEL', streams, u)
if not redis.call('ZSCORE', admitted, u) then redis.call('ZADD', away, ARGV[2], u) end
return 0
)lua";

// ARGV: seed in 1..2^31-2. {unlisted, user, seq, user, seq, ...}; no pairs when it was open.
constexpr const char* open_source = R"lua(
create()
if redis.call('HGET', meta, 'open') == '1' then return {unlisted()} end
redis.call('HSET', meta, 'open', 1)
local users = redis.call('ZRANGE', pre, 0, -1)
local x = tonumber(ARGV[1])
for i = #users, 2, -1 do
  x = (x * 48271) % 2147483647
  local j = (x % i) + 1
  users[i], users[j] = users[j], users[i]
end
local last = num(redis.call('HGET', meta, 'last_seq'))
local out = {unlisted()}
for i = 1, #users do
  last = last + 1
  redis.call('HSET', seqs, users[i], last)
  redis.call('ZADD', waiting, last, users[i])
  out[#out + 1] = users[i]
  out[#out + 1] = last
end
redis.call('HSET', meta, 'last_seq', last)
redis.call('DEL', pre)
return out
)lua";

// ARGV: now, admit_per_second, max_active, entry_ttl (ms), grace (ms).
// {head_before, head, {user, seq, until, ...} admitted, {user, seq, ...} removed}
constexpr const char* tick_source = R"lua(
if redis.call('EXISTS', meta) == 0 then return {0, 0, {}, {}} end
local now = tonumber(ARGV[1])
local rate = math.max(tonumber(ARGV[2]), 0)
local max_active, ttl, grace = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local m = redis.call('HMGET', meta, 'open', 'head', 'last_seq', 'allowance', 'last_tick')
local head = num(m[2])
local head_before = head
local removed = {}
local function sweep(zset, cutoff)
  for _, u in ipairs(redis.call('ZRANGEBYSCORE', zset, '-inf', cutoff)) do
    removed[#removed + 1] = u
    removed[#removed + 1] = num(redis.call('HGET', seqs, u))
    remove(u)
  end
end
sweep(admitted, now)
sweep(away, now - grace)
local got = {}
if m[1] == '1' then
  local last_seq = num(m[3])
  -- What was not used since the last tick is banked only up to a little (room.cpp).
  local allowance = math.min(num(m[4]), math.max(1.0, rate * 0.2))
  if m[5] and now > tonumber(m[5]) then
    allowance = allowance + rate * (now - tonumber(m[5])) / 1000
  end
  local room_left = math.max(0, max_active - redis.call('ZCARD', admitted))
  local n = math.min(room_left, math.floor(allowance + 1e-9))
  if n > 0 and head < last_seq then
    local next = redis.call('ZRANGEBYSCORE', waiting, '(' .. head, '+inf', 'WITHSCORES',
                            'LIMIT', 0, n)
    for i = 1, #next, 2 do
      local u, s = next[i], tonumber(next[i + 1])
      redis.call('ZREM', waiting, u)
      redis.call('ZREM', away, u)
      redis.call('ZADD', admitted, now + ttl, u)
      allowance = allowance - 1
      head = s
      got[#got + 1] = u
      got[#got + 1] = s
      got[#got + 1] = now + ttl
    end
    redis.call('HINCRBY', meta, 'admitted_total', #got / 3)
  end
  -- Seqs of users who left, up to the next one waiting, cost nothing.
  if head < last_seq then
    local after = redis.call('ZRANGEBYSCORE', waiting, '(' .. head, '+inf', 'WITHSCORES',
                             'LIMIT', 0, 1)
    if #after == 0 then head = last_seq else head = tonumber(after[2]) - 1 end
  end
  redis.call('HSET', meta, 'head', head, 'allowance', string.format('%.17g', allowance))
end
if not m[5] or now > tonumber(m[5]) then redis.call('HSET', meta, 'last_tick', ARGV[1]) end
return {head_before, head, got, removed}
)lua";

// ARGV: user, seq, now. 1 when admitted.
constexpr const char* admitted_source = R"lua(
if is_admitted(ARGV[1], ARGV[2], ARGV[3]) then return 1 end
return 0
)lua";

// ARGV: user, seq, hold, now. 1 when recorded.
constexpr const char* use_source = R"lua(
if not is_admitted(ARGV[1], ARGV[2], ARGV[4]) then return 0 end
local h = redis.call('HGET', holds, ARGV[1])
local list = {}
if h then list = cjson.decode(h) end
list[#list + 1] = ARGV[3]
redis.call('HSET', holds, ARGV[1], cjson.encode(list))
return 1
)lua";

// {user, hold, user, hold, ...}
constexpr const char* holds_in_use_source = R"lua(
local all = redis.call('HGETALL', holds)
local out = {}
for i = 1, #all, 2 do
  for _, h in ipairs(cjson.decode(all[i + 1])) do
    out[#out + 1] = all[i]
    out[#out + 1] = h
  end
end
return out
)lua";

// ARGV: user, hold, user, hold, ... {user, seq, ...} of those whose slot ended.
constexpr const char* holds_ended_source = R"lua(
local out = {}
for i = 1, #ARGV, 2 do
  local u, hold = ARGV[i], ARGV[i + 1]
  local s = redis.call('HGET', seqs, u)
  local h = redis.call('HGET', holds, u)
  if s and h and redis.call('ZSCORE', admitted, u) then
    local list = cjson.decode(h)
    local keep = {}
    for _, x in ipairs(list) do
      if x ~= hold then keep[#keep + 1] = x end
    end
    if #list > 0 and #keep == 0 then
      out[#out + 1] = u
      out[#out + 1] = tonumber(s)
      remove(u)
    elseif #keep < #list then
      redis.call('HSET', holds, u, cjson.encode(keep))
    end
  end
end
return out
)lua";

// nil, or {open, head, last_seq, waiting, pre_queue, active, admitted_total}
constexpr const char* stats_source = R"lua(
if redis.call('EXISTS', meta) == 0 then return false end
local m = redis.call('HMGET', meta, 'open', 'head', 'last_seq', 'admitted_total')
return {num(m[1]), num(m[2]), num(m[3]), redis.call('ZCARD', waiting),
        redis.call('ZCARD', pre), redis.call('ZCARD', admitted), num(m[4])}
)lua";

// ARGV: max_active. One line per broken invariant (room::audit's, and the indexes' agreement).
constexpr const char* audit_source = R"lua(
local out = {}
local function bad(...) out[#out + 1] = string.format(...) end
if redis.call('EXISTS', meta) == 0 then return out end
local m = redis.call('HMGET', meta, 'open', 'head', 'last_seq')
local open, head, last_seq = m[1] == '1', num(m[2]), num(m[3])
local max_active = tonumber(ARGV[1])
if head > last_seq then bad('head %d past the last seq %d', head, last_seq) end
local all = redis.call('HGETALL', seqs)
local by_seq = {}
local members, n_pre, n_admitted, n_away, n_waiting = 0, 0, 0, 0, 0
for i = 1, #all, 2 do
  local u, s = all[i], tonumber(all[i + 1])
  members = members + 1
  local untl = redis.call('ZSCORE', admitted, u)
  local at = redis.call('ZSCORE', away, u)
  local open_streams = num(redis.call('HGET', streams, u))
  if s == 0 then
    n_pre = n_pre + 1
    if open then bad('user %s in the pre-queue of an open room', u) end
    if not redis.call('ZSCORE', pre, u) then bad('user %s of the pre-queue is not in it', u) end
    if untl then bad('user %s admitted from the pre-queue', u) end
  elseif s < 1 or s > last_seq then
    bad('user %s has seq %d outside 1..%d', u, s, last_seq)
  else
    if by_seq[s] then bad('seq %d given twice', s) end
    by_seq[s] = u
    if untl then
      n_admitted = n_admitted + 1
      if s > head then bad('user %s admitted with seq %d past the head %d', u, s, head) end
      if redis.call('ZSCORE', waiting, u) then bad('admitted user %s is still in line', u) end
    else
      n_waiting = n_waiting + 1
      local ws = redis.call('ZSCORE', waiting, u)
      if not ws or tonumber(ws) ~= s then bad('user %s is not in line under seq %d', u, s) end
      if s <= head then bad('user %s waits with seq %d the head %d passed', u, s, head) end
    end
  end
  if untl then
    if at then bad('admitted user %s is under the grace sweep', u) end
  elseif open_streams == 0 then
    n_away = n_away + 1
    if not at then bad('absent user %s is not under the grace sweep', u) end
  elseif at then
    bad('user %s with a stream open is under the grace sweep', u)
  end
end
local active = redis.call('ZCARD', admitted)
if active ~= n_admitted then bad('%d expiries for %d admitted', active, n_admitted) end
if n_admitted > max_active then
  bad('%d admitted, more than maxActive %d', n_admitted, max_active)
end
local p = redis.call('ZCARD', pre)
if p ~= n_pre then bad('%d in the pre-queue, %d counted', p, n_pre) end
local a = redis.call('ZCARD', away)
if a ~= n_away then bad('%d under the grace sweep, %d absent', a, n_away) end
local w = redis.call('ZCARD', waiting)
if w ~= n_waiting then bad('%d in line, %d waiting', w, n_waiting) end
local st = redis.call('HGETALL', streams)
for i = 1, #st, 2 do
  if not redis.call('HGET', seqs, st[i]) then bad('streams of user %s, not in the room', st[i]) end
end
local hs = redis.call('HKEYS', holds)
for _, u in ipairs(hs) do
  if not redis.call('ZSCORE', admitted, u) then bad('holds of user %s, not admitted', u) end
end
return out
)lua";

// nil, or {open, head, last_seq, user, seq, until (-1: not admitted), ...}; the pre-queue last,
// in join order.
constexpr const char* save_source = R"lua(
if redis.call('EXISTS', meta) == 0 then return false end
local m = redis.call('HMGET', meta, 'open', 'head', 'last_seq')
local out = {num(m[1]), num(m[2]), num(m[3])}
local all = redis.call('HGETALL', seqs)
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) > 0 then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
    out[#out + 1] = redis.call('ZSCORE', admitted, all[i]) or -1
  end
end
for _, u in ipairs(redis.call('ZRANGE', pre, 0, -1)) do
  out[#out + 1] = u
  out[#out + 1] = 0
  out[#out + 1] = -1
end
return out
)lua";

// ARGV: only_if_absent (0/1), now, open, head, last_seq, then user, seq, until (-1: not
// admitted) per member. {restored, unlisted}
constexpr const char* restore_source = R"lua(
if ARGV[1] == '1' and redis.call('EXISTS', meta) == 1 then return {0, 0} end
redis.call('DEL', meta, seqs, waiting, pre, admitted, away, streams, holds)
local now = ARGV[2]
local last_seq = tonumber(ARGV[5])
local pre_n = 0
for i = 6, #ARGV, 3 do
  local u, s, untl = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  redis.call('HSET', seqs, u, s)
  if s > last_seq then last_seq = s end
  if untl ~= '-1' then
    redis.call('ZADD', admitted, untl, u)
  else
    if s == 0 then
      pre_n = pre_n + 1
      redis.call('ZADD', pre, pre_n, u)
    else
      redis.call('ZADD', waiting, s, u)
    end
    redis.call('ZADD', away, now, u)
  end
end
redis.call('HSET', meta, 'open', ARGV[3], 'head', ARGV[4], 'last_seq', last_seq, 'pre_n', pre_n)
return {1, 1}
)lua";

constexpr const char* drop_source = R"lua(
return redis.call('DEL', meta, seqs, waiting, pre, admitted, away, streams, holds)
)lua";

constexpr const char* listed_source = R"lua(
if redis.call('EXISTS', meta) == 0 then return 0 end
redis.call('HSET', meta, 'listed', 1)
return 1
)lua";

std::string with_prelude(const char* body) {
    return std::string(prelude) + body;
}

std::int64_t unix_ms(time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

time_point from_unix_ms(std::int64_t ms) {
    return time_point{std::chrono::milliseconds{ms}};
}

[[noreturn]] void unexpected_reply(const char* what, const redis::reply& r) {
    throw std::runtime_error(std::string("redis waiting room: ") + what + ": unexpected reply " +
                             redis::to_debug_string(r));
}

// An integer reply, or a string holding one (a user id, a score written as an integer).
std::int64_t as_int(const redis::reply& r, const char* what) {
    if (r.kind == redis::reply_kind::integer) return r.integer;
    if (r.is_string()) {
        std::int64_t n = 0;
        const auto* end = r.text.data() + r.text.size();
        auto [p, ec] = std::from_chars(r.text.data(), end, n);
        if (ec == std::errc{} && p == end) return n;
        // A score Redis wrote as a double ("1.8e+12"): whole milliseconds all the same.
        double d = 0;
        auto [q, ec2] = std::from_chars(r.text.data(), end, d);
        if (ec2 == std::errc{} && q == end) return static_cast<std::int64_t>(std::llround(d));
    }
    unexpected_reply(what, r);
}

const std::vector<redis::reply>& as_array(const redis::reply& r, const char* what,
                                          std::size_t min_size = 0) {
    if (!r.is_array() || r.elements.size() < min_size) unexpected_reply(what, r);
    return r.elements;
}

// The join and status scripts' ticket: {where, seq, head, until, created, unlisted}.
ticket ticket_of(const redis::reply& r) {
    const auto& v = as_array(r, "ticket", 6);
    ticket t;
    switch (as_int(v[0], "ticket")) {
        case 0:
            t.where = place::pre_queue;
            break;
        case 2:
            t.where = place::admitted;
            t.admitted_until = from_unix_ms(as_int(v[3], "ticket"));
            break;
        default:
            t.where = place::waiting;
            break;
    }
    t.seq = as_int(v[1], "ticket");
    t.head = as_int(v[2], "ticket");
    t.created = as_int(v[4], "ticket") != 0;
    return t;
}

bool unlisted_in(const redis::reply& r, std::size_t index) {
    return as_int(as_array(r, "unlisted", index + 1)[index], "unlisted") != 0;
}

}  // namespace

redis_waiting_room::redis_waiting_room(redis::client& client)
    : client_(client),
      join_(with_prelude(join_source)),
      status_(with_prelude(status_source)),
      leave_(with_prelude(leave_source)),
      attach_(with_prelude(attach_source)),
      detach_(with_prelude(detach_source)),
      open_(with_prelude(open_source)),
      tick_(with_prelude(tick_source)),
      admitted_(with_prelude(admitted_source)),
      use_(with_prelude(use_source)),
      holds_in_use_(with_prelude(holds_in_use_source)),
      holds_ended_(with_prelude(holds_ended_source)),
      stats_(with_prelude(stats_source)),
      audit_(with_prelude(audit_source)),
      save_(with_prelude(save_source)),
      restore_(with_prelude(restore_source)),
      drop_(with_prelude(drop_source)),
      listed_(with_prelude(listed_source)) {}

std::vector<std::string> redis_waiting_room::keys(event_id e) {
    const std::string room = "{q:" + std::to_string(e) + "}";
    return {room,           room + ":seq",     room + ":waiting", room + ":pre", room + ":admitted",
            room + ":away", room + ":streams", room + ":holds"};
}

std::string redis_waiting_room::rooms_key() {
    return "q:rooms";
}

awaitable<redis::reply> redis_waiting_room::run(const redis::script& s, event_id e,
                                                const std::vector<std::string>& args,
                                                const char* what) {
    const auto k = keys(e);
    auto r = co_await client_.eval(s, k, args);
    if (!r) {
        throw unavailable(std::string("redis waiting room: ") + what + ": " + r.error().message);
    }
    co_return std::move(*r);
}

awaitable<void> redis_waiting_room::list(event_id e) {
    const auto add = redis::command::of("SADD", rooms_key(), e);
    auto added = co_await client_.exec(add);
    if (!added) {
        throw unavailable("redis waiting room: listing the room: " + added.error().message);
    }
    const std::vector<std::string> none;
    co_await run(listed_, e, none, "listed");
}

awaitable<ticket> redis_waiting_room::join(event_id e, user_id u, time_point now) {
    const std::vector<std::string> args{std::to_string(u), std::to_string(unix_ms(now))};
    auto r = co_await run(join_, e, args, "join");
    auto t = ticket_of(r);
    if (unlisted_in(r, 5)) co_await list(e);
    co_return t;
}

awaitable<std::optional<ticket>> redis_waiting_room::status(event_id e, user_id u, time_point now) {
    const std::vector<std::string> args{std::to_string(u), std::to_string(unix_ms(now))};
    auto r = co_await run(status_, e, args, "status");
    if (r.is_null()) co_return std::nullopt;
    co_return ticket_of(r);
}

awaitable<std::optional<seq_t>> redis_waiting_room::leave(event_id e, user_id u) {
    const std::vector<std::string> args{std::to_string(u)};
    auto r = co_await run(leave_, e, args, "leave");
    const auto seq = as_int(r, "leave");
    if (seq < 0) co_return std::nullopt;
    co_return seq;
}

awaitable<void> redis_waiting_room::attach(event_id e, user_id u, time_point now) {
    const std::vector<std::string> args{std::to_string(u), std::to_string(unix_ms(now))};
    co_await run(attach_, e, args, "attach");
}

awaitable<void> redis_waiting_room::detach(event_id e, user_id u, time_point now) {
    const std::vector<std::string> args{std::to_string(u), std::to_string(unix_ms(now))};
    co_await run(detach_, e, args, "detach");
}

awaitable<std::vector<std::pair<user_id, seq_t>>> redis_waiting_room::open(event_id e,
                                                                           std::uint64_t seed) {
    // Park–Miller's state is 1..2^31-2.
    const std::vector<std::string> args{std::to_string(seed % 2147483646u + 1)};
    auto r = co_await run(open_, e, args, "open");
    const auto& v = as_array(r, "open", 1);
    std::vector<std::pair<user_id, seq_t>> drawn;
    drawn.reserve(v.size() / 2);
    for (std::size_t i = 1; i + 1 < v.size(); i += 2)
        drawn.emplace_back(as_int(v[i], "open"), as_int(v[i + 1], "open"));
    if (unlisted_in(r, 0)) co_await list(e);
    co_return drawn;
}

awaitable<tick_outcome> redis_waiting_room::tick(event_id e, time_point now, room_settings s) {
    const std::vector<std::string> args{
        std::to_string(unix_ms(now)), std::to_string(s.admit_per_second),
        std::to_string(s.max_active),
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(s.entry_ttl).count()),
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(s.grace).count())};
    auto r = co_await run(tick_, e, args, "tick");
    const auto& v = as_array(r, "tick", 4);
    tick_outcome out;
    out.head_before = as_int(v[0], "tick");
    out.head = as_int(v[1], "tick");
    const auto& got = as_array(v[2], "tick");
    out.admitted.reserve(got.size() / 3);
    for (std::size_t i = 0; i + 2 < got.size(); i += 3) {
        out.admitted.push_back(admission{.user = as_int(got[i], "tick"),
                                         .seq = as_int(got[i + 1], "tick"),
                                         .until = from_unix_ms(as_int(got[i + 2], "tick"))});
    }
    const auto& removed = as_array(v[3], "tick");
    out.removed.reserve(removed.size() / 2);
    for (std::size_t i = 0; i + 1 < removed.size(); i += 2)
        out.removed.push_back({as_int(removed[i], "tick"), as_int(removed[i + 1], "tick")});
    co_return out;
}

awaitable<bool> redis_waiting_room::admitted(event_id e, user_id u, seq_t seq, time_point now) {
    const std::vector<std::string> args{std::to_string(u), std::to_string(seq),
                                        std::to_string(unix_ms(now))};
    auto r = co_await run(admitted_, e, args, "admitted");
    co_return as_int(r, "admitted") != 0;
}

awaitable<bool> redis_waiting_room::use(event_id e, user_id u, seq_t seq, std::string hold,
                                        time_point now) {
    const std::vector<std::string> args{std::to_string(u), std::to_string(seq), std::move(hold),
                                        std::to_string(unix_ms(now))};
    auto r = co_await run(use_, e, args, "use");
    co_return as_int(r, "use") != 0;
}

awaitable<std::vector<std::pair<user_id, std::string>>> redis_waiting_room::holds_in_use(
    event_id e) {
    const std::vector<std::string> none;
    auto r = co_await run(holds_in_use_, e, none, "holds_in_use");
    const auto& v = as_array(r, "holds_in_use");
    std::vector<std::pair<user_id, std::string>> out;
    out.reserve(v.size() / 2);
    for (std::size_t i = 0; i + 1 < v.size(); i += 2) {
        if (!v[i + 1].is_string()) unexpected_reply("holds_in_use", r);
        out.emplace_back(as_int(v[i], "holds_in_use"), v[i + 1].text);
    }
    co_return out;
}

awaitable<std::vector<departure>> redis_waiting_room::holds_ended(
    event_id e, std::vector<std::pair<user_id, std::string>> ended) {
    std::vector<departure> freed;
    if (ended.empty()) co_return freed;
    std::vector<std::string> args;
    args.reserve(ended.size() * 2);
    for (auto& [u, hold] : ended) {
        args.push_back(std::to_string(u));
        args.push_back(std::move(hold));
    }
    auto r = co_await run(holds_ended_, e, args, "holds_ended");
    const auto& v = as_array(r, "holds_ended");
    for (std::size_t i = 0; i + 1 < v.size(); i += 2)
        freed.push_back({as_int(v[i], "holds_ended"), as_int(v[i + 1], "holds_ended")});
    co_return freed;
}

awaitable<std::optional<room_stats>> redis_waiting_room::stats(event_id e) {
    const std::vector<std::string> none;
    auto r = co_await run(stats_, e, none, "stats");
    if (r.is_null()) co_return std::nullopt;
    const auto& v = as_array(r, "stats", 7);
    co_return room_stats{.open = as_int(v[0], "stats") != 0,
                         .head = as_int(v[1], "stats"),
                         .last_seq = as_int(v[2], "stats"),
                         .waiting = as_int(v[3], "stats"),
                         .pre_queue = as_int(v[4], "stats"),
                         .active = as_int(v[5], "stats"),
                         .admitted_total = as_int(v[6], "stats")};
}

awaitable<std::vector<std::string>> redis_waiting_room::audit(event_id e, std::int32_t max_active) {
    const std::vector<std::string> args{std::to_string(max_active)};
    auto r = co_await run(audit_, e, args, "audit");
    std::vector<std::string> out;
    for (const auto& line : as_array(r, "audit")) {
        if (!line.is_string()) unexpected_reply("audit", r);
        out.push_back(line.text);
    }
    co_return out;
}

awaitable<std::vector<event_id>> redis_waiting_room::rooms() {
    const auto members = redis::command::of("SMEMBERS", rooms_key());
    auto r = co_await client_.exec(members);
    if (!r) throw unavailable("redis waiting room: rooms: " + r.error().message);
    std::vector<event_id> out;
    for (const auto& e : as_array(*r, "rooms")) out.push_back(as_int(e, "rooms"));
    co_return out;
}

awaitable<void> redis_waiting_room::drop(event_id e) {
    const std::vector<std::string> none;
    co_await run(drop_, e, none, "drop");
    const auto remove = redis::command::of("SREM", rooms_key(), e);
    auto removed = co_await client_.exec(remove);
    if (!removed) throw unavailable("redis waiting room: drop: " + removed.error().message);
}

awaitable<std::optional<saved_room>> redis_waiting_room::save(event_id e) {
    const std::vector<std::string> none;
    auto r = co_await run(save_, e, none, "save");
    if (r.is_null()) co_return std::nullopt;
    const auto& v = as_array(r, "save", 3);
    saved_room out{.open = as_int(v[0], "save") != 0,
                   .head = as_int(v[1], "save"),
                   .last_seq = as_int(v[2], "save"),
                   .members = {}};
    out.members.reserve((v.size() - 3) / 3);
    for (std::size_t i = 3; i + 2 < v.size(); i += 3) {
        saved_member m{.user = as_int(v[i], "save"),
                       .seq = as_int(v[i + 1], "save"),
                       .admitted_until = std::nullopt};
        if (const auto until = as_int(v[i + 2], "save"); until >= 0)
            m.admitted_until = from_unix_ms(until);
        out.members.push_back(m);
    }
    co_return out;
}

awaitable<bool> redis_waiting_room::restore(event_id e, saved_room saved, time_point now,
                                            restore_mode mode) {
    std::vector<std::string> args;
    args.reserve(5 + saved.members.size() * 3);
    args.push_back(mode == restore_mode::only_if_absent ? "1" : "0");
    args.push_back(std::to_string(unix_ms(now)));
    args.push_back(saved.open ? "1" : "0");
    args.push_back(std::to_string(saved.head));
    args.push_back(std::to_string(saved.last_seq));
    for (const auto& m : saved.members) {
        args.push_back(std::to_string(m.user));
        args.push_back(std::to_string(m.seq));
        args.push_back(m.admitted_until ? std::to_string(unix_ms(*m.admitted_until)) : "-1");
    }
    auto r = co_await run(restore_, e, args, "restore");
    const auto& v = as_array(r, "restore", 2);
    const bool restored = as_int(v[0], "restore") != 0;
    if (unlisted_in(r, 1)) co_await list(e);
    co_return restored;
}

}  // namespace tkt::waiting_room
