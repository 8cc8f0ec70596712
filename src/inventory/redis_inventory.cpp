#include "inventory/redis_inventory.hpp"

#include <charconv>
#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "inventory/detail/redis_audit.hpp"
#include "inventory/detail/redis_scripts.hpp"

namespace tkt::inventory {

namespace scripts = detail::redis_scripts;
using redis::reply;
using redis::reply_kind;

namespace {

std::int64_t unix_ms(time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string event_tag(event_id e) {
    return fmt::format("{{e:{}}}", e);
}

[[noreturn]] void malformed(std::string_view what, const reply& r) {
    throw unavailable(fmt::format("inventory {}: unexpected reply from Redis: {}", what,
                                  redis::to_debug_string(r)));
}

const reply& element(const reply& r, std::size_t i, std::string_view what) {
    if (!r.is_array() || r.elements.size() <= i) malformed(what, r);
    return r.elements[i];
}

// Items as the scripts take them: zone, quantity, n, seats.
void append_items(std::vector<std::string>& args, const hold_items& items) {
    args.push_back(items.zone);
    args.push_back(std::to_string(items.quantity));
    args.push_back(std::to_string(items.seats.size()));
    args.insert(args.end(), items.seats.begin(), items.seats.end());
}

std::vector<std::string> layout_values(const layout& l) {
    std::vector<std::string> values;
    if (!l.zones.empty()) {
        values.reserve(l.zones.size() * 2);
        for (const auto& z : l.zones) {
            values.push_back(z.name);
            values.push_back(std::to_string(z.capacity));
        }
        return values;
    }
    return l.seats;
}

const char* kind_of(const layout& l) {
    return l.zones.empty() ? "r" : "g";
}

hold_failure failure_of(const reply& r) {
    hold_failure f;
    f.code = static_cast<hold_error>(element(r, 0, "hold").integer - 1);
    if (r.elements.size() > 1) {
        for (const auto& s : r.elements[1].elements) f.seats.push_back(s.text);
    }
    return f;
}

}  // namespace

redis_inventory::redis_inventory(redis::client& client, std::uint64_t version_base)
    : client_(client),
      version_base_(version_base),
      load_(scripts::with_prelude(scripts::load)),
      restore_(scripts::with_prelude(scripts::restore)),
      hold_(scripts::with_prelude(scripts::hold)),
      end_(scripts::with_prelude(scripts::end)),
      pin_(scripts::with_prelude(scripts::pin)),
      mark_sold_(scripts::with_prelude(scripts::mark_sold)),
      unsell_(scripts::with_prelude(scripts::unsell)),
      expire_(scripts::with_prelude(scripts::expire)),
      snapshot_(scripts::with_prelude(scripts::snapshot)),
      dump_(scripts::with_prelude(scripts::dump)) {}

std::vector<std::string> redis_inventory::keys_of(event_id e) {
    const auto tag = event_tag(e);
    return {tag + ":meta",  tag + ":order", tag + ":seats", tag + ":zones",
            tag + ":holds", tag + ":exp",   tag + ":users"};
}

boost::asio::awaitable<reply> redis_inventory::run(const redis::script& s, event_id e,
                                                   std::vector<std::string> args,
                                                   std::string_view what) {
    const auto keys = keys_of(e);
    auto r = co_await client_.eval(s, keys, args);
    if (!r) {
        throw unavailable(fmt::format("inventory {} (event {}): redis {}: {}", what, e,
                                      redis::to_string(r.error().code), r.error().message));
    }
    co_return std::move(*r);
}

boost::asio::awaitable<reply> redis_inventory::exec(redis::command c, std::string_view what) {
    auto r = co_await client_.exec(c);
    if (!r) {
        throw unavailable(fmt::format("inventory {}: redis {}: {}", what,
                                      redis::to_string(r.error().code), r.error().message));
    }
    co_return std::move(*r);
}

boost::asio::awaitable<void> redis_inventory::remember(event_id e) {
    auto op = exec(redis::command::of("SADD", events_key, e), "load");
    co_await std::move(op);
    std::lock_guard lock(known_mutex_);
    known_.insert(e);
}

boost::asio::awaitable<std::vector<event_id>> redis_inventory::known_events() {
    auto op = exec(redis::command::of("SMEMBERS", events_key), "expire");
    const auto members = co_await std::move(op);
    std::set<event_id> all;
    {
        std::lock_guard lock(known_mutex_);
        all = known_;
    }
    for (const auto& m : members.elements) {
        event_id e = 0;
        const auto* end = m.text.data() + m.text.size();
        if (std::from_chars(m.text.data(), end, e).ptr == end) all.insert(e);
    }
    co_return std::vector<event_id>(all.begin(), all.end());
}

boost::asio::awaitable<void> redis_inventory::load(layout l) {
    const event_id e = l.event;
    auto remembered = remember(e);
    co_await std::move(remembered);
    std::vector<std::string> args;
    args.push_back(std::to_string(version_base_));
    args.push_back(std::to_string(l.max_per_user));
    args.push_back(kind_of(l));
    auto values = layout_values(l);
    args.insert(args.end(), std::make_move_iterator(values.begin()),
                std::make_move_iterator(values.end()));
    auto op = run(load_, e, std::move(args), "load");
    co_await std::move(op);
}

boost::asio::awaitable<restore_outcome> redis_inventory::restore(restoration r, restore_mode mode) {
    const event_id e = r.l.event;
    auto remembered = remember(e);
    co_await std::move(remembered);
    std::vector<std::string> args;
    args.push_back(mode == restore_mode::only_if_absent ? "a" : "r");
    args.push_back(std::to_string(version_base_));
    args.push_back(std::to_string(r.version_floor));
    args.push_back(std::to_string(r.l.max_per_user));
    args.push_back(kind_of(r.l));
    auto values = layout_values(r.l);
    args.push_back(std::to_string(values.size()));
    args.insert(args.end(), std::make_move_iterator(values.begin()),
                std::make_move_iterator(values.end()));
    args.push_back(std::to_string(r.sold.size()));
    for (const auto& [user, items] : r.sold) {
        args.push_back(std::to_string(user));
        append_items(args, items);
    }
    args.push_back(std::to_string(r.holds.size()));
    for (const auto& h : r.holds) {
        args.push_back(h.hold);
        args.push_back(std::to_string(h.user));
        args.push_back(std::to_string(unix_ms(h.expires_at)));
        args.push_back(h.state == hold_state::pinned ? "p" : "h");
        append_items(args, h.items);
    }
    auto op = run(restore_, e, std::move(args), "restore");
    const auto done = co_await std::move(op);
    restore_outcome out;
    if (element(done, 0, "restore").integer == 0) co_return out;
    out.restored = true;
    out.sold_refused = static_cast<std::int32_t>(element(done, 1, "restore").integer);
    for (const auto& id : element(done, 2, "restore").elements)
        out.holds_refused.push_back(id.text);
    co_return out;
}

boost::asio::awaitable<bool> redis_inventory::has_event(event_id e) {
    auto op = exec(redis::command::of("EXISTS", keys_of(e)[0]), "has_event");
    const auto r = co_await std::move(op);
    co_return r.integer == 1;
}

boost::asio::awaitable<std::expected<hold_info, hold_failure>> redis_inventory::hold(
    hold_request r) {
    std::vector<std::string> args;
    args.reserve(6 + r.items.seats.size());
    args.push_back(r.hold);
    args.push_back(std::to_string(r.user));
    args.push_back(std::to_string(unix_ms(r.expires_at)));
    append_items(args, r.items);
    auto op = run(hold_, r.event, std::move(args), "hold");
    const auto done = co_await std::move(op);
    if (element(done, 0, "hold").integer != scripts::ok)
        co_return std::unexpected(failure_of(done));
    co_return hold_info{r.event,      r.user,          std::move(r.hold), std::move(r.items),
                        r.expires_at, hold_state::held};
}

boost::asio::awaitable<bool> redis_inventory::release(event_id e, std::string hold) {
    std::vector<std::string> args;
    args.push_back(std::move(hold));
    args.push_back("r");
    auto op = run(end_, e, std::move(args), "release");
    const auto done = co_await std::move(op);
    co_return done.integer == 1;
}

boost::asio::awaitable<bool> redis_inventory::commit(event_id e, std::string hold) {
    std::vector<std::string> args;
    args.push_back(std::move(hold));
    args.push_back("c");
    auto op = run(end_, e, std::move(args), "commit");
    const auto done = co_await std::move(op);
    co_return done.integer == 1;
}

boost::asio::awaitable<std::optional<hold_info>> redis_inventory::pin(event_id e,
                                                                      std::string hold) {
    std::vector<std::string> args;
    args.push_back(hold);
    auto op = run(pin_, e, std::move(args), "pin");
    const auto done = co_await std::move(op);
    if (done.is_null()) co_return std::nullopt;
    co_return detail::hold_of_record(e, std::move(hold), done.text);
}

boost::asio::awaitable<std::expected<void, hold_failure>> redis_inventory::mark_sold(
    event_id e, user_id user, hold_items items) {
    std::vector<std::string> args;
    args.push_back(std::to_string(user));
    append_items(args, items);
    auto op = run(mark_sold_, e, std::move(args), "mark_sold");
    const auto done = co_await std::move(op);
    if (element(done, 0, "mark_sold").integer != scripts::ok) {
        co_return std::unexpected(failure_of(done));
    }
    co_return std::expected<void, hold_failure>{};
}

boost::asio::awaitable<bool> redis_inventory::unsell(event_id e, user_id user, hold_items items) {
    std::vector<std::string> args;
    args.push_back(std::to_string(user));
    append_items(args, items);
    auto op = run(unsell_, e, std::move(args), "unsell");
    const auto done = co_await std::move(op);
    co_return done.integer == 1;
}

boost::asio::awaitable<std::vector<hold_info>> redis_inventory::expire(time_point now) {
    auto listed = known_events();
    const auto events = co_await std::move(listed);
    std::vector<hold_info> out;
    for (const event_id e : events) {
        while (true) {
            std::vector<std::string> args;
            args.push_back(std::to_string(unix_ms(now)));
            args.push_back(std::to_string(expire_batch_max));
            auto op = run(expire_, e, std::move(args), "expire");
            const auto done = co_await std::move(op);
            const auto& ended = done.elements;
            for (std::size_t i = 0; i + 1 < ended.size(); i += 2) {
                out.push_back(detail::hold_of_record(e, ended[i].text, ended[i + 1].text));
            }
            if (ended.size() < 2 * static_cast<std::size_t>(expire_batch_max)) break;
        }
    }
    co_return out;
}

boost::asio::awaitable<std::optional<hold_info>> redis_inventory::find(event_id e,
                                                                       std::string hold) {
    auto op = exec(redis::command::of("HGET", keys_of(e)[4], hold), "find");
    const auto found = co_await std::move(op);
    if (found.is_null()) co_return std::nullopt;
    co_return detail::hold_of_record(e, std::move(hold), found.text);
}

boost::asio::awaitable<std::optional<snapshot>> redis_inventory::snapshot_of(event_id e) {
    auto op = run(snapshot_, e, {}, "snapshot_of");
    const auto done = co_await std::move(op);
    if (done.is_null()) co_return std::nullopt;
    co_return detail::snapshot_of_reply(e, done);
}

boost::asio::awaitable<std::optional<counts>> redis_inventory::counts_of(event_id e) {
    auto op = exec(redis::command::of("HMGET", keys_of(e)[0], "cap", "held", "sold"), "counts_of");
    const auto r = co_await std::move(op);
    if (element(r, 0, "counts_of").is_null()) co_return std::nullopt;
    counts c;
    c.capacity = detail::integer_of(r.elements[0].text);
    c.held = detail::integer_of(element(r, 1, "counts_of").text);
    c.sold = detail::integer_of(element(r, 2, "counts_of").text);
    c.available = c.capacity - c.held - c.sold;
    co_return c;
}

boost::asio::awaitable<std::uint64_t> redis_inventory::version_of(event_id e) {
    auto op = exec(redis::command::of("HGET", keys_of(e)[0], "ver"), "version_of");
    const auto r = co_await std::move(op);
    if (r.is_null()) co_return 0;
    co_return static_cast<std::uint64_t>(detail::integer_of(r.text));
}

boost::asio::awaitable<std::vector<std::string>> redis_inventory::audit(event_id e) {
    auto op = run(dump_, e, {}, "audit");
    const auto done = co_await std::move(op);
    co_return detail::audit_dump(done);
}

}  // namespace tkt::inventory
