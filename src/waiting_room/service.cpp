#include "waiting_room/service.hpp"

#include <random>

#include <fmt/format.h>

#include <boost/json/array.hpp>

#include "common/log.hpp"
#include "waiting_room/entry_token.hpp"

namespace tkt::waiting_room {
namespace {

using boost::asio::awaitable;

bool is_open(const catalog::event& e, time_point now) {
    switch (e.status) {
        case catalog::event_status::draft:
            return false;
        case catalog::event_status::scheduled:
            return now >= e.sales_open_at;
        default:
            return true;
    }
}

bool sale_over(const catalog::event& e) {
    return e.status == catalog::event_status::closed ||
           e.status == catalog::event_status::cancelled;
}

std::uint64_t fresh_seed() {
    static thread_local std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

problem no_event() {
    return make_problem(problem_code::not_found, "no such event");
}

}  // namespace

std::string queue_topic(std::int64_t event_id) {
    return fmt::format("queue.{}", event_id);
}

boost::json::object to_json(const queue_view& v) {
    boost::json::object o;
    o["status"] = v.status == queue_view::state::admitted ? "ADMITTED" : "WAITING";
    if (v.room_off) {
        o["waitingRoom"] = false;
        o["seq"] = nullptr;
        o["position"] = 0;
        o["etaSeconds"] = 0;
        return o;
    }
    if (v.pre_queue) {
        o["preQueue"] = true;
        o["seq"] = nullptr;
        o["position"] = nullptr;
        o["etaSeconds"] = nullptr;
        if (v.sales_open_at) o["salesOpenAt"] = auth::format_rfc3339(*v.sales_open_at);
        return o;
    }
    o["seq"] = v.seq;
    o["position"] = v.position;
    o["etaSeconds"] = v.eta_seconds;
    if (v.entry_token) {
        o["entryToken"] = *v.entry_token;
        o["expiresAt"] = auth::format_rfc3339(*v.expires_at);
    }
    return o;
}

boost::json::object to_json(const queue_report& r) {
    boost::json::object o{{"eventId", r.event_id},
                          {"enabled", r.enabled},
                          {"admitPerSecond", r.admit_per_second},
                          {"maxActive", r.max_active}};
    const auto s = r.stats.value_or(room_stats{});
    o["open"] = s.open;
    o["head"] = s.head;
    o["lastSeq"] = s.last_seq;
    o["waiting"] = s.waiting;
    o["preQueue"] = s.pre_queue;
    o["active"] = s.active;
    o["admittedTotal"] = s.admitted_total;
    boost::json::array v;
    for (const auto& line : r.violations) v.emplace_back(line);
    o["violations"] = std::move(v);
    return o;
}

service::service(dependencies deps, service_options options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

room_settings service::settings_of(const catalog::event& e) const {
    return room_settings{.admit_per_second = e.waiting_room.admit_per_second,
                         .max_active = e.waiting_room.max_active,
                         .entry_ttl = std::chrono::seconds{e.waiting_room.entry_ttl_seconds},
                         .grace = options_.grace};
}

queue_view service::view_of(user_id u, const ticket& t, const catalog::event& e) const {
    queue_view v;
    v.seq = t.seq;
    switch (t.where) {
        case place::pre_queue:
            v.pre_queue = true;
            v.sales_open_at = e.sales_open_at;
            break;
        case place::waiting: {
            v.position = t.position();
            const auto rate = std::max<std::int64_t>(1, e.waiting_room.admit_per_second);
            v.eta_seconds = (v.position + rate - 1) / rate;
            break;
        }
        case place::admitted:
            v.status = queue_view::state::admitted;
            v.entry_token = sign_entry(
                entry_claims{
                    .user = u, .event = e.id, .seq = t.seq, .expires_at = t.admitted_until},
                deps_.keys, options_.issuer);
            v.expires_at = t.admitted_until;
            break;
    }
    return v;
}

awaitable<result<queue_view>> service::join(auth::principal who, std::int64_t event_id) {
    auto e = deps_.find_event(event_id);
    if (!e || e->status == catalog::event_status::draft) co_return std::unexpected(no_event());
    if (!e->waiting_room.enabled) {
        co_return queue_view{.status = queue_view::state::admitted, .room_off = true};
    }
    if (sale_over(*e)) {
        co_return std::unexpected(
            make_problem(problem_code::sales_not_open, "this event's sale has ended"));
    }
    if (e->status == catalog::event_status::sold_out) {
        co_return std::unexpected(make_problem(problem_code::sold_out, "this event is sold out"));
    }
    const auto now = deps_.clk.now();
    if (is_open(*e, now)) {
        // The ticker opens rooms too; whoever comes first draws the pre-queue, once.
        auto stats = co_await deps_.rooms.stats(event_id);
        if (!stats || !stats->open) co_await deps_.rooms.open(event_id, fresh_seed());
    }
    ticket t;
    std::string refused;
    try {
        t = co_await deps_.rooms.join(event_id, who.user_id, now);
    } catch (const unavailable& e) {
        refused = e.what();
    }
    if (!refused.empty()) {
        log::error("queue.join_refused", {{"eventId", event_id}, {"error", refused}});
        auto p =
            make_problem(problem_code::unavailable, "the waiting room is busy; try joining again");
        p.retry_after_seconds = 1;
        co_return std::unexpected(std::move(p));
    }
    if (t.created) {
        log::debug("queue.joined", [&] {
            return boost::json::object{
                {"eventId", event_id}, {"userId", who.user_id}, {"seq", t.seq}};
        });
    }
    co_return view_of(who.user_id, t, *e);
}

awaitable<result<queue_view>> service::status(auth::principal who, std::int64_t event_id) {
    auto e = deps_.find_event(event_id);
    if (!e || e->status == catalog::event_status::draft) co_return std::unexpected(no_event());
    if (!e->waiting_room.enabled) {
        co_return queue_view{.status = queue_view::state::admitted, .room_off = true};
    }
    auto t = co_await deps_.rooms.status(event_id, who.user_id, deps_.clk.now());
    if (!t) {
        co_return std::unexpected(
            make_problem(problem_code::not_found, "you are not in this event's queue"));
    }
    co_return view_of(who.user_id, *t, *e);
}

awaitable<result<void>> service::leave(auth::principal who, std::int64_t event_id) {
    auto e = deps_.find_event(event_id);
    if (!e || e->status == catalog::event_status::draft) co_return std::unexpected(no_event());
    co_await deps_.rooms.leave(event_id, who.user_id);
    co_return result<void>{};
}

awaitable<result<queue_report>> service::report(auth::principal who, std::int64_t event_id) {
    auto e = deps_.find_event(event_id);
    if (!e || (who.role != auth::role::admin && e->manager_id != who.user_id)) {
        co_return std::unexpected(no_event());
    }
    queue_report r{.event_id = event_id,
                   .enabled = e->waiting_room.enabled,
                   .stats = co_await deps_.rooms.stats(event_id),
                   .admit_per_second = e->waiting_room.admit_per_second,
                   .max_active = e->waiting_room.max_active,
                   .violations = {}};
    if (r.stats) r.violations = co_await deps_.rooms.audit(event_id, e->waiting_room.max_active);
    co_return r;
}

awaitable<result<seq_t>> service::check_entry(auth::principal who, std::int64_t event_id,
                                              std::string token) {
    auto e = deps_.find_event(event_id);
    if (!e || !e->waiting_room.enabled) co_return seq_t{0};  // the hold itself says 404
    if (token.empty()) {
        co_return std::unexpected(make_problem(problem_code::queue_token_required,
                                               "this event has a waiting room: join its queue "
                                               "and send the entry token in Queue-Token"));
    }
    const auto now = deps_.clk.now();
    // A token verified before for this user and event is remembered until it expires (the
    // signature check is ~3 µs, a lookup ~0.1 µs); the slot is checked every time.
    auto key = fmt::format("{}:{}:{}", event_id, who.user_id, token);
    seq_t seq = 0;
    if (auto known = verified_.find(key, unix_seconds(now))) {
        seq = *known;
    } else {
        auto claims = verify_entry(token, deps_.keys, options_.issuer, event_id, who.user_id, now);
        if (!claims) {
            co_return std::unexpected(make_problem(problem_code::queue_token_invalid,
                                                   std::string(to_string(claims.error()))));
        }
        seq = claims->seq;
        verified_.put(key, seq, unix_seconds(claims->expires_at), unix_seconds(now));
    }
    if (!co_await deps_.rooms.admitted(event_id, who.user_id, seq, now)) {
        co_return std::unexpected(make_problem(problem_code::queue_token_invalid,
                                               "this entry has ended: join the queue again"));
    }
    co_return seq;
}

awaitable<void> service::entry_used(auth::principal who, std::int64_t event_id, seq_t seq,
                                    std::string hold_id) {
    if (seq == 0) co_return;
    auto op = deps_.rooms.use(event_id, who.user_id, seq, std::move(hold_id), deps_.clk.now());
    co_await std::move(op);
}

awaitable<void> service::attach(auth::principal who, std::int64_t event_id) {
    co_await deps_.rooms.attach(event_id, who.user_id, deps_.clk.now());
}

awaitable<void> service::detach(auth::principal who, std::int64_t event_id) {
    co_await deps_.rooms.detach(event_id, who.user_id, deps_.clk.now());
}

awaitable<void> service::tick() {
    const auto pass = ticks_.fetch_add(1);
    // Once a second: which holds made with an entry have ended.
    const auto per_second =
        std::max<std::int64_t>(1, 1000 / std::max<std::int64_t>(1, options_.tick.count()));
    const bool check_holds = pass % static_cast<std::uint64_t>(per_second) == 0;
    auto rooms = co_await deps_.rooms.rooms();
    const auto now = deps_.clk.now();
    for (auto event_id : rooms) co_await tick_room(event_id, now, check_holds);
}

awaitable<void> service::tick_room(std::int64_t event_id, time_point now, bool check_holds) {
    auto e = deps_.find_event(event_id);
    // An event this node has not heard of yet (created on another node a moment ago) is left
    // alone; only one whose sale is over loses its room.
    if (!e) co_return;
    if (sale_over(*e)) {
        co_await deps_.rooms.drop(event_id);
        std::lock_guard lock(stats_mutex_);
        stats_.erase(event_id);
        co_return;
    }
    auto lease_op =
        deps_.leases.acquire(queue_topic(event_id), options_.node, options_.lease_ttl, now);
    if (!co_await std::move(lease_op)) co_return;  // another node ticks this room

    auto stats = co_await deps_.rooms.stats(event_id);
    if (stats && !stats->open && is_open(*e, now)) {
        auto drawn = co_await deps_.rooms.open(event_id, fresh_seed());
        log::info("queue.opened", {{"eventId", event_id}, {"preQueue", drawn.size()}});
        // Streams of the pre-queue learn their drawn seqs from this.
        deps_.bus.publish(queue_topic(event_id), std::to_string(stats->head));
    }
    auto out = co_await deps_.rooms.tick(event_id, now, settings_of(*e));
    if (out.head != out.head_before || !out.admitted.empty()) {
        deps_.bus.publish(queue_topic(event_id), std::to_string(out.head));
    }
    if (check_holds) {
        auto in_use = co_await deps_.rooms.holds_in_use(event_id);
        std::vector<std::pair<user_id, std::string>> ended;
        for (auto& [u, hold] : in_use) {
            auto find = deps_.inventory.find(event_id, hold);
            if (!co_await std::move(find)) ended.emplace_back(u, std::move(hold));
        }
        if (!ended.empty()) {
            auto op = deps_.rooms.holds_ended(event_id, std::move(ended));
            auto freed = co_await std::move(op);
            if (!freed.empty()) deps_.bus.publish(queue_topic(event_id), std::to_string(out.head));
        }
    }
    if (auto now_stats = co_await deps_.rooms.stats(event_id)) {
        std::lock_guard lock(stats_mutex_);
        stats_[event_id] = *now_stats;
    }
}

void service::collect_metrics(std::string& out) const {
    std::lock_guard lock(stats_mutex_);
    out +=
        "# HELP ticketon_queue_length People waiting in an event's line (and its pre-queue).\n"
        "# TYPE ticketon_queue_length gauge\n";
    for (const auto& [e, s] : stats_) {
        out +=
            fmt::format("ticketon_queue_length{{event=\"{}\"}} {}\n", e, s.waiting + s.pre_queue);
    }
    out +=
        "# HELP ticketon_queue_admitted_total People let in since start (rate: admitted per "
        "second).\n"
        "# TYPE ticketon_queue_admitted_total counter\n";
    for (const auto& [e, s] : stats_) {
        out +=
            fmt::format("ticketon_queue_admitted_total{{event=\"{}\"}} {}\n", e, s.admitted_total);
    }
    out +=
        "# HELP ticketon_queue_active_entries Entry tokens alive (admitted, slot not given back).\n"
        "# TYPE ticketon_queue_active_entries gauge\n";
    for (const auto& [e, s] : stats_) {
        out += fmt::format("ticketon_queue_active_entries{{event=\"{}\"}} {}\n", e, s.active);
    }
    out +=
        "# HELP ticketon_queue_head How far an event's line has been let in.\n"
        "# TYPE ticketon_queue_head gauge\n";
    for (const auto& [e, s] : stats_) {
        out += fmt::format("ticketon_queue_head{{event=\"{}\"}} {}\n", e, s.head);
    }
}

}  // namespace tkt::waiting_room
