#include "notifications/service.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "notifications/detail/problems.hpp"
#include "notifications/store.hpp"

namespace tkt::notifications {
namespace {

using boost::asio::awaitable;

using detail::db_problem;

problem not_found() {
    return make_problem(problem_code::not_found, "no such notification");
}

result<void> found(const db::expected<bool>& r) {
    if (!r) return std::unexpected(db_problem(r.error()));
    if (!*r) return std::unexpected(not_found());
    return {};
}

constexpr std::int64_t sweep_chunk = 1000;

}  // namespace

service::service(service_dependencies deps) : deps_(std::move(deps)) {}

awaitable<result<page>> service::list(auth::principal who, list_request q) {
    const std::int64_t user_id = who.user_id;
    auto read = co_await deps_.db.run([&user_id, &q](db::connection& c) -> db::expected<page> {
        page out;
        auto items = store::list(c, user_id, q);
        if (!items) return std::unexpected(items.error());
        auto unread = store::unread_count(c, user_id);
        if (!unread) return std::unexpected(unread.error());
        out.items = std::move(*items);
        out.unread_count = *unread;
        return out;
    });
    if (!read) co_return std::unexpected(db_problem(read.error()));
    if (static_cast<std::int64_t>(read->items.size()) == q.limit && !read->items.empty())
        read->next_before = read->items.back().id;
    co_return std::move(*read);
}

awaitable<result<void>> service::mark_read(auth::principal who, std::int64_t id) {
    const auto now_text = auth::format_rfc3339(deps_.clk.now());
    const std::int64_t user_id = who.user_id;
    auto done = co_await deps_.db.write(
        [&user_id, &id, &now_text](db::connection& c) {
            return store::mark_read(c, user_id, id, now_text);
        },
        db::write_kind::one_statement);
    co_return found(done);
}

awaitable<result<void>> service::mark_all_read(auth::principal who) {
    const auto now_text = auth::format_rfc3339(deps_.clk.now());
    const std::int64_t user_id = who.user_id;
    auto done = co_await deps_.db.write(
        [&user_id, &now_text](db::connection& c) {
            return store::mark_all_read(c, user_id, now_text);
        },
        db::write_kind::one_statement);
    if (!done) co_return std::unexpected(db_problem(done.error()));
    co_return result<void>{};
}

awaitable<result<void>> service::remove(auth::principal who, std::int64_t id) {
    const std::int64_t user_id = who.user_id;
    auto done = co_await deps_.db.write(
        [&user_id, &id](db::connection& c) { return store::remove(c, user_id, id); },
        db::write_kind::one_statement);
    co_return found(done);
}

awaitable<result<void>> service::remove_all(auth::principal who) {
    const std::int64_t user_id = who.user_id;
    auto done = co_await deps_.db.write(
        [&user_id](db::connection& c) { return store::remove_all(c, user_id); },
        db::write_kind::one_statement);
    if (!done) co_return std::unexpected(db_problem(done.error()));
    co_return result<void>{};
}

awaitable<result<notice_receipt>> service::send_notice(auth::principal who, notice_request n) {
    if (who.role == auth::role::user)
        co_return std::unexpected(
            make_problem(problem_code::forbidden, "requires role MANAGER or ADMIN"));
    if (n.user_id && who.role != auth::role::admin)
        co_return std::unexpected(make_problem(
            problem_code::forbidden, "a manager sends notices to an event's ticket holders only"));
    if (n.event_id) {
        auto e = deps_.find_event(*n.event_id);
        if (!e || (who.role == auth::role::manager && e->manager_id != who.user_id))
            co_return std::unexpected(make_problem(problem_code::not_found, "event not found"));
    }
    boost::json::object data{{"from", auth::to_string(who.role)}, {"senderId", who.user_id}};
    if (n.event_id) data["eventId"] = *n.event_id;
    const std::string data_json = boost::json::serialize(data);
    const auto now_text = auth::format_rfc3339(deps_.clk.now());

    struct outcome {
        bool exists = true;
        notice_receipt receipt;
    };
    auto written = co_await deps_.db.write(
        [&n, &data_json, &now_text](db::connection& c) -> db::expected<outcome> {
            outcome out;
            if (n.user_id) {
                auto exists = store::user_exists(c, *n.user_id);
                if (!exists) return std::unexpected(exists.error());
                if (!*exists) {
                    out.exists = false;
                    return out;
                }
                out.receipt.recipients = 1;
            } else {
                auto count = store::holders(c, *n.event_id);
                if (!count) return std::unexpected(count.error());
                out.receipt.recipients = *count;
            }
            auto id = store::insert_notice(c, n, data_json, now_text);
            if (!id) return std::unexpected(id.error());
            out.receipt.notice_id = *id;
            return out;
        });
    if (!written) co_return std::unexpected(db_problem(written.error()));
    if (!written->exists)
        co_return std::unexpected(make_problem(problem_code::not_found, "user not found"));
    written->receipt.event_id = n.event_id;
    written->receipt.user_id = n.user_id;
    co_return written->receipt;
}

awaitable<result<std::int64_t>> service::sweep(std::chrono::seconds age) {
    const auto cutoff = auth::format_rfc3339(deps_.clk.now() - age);
    std::int64_t total = 0;
    for (;;) {
        auto gone = co_await deps_.db.write(
            [&cutoff](db::connection& c) { return store::sweep(c, cutoff, sweep_chunk); });
        if (!gone) co_return std::unexpected(db_problem(gone.error()));
        total += *gone;
        if (*gone < sweep_chunk) co_return total;
    }
}

std::string to_json(const page& p) {
    std::string out = "{\"items\":[";
    bool first = true;
    for (const auto& n : p.items) {
        if (!first) out += ',';
        first = false;
        out += to_json(n);
    }
    out += "],\"unreadCount\":";
    out += std::to_string(p.unread_count);
    out += ",\"nextBefore\":";
    out += p.next_before ? std::to_string(*p.next_before) : std::string("null");
    out += '}';
    return out;
}

std::string to_json(const notice_receipt& r) {
    boost::json::object o{{"noticeId", r.notice_id}, {"recipients", r.recipients}};
    o["eventId"] = r.event_id ? boost::json::value(*r.event_id) : boost::json::value(nullptr);
    o["userId"] = r.user_id ? boost::json::value(*r.user_id) : boost::json::value(nullptr);
    return boost::json::serialize(o);
}

}  // namespace tkt::notifications
