#include "catalog/service.hpp"

#include <charconv>
#include <mutex>
#include <utility>

#include <fmt/core.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/log.hpp"
#include "common/paging.hpp"

namespace tkt::catalog {
namespace {

using boost::asio::awaitable;

// A lost revision race is retried this many times by the status moves booking asks for.
constexpr int status_move_attempts = 3;

problem db_problem(const db::error& e) {
    log::error("catalog.db_error", {{"message", e.message}});
    if (e.code == db::errc::busy) {
        auto p = make_problem(problem_code::unavailable, "the database is busy");
        p.retry_after_seconds = 1;
        return p;
    }
    return make_problem(problem_code::internal, "database error");
}

problem not_found() {
    return make_problem(problem_code::not_found, "event not found");
}

// A USER may not manage events at all; a manager cannot tell another manager's event from a
// missing one.
result<void> check_manages(const event& e, const auth::principal& who) {
    if (!auth::at_least(who.role, auth::role::manager))
        return std::unexpected(make_problem(problem_code::forbidden, "requires role MANAGER"));
    if (who.role == auth::role::manager && e.manager_id != who.user_id)
        return std::unexpected(not_found());
    return {};
}

// Moves `next` to `to` as a manager asked, at `now`.
result<void> apply_transition(event& next, event_status to, time_point now) {
    if (!transition_allowed(next.status, to)) {
        return std::unexpected(make_problem(problem_code::conflict,
                                            fmt::format("an event cannot go from {} to {}",
                                                        to_string(next.status), to_string(to))));
    }
    if (to == event_status::on_sale) {
        if (next.sales_close_at && *next.sales_close_at <= now)
            return std::unexpected(
                make_problem(problem_code::conflict, "the sales window has already closed"));
        // "Open now": the window starts now if it was to start later. It still starts before
        // startsAt, since an open time after now was before startsAt.
        if (next.sales_open_at > now)
            next.sales_open_at = std::chrono::floor<std::chrono::seconds>(now);
    }
    next.status = to;
    return {};
}

// The event a PATCH body asks for, before it is stored; `base` when it asks for nothing new.
result<event> plan_update(const event& base, const boost::json::object& body, time_point now) {
    std::optional<event_status> to;
    if (const auto* v = body.if_contains("status"); v != nullptr && !v->is_null()) {
        to = v->is_string() ? parse_event_status(v->get_string()) : std::nullopt;
        if (!to)
            return std::unexpected(
                validation_error("status", "must be SCHEDULED, ON_SALE, CLOSED or CANCELLED"));
    }
    event next = base;
    if (has_editable_fields(body)) {
        if (base.status != event_status::draft)
            return std::unexpected(
                make_problem(problem_code::conflict,
                             fmt::format("only a DRAFT event can be edited; this one is {}",
                                         to_string(base.status))));
        auto patched = apply_patch(base, body);
        if (!patched) return std::unexpected(std::move(patched.error()));
        next = std::move(*patched);
    }
    if (to && *to != base.status) {
        if (auto ok = apply_transition(next, *to, now); !ok)
            return std::unexpected(std::move(ok.error()));
    }
    return next;
}

}  // namespace

bool visible_to(const event& e, const std::optional<auth::principal>& viewer) {
    if (e.status != event_status::draft) return true;
    if (!viewer) return false;
    return viewer->role == auth::role::admin ||
           (viewer->role == auth::role::manager && viewer->user_id == e.manager_id);
}

service::service(db::database& db, inventory::inventory& inv, const clock& clk)
    : db_(db), inventory_(inv), clock_(clk) {}

event_ptr service::find(std::int64_t id) const {
    std::shared_lock lock(mutex_);
    const auto it = events_.find(id);
    return it == events_.end() ? nullptr : it->second;
}

std::vector<event_ptr> service::all() const {
    std::shared_lock lock(mutex_);
    std::vector<event_ptr> out;
    out.reserve(events_.size());
    for (const auto& [id, e] : events_) out.push_back(e);
    return out;
}

void service::publish(event_ptr e) {
    std::unique_lock lock(mutex_);
    auto& slot = events_[e->id];
    // A slower writer that read an older revision never overwrites a newer copy.
    if (!slot || slot->revision <= e->revision) slot = std::move(e);
}

void service::share(bus::bus& bus, boost::asio::any_io_executor executor) {
    bus_ = &bus;
    news_ = bus.subscribe("catalog", [this, executor](std::string_view, std::string_view message) {
        std::int64_t id = 0;
        const auto [end, ec] = std::from_chars(message.data(), message.data() + message.size(), id);
        if (ec != std::errc{} || end != message.data() + message.size() || id <= 0) return;
        boost::asio::co_spawn(executor, refresh(id), boost::asio::detached);
    });
}

void service::announce(std::int64_t id) {
    if (bus_ != nullptr) bus_->publish("catalog", std::to_string(id));
}

awaitable<result<std::size_t>> service::refresh_all() {
    auto rows = co_await db_.run([](db::connection& c) { return event_store(c).all(); });
    if (!rows) co_return std::unexpected(db_problem(rows.error()));
    for (auto& e : *rows) publish(std::make_shared<const event>(std::move(e)));
    co_return rows->size();
}

awaitable<result<std::size_t>> service::load_all() {
    auto rows = co_await db_.run([](db::connection& c) { return event_store(c).all(); });
    if (!rows) co_return std::unexpected(db_problem(rows.error()));
    for (auto& e : *rows) {
        // A shared inventory (Redis) may have the event live from other nodes: never reset it.
        bool loaded = false;
        if (e.status != event_status::cancelled) {
            auto has = inventory_.has_event(e.id);
            loaded = co_await std::move(has);
        }
        if (e.status != event_status::cancelled && !loaded) {
            auto op = inventory_.load(to_layout(e));
            co_await std::move(op);
        }
        publish(std::make_shared<const event>(std::move(e)));
    }
    log::info("catalog.loaded", {{"events", rows->size()}});
    co_return rows->size();
}

awaitable<result<event_ptr>> service::create(boost::json::object body, auth::principal who) {
    if (!auth::at_least(who.role, auth::role::manager))
        co_return std::unexpected(make_problem(problem_code::forbidden, "requires role MANAGER"));
    auto parsed = event_from_json(body, who.user_id);
    if (!parsed) co_return std::unexpected(std::move(parsed.error()));
    event e = std::move(*parsed);
    e.status = event_status::draft;
    e.created_at = e.updated_at = format_time(clock_.now());
    e.revision = 1;
    auto id = co_await db_.run([&e](db::connection& c) { return event_store(c).insert(e); });
    if (!id) co_return std::unexpected(db_problem(id.error()));
    e.id = *id;
    auto load = inventory_.load(to_layout(e));
    co_await std::move(load);
    auto ptr = std::make_shared<const event>(std::move(e));
    publish(ptr);
    announce(ptr->id);
    log::info("catalog.event_created", {{"eventId", ptr->id}, {"managerId", who.user_id}});
    co_return ptr;
}

awaitable<result<event_ptr>> service::update(std::int64_t id, boost::json::object body,
                                             auth::principal who) {
    const auto base = find(id);
    if (!base) co_return std::unexpected(not_found());
    if (auto ok = check_manages(*base, who); !ok) co_return std::unexpected(std::move(ok.error()));
    auto planned = plan_update(*base, body, clock_.now());
    if (!planned) co_return std::unexpected(std::move(planned.error()));
    const bool fields = has_editable_fields(body);
    if (!fields && planned->status == base->status) co_return base;
    planned->revision = base->revision + 1;
    planned->updated_at = format_time(clock_.now());
    const auto from = base->status;
    const auto to = planned->status;
    auto op = store(std::move(*planned), fields ? layout_change::reload : layout_change::none);
    const auto outcome = co_await std::move(op);
    if (outcome == store_outcome::failed)
        co_return std::unexpected(make_problem(problem_code::internal, "database error"));
    if (outcome == store_outcome::stale)
        co_return std::unexpected(make_problem(
            problem_code::conflict, "the event was changed by someone else meanwhile; try again"));
    log::info(
        "catalog.event_updated",
        {{"eventId", id}, {"by", who.user_id}, {"from", to_string(from)}, {"to", to_string(to)}});
    if (to == event_status::cancelled && from != event_status::cancelled && on_cancelled_) {
        co_await on_cancelled_(id);
    }
    co_return find(id);
}

awaitable<service::store_outcome> service::store(event next, layout_change layout) {
    const auto expected = next.revision - 1;
    auto stored = co_await db_.run(
        [&next, expected](db::connection& c) { return event_store(c).update(next, expected); });
    if (!stored) {
        static_cast<void>(db_problem(stored.error()));
        co_return store_outcome::failed;
    }
    if (!*stored) {
        co_await refresh(next.id);
        co_return store_outcome::stale;
    }
    // Only a DRAFT's layout changes, and a DRAFT has no holds or sales to lose.
    if (layout == layout_change::reload) {
        auto load = inventory_.load(to_layout(next));
        co_await std::move(load);
    }
    const auto id = next.id;
    publish(std::make_shared<const event>(std::move(next)));
    announce(id);
    co_return store_outcome::stored;
}

awaitable<void> service::refresh(std::int64_t id) {
    auto found = co_await db_.run([id](db::connection& c) { return event_store(c).find(id); });
    if (!found) {
        static_cast<void>(db_problem(found.error()));
        co_return;
    }
    if (*found) publish(std::make_shared<const event>(std::move(**found)));
}

awaitable<result<event_page>> service::page_of(event_filter filter) {
    if (auto window = page_window_of(filter.query.page, filter.query.size, page_size_max); !window)
        co_return std::unexpected(std::move(window.error()));
    auto rows =
        co_await db_.run([&filter](db::connection& c) { return event_store(c).list(filter); });
    if (!rows) co_return std::unexpected(db_problem(rows.error()));
    event_page page{
        .items = {}, .page = filter.query.page, .size = filter.query.size, .total = rows->total};
    page.items.reserve(rows->items.size());
    for (auto& e : rows->items) page.items.push_back(std::make_shared<const event>(std::move(e)));
    co_return page;
}

awaitable<result<event_page>> service::list(list_query query,
                                            std::optional<auth::principal> viewer) {
    event_filter filter{.query = std::move(query),
                        .drafts = draft_visibility::hidden,
                        .viewer_id = 0,
                        .manager_id = std::nullopt};
    if (viewer && viewer->role == auth::role::admin) filter.drafts = draft_visibility::all;
    if (viewer && viewer->role == auth::role::manager) {
        filter.drafts = draft_visibility::own;
        filter.viewer_id = viewer->user_id;
    }
    auto op = page_of(std::move(filter));
    co_return co_await std::move(op);
}

awaitable<result<event_page>> service::list_managed(auth::principal who, std::int64_t page,
                                                    std::int64_t size) {
    if (!auth::at_least(who.role, auth::role::manager))
        co_return std::unexpected(make_problem(problem_code::forbidden, "requires role MANAGER"));
    event_filter filter{.query = list_query{},
                        .drafts = draft_visibility::all,
                        .viewer_id = who.user_id,
                        .manager_id = std::nullopt};
    filter.query.page = page;
    filter.query.size = size;
    if (who.role == auth::role::manager) filter.manager_id = who.user_id;
    auto op = page_of(std::move(filter));
    co_return co_await std::move(op);
}

awaitable<std::vector<status_change>> service::tick(time_point now) {
    std::vector<status_change> changes;
    for (const auto& e : all()) {
        const auto due = due_status(*e, now);
        if (!due) continue;
        event next = *e;
        next.status = *due;
        next.revision = e->revision + 1;
        next.updated_at = format_time(now);
        auto op = store(std::move(next), layout_change::none);
        if (co_await std::move(op) != store_outcome::stored) continue;
        changes.push_back(status_change{.event = e->id, .from = e->status, .to = *due});
        log::info("catalog.status_due",
                  {{"eventId", e->id}, {"from", to_string(e->status)}, {"to", to_string(*due)}});
    }
    co_return changes;
}

awaitable<bool> service::move_status(std::int64_t id, event_status from, event_status to) {
    for (int attempt = 0; attempt < status_move_attempts; ++attempt) {
        const auto base = find(id);
        if (!base || base->status != from) co_return false;
        event next = *base;
        next.status = to;
        next.revision = base->revision + 1;
        next.updated_at = format_time(clock_.now());
        auto op = store(std::move(next), layout_change::none);
        const auto outcome = co_await std::move(op);
        if (outcome == store_outcome::stored) {
            log::info("catalog.status_moved",
                      {{"eventId", id}, {"from", to_string(from)}, {"to", to_string(to)}});
            co_return true;
        }
        if (outcome == store_outcome::failed) co_return false;
    }
    co_return false;
}

awaitable<bool> service::mark_sold_out(std::int64_t id) {
    return move_status(id, event_status::on_sale, event_status::sold_out);
}

awaitable<bool> service::mark_back_on_sale(std::int64_t id) {
    return move_status(id, event_status::sold_out, event_status::on_sale);
}

}  // namespace tkt::catalog
