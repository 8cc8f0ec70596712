#include "notifications/dispatcher.hpp"

#include <vector>

#include "auth/user.hpp"
#include "common/failpoint.hpp"
#include "http/metrics.hpp"
#include "notifications/detail/problems.hpp"
#include "notifications/store.hpp"

namespace tkt::notifications {
namespace {

using boost::asio::awaitable;

using detail::db_problem;

}  // namespace

dispatcher::dispatcher(db::database& db, bus::bus& b, const clock& clk, dispatcher_options options)
    : db_(db), bus_(b), clock_(clk), options_(options) {}

awaitable<result<dispatcher::pass>> dispatcher::dispatch_once() {
    const std::int64_t limit = options_.batch;
    auto rows = co_await db_.run([&limit](db::connection& c) { return store::pending(c, limit); });
    if (!rows) co_return std::unexpected(db_problem(rows.error()));
    pass out;
    if (rows->empty()) co_return out;

    std::vector<std::int64_t> ids;
    ids.reserve(rows->size());
    for (const auto& r : *rows) ids.push_back(r.id);

    // 1. Make what is not made yet, and say so, in one transaction.
    const auto& batch = *rows;
    auto made = co_await db_.transact([&batch](db::connection& c) -> db::expected<std::int64_t> {
        std::int64_t n = 0;
        for (const auto& r : batch) {
            if (r.materialized) continue;
            auto one = store::materialize(c, r);
            if (!one) return std::unexpected(one.error());
            n += *one;
        }
        return n;
    });
    if (!made) co_return std::unexpected(db_problem(made.error()));
    out.made = static_cast<std::size_t>(*made);
    failpoint("notifications.after_materialize");

    // 2. Publish every notification of the batch, in id order (each user's in their order).
    auto made_rows =
        co_await db_.run([&ids](db::connection& c) { return store::of_outbox(c, ids); });
    if (!made_rows) co_return std::unexpected(db_problem(made_rows.error()));
    for (const auto& n : *made_rows) bus_.publish(user_topic(n.user_id), to_json(n));
    out.published = made_rows->size();
    failpoint("notifications.after_publish");

    // 3. Done.
    const auto now_text = auth::format_rfc3339(clock_.now());
    auto marked = co_await db_.run(
        [&ids, &now_text](db::connection& c) { return store::mark_dispatched(c, ids, now_text); });
    if (!marked) co_return std::unexpected(db_problem(marked.error()));
    out.rows = ids.size();
    made_ += out.made;
    published_ += out.published;
    rows_ += out.rows;
    co_return out;
}

awaitable<result<dispatcher::pass>> dispatcher::drain() {
    pass total;
    for (;;) {
        auto one = co_await dispatch_once();
        if (!one) co_return std::unexpected(one.error());
        total.rows += one->rows;
        total.made += one->made;
        total.published += one->published;
        if (one->rows < static_cast<std::size_t>(options_.batch)) co_return total;
    }
}

void dispatcher::collect_metrics(std::string& out) const {
    http::append_counter(out, "ticketon_notifications_made_total",
                         "Notifications the dispatcher made from outbox rows.", made_.load());
    http::append_counter(out, "ticketon_notifications_published_total",
                         "Notifications published to the streams.", published_.load());
    http::append_counter(out, "ticketon_outbox_dispatched_total", "Outbox rows dispatched.",
                         rows_.load());
}

}  // namespace tkt::notifications
