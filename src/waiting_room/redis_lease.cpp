#include "waiting_room/redis_lease.hpp"

#include <algorithm>
#include <vector>

#include "common/log.hpp"

namespace tkt::waiting_room {
namespace {

// KEYS: lease, fence. ARGV: owner, now (unix ms), ttl (ms). Returns the token, or 0.
constexpr const char* acquire_source = R"lua(
local held = redis.call('HMGET', KEYS[1], 'owner', 'until', 'token')
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local live = held[1] and tonumber(held[2]) > now
if live and held[1] ~= ARGV[1] then return 0 end
local token
if live then
  token = held[3]
else
  token = tostring(redis.call('INCR', KEYS[2]))
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'until', string.format('%.0f', now + ttl),
           'token', token)
redis.call('PEXPIRE', KEYS[1], ttl)
return tonumber(token)
)lua";

// KEYS: lease. ARGV: owner. Returns 1 when it was the owner's and is gone.
constexpr const char* release_source = R"lua(
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
)lua";

std::int64_t unix_ms(time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

redis_lease::redis_lease(redis::client& client)
    : client_(client), acquire_(acquire_source), release_(release_source) {}

std::string redis_lease::key(std::string_view name) {
    return "{lease:" + std::string(name) + "}";
}

std::string redis_lease::fence_key(std::string_view name) {
    return key(name) + ":fence";
}

boost::asio::awaitable<bool> redis_lease::acquire(std::string name, std::string owner,
                                                  std::chrono::milliseconds ttl, time_point now) {
    auto op = acquire_fenced(std::move(name), std::move(owner), ttl, now);
    auto token = co_await std::move(op);
    co_return token.has_value();
}

boost::asio::awaitable<std::optional<std::uint64_t>> redis_lease::acquire_fenced(
    std::string name, std::string owner, std::chrono::milliseconds ttl, time_point now) {
    const auto ttl_ms = std::max<std::int64_t>(ttl.count(), 1);
    std::vector<std::string> keys;
    keys.push_back(key(name));
    keys.push_back(fence_key(name));
    std::vector<std::string> args;
    args.push_back(owner);
    args.push_back(std::to_string(unix_ms(now)));
    args.push_back(std::to_string(ttl_ms));
    auto r = co_await client_.eval(acquire_, keys, args);
    if (!r) {
        log::warn("lease.acquire_failed", {{"lease", name}, {"error", r.error().message}});
        co_return std::nullopt;
    }
    if (r->kind != redis::reply_kind::integer) {
        log::error("lease.acquire_failed", {{"lease", name}, {"error", "unexpected reply"}});
        co_return std::nullopt;
    }
    if (r->integer <= 0) co_return std::nullopt;
    co_return static_cast<std::uint64_t>(r->integer);
}

boost::asio::awaitable<void> redis_lease::release(std::string name, std::string owner) {
    std::vector<std::string> keys;
    keys.push_back(key(name));
    std::vector<std::string> args;
    args.push_back(owner);
    auto r = co_await client_.eval(release_, keys, args);
    if (!r) log::warn("lease.release_failed", {{"lease", name}, {"error", r.error().message}});
}

}  // namespace tkt::waiting_room
