#include "booking/order_store.hpp"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/assert.hpp"

namespace tkt::booking::store {
namespace {

constexpr std::string_view order_columns =
    "id, hold_id, event_id, user_id, status, seats_json, zone, quantity, amount, currency, "
    "expires_at, payment_key, failure_code, failure_message, confirming_at, created_at, "
    "updated_at, "
    "paid_at, cancelled_at, next_check_at, check_attempts";

std::string seats_to_json(const std::vector<std::string>& seats) {
    boost::json::array a;
    for (const auto& s : seats) a.emplace_back(s);
    return boost::json::serialize(a);
}

std::vector<std::string> seats_from_json(const std::string& text) {
    std::vector<std::string> seats;
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_array()) return seats;
    for (const auto& s : v.as_array()) {
        if (s.is_string()) seats.emplace_back(s.as_string());
    }
    return seats;
}

order order_from_row(const db::row& r) {
    order o;
    o.id = r.text(0);
    o.hold_id = r.text(1);
    o.event_id = r.int64(2);
    o.user_id = r.int64(3);
    o.status = parse_order_status(r.text(4)).value_or(order_status::failed);
    o.items.seats = seats_from_json(r.text(5));
    o.items.zone = r.text(6);
    o.items.quantity = static_cast<std::int32_t>(r.int64(7));
    o.amount = r.int64(8);
    o.currency = r.text(9);
    o.expires_at = r.int64(10);
    o.payment_key = r.text(11);
    o.failure_code = r.text(12);
    o.failure_message = r.text(13);
    o.confirming_at = r.int64(14);
    o.created_at = r.text(15);
    o.updated_at = r.text(16);
    o.paid_at = r.text(17);
    o.cancelled_at = r.text(18);
    o.next_check_at = r.int64(19);
    o.check_attempts = r.int64(20);
    return o;
}

db::expected<std::vector<order>> select_orders(db::connection& c, const std::string& where,
                                               std::initializer_list<db::value> params) {
    auto sql = fmt::format("SELECT {} FROM orders {}", order_columns, where);
    auto res = c.exec(sql, params);
    if (!res) return std::unexpected(res.error());
    std::vector<order> out;
    out.reserve(res->rows.size());
    for (const auto& r : res->rows) out.push_back(order_from_row(r));
    return out;
}

db::expected<std::optional<order>> select_one(db::connection& c, const std::string& where,
                                              std::initializer_list<db::value> params) {
    auto rows = select_orders(c, where, params);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<order>{};
    return std::optional<order>{std::move(rows->front())};
}

ticket_row ticket_from_row(const db::row& r) {
    return ticket_row{.id = r.text(0),
                      .order_id = r.text(1),
                      .event_id = r.int64(2),
                      .user_id = r.int64(3),
                      .seat = r.text(4),
                      .zone = r.text(5),
                      .grade = r.text(6),
                      .price = r.int64(7),
                      .code = r.text(8),
                      .status = r.text(9),
                      .used_at = r.text(10),
                      .created_at = r.text(11)};
}

constexpr std::string_view ticket_columns =
    "id, order_id, event_id, user_id, seat, zone, grade, price, code, status, used_at, created_at";

db::value nullable(const std::string& s) {
    return s.empty() ? db::value(nullptr) : db::value(s);
}

}  // namespace

db::expected<void> insert_order(db::connection& c, const order& o, const std::string& now_text) {
    auto res = c.exec(
        "INSERT INTO orders (id, hold_id, event_id, user_id, status, seats_json, zone, quantity, "
        "amount, currency, expires_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        {o.id, o.hold_id, o.event_id, o.user_id, std::string(to_string(o.status)),
         seats_to_json(o.items.seats), nullable(o.items.zone), std::int64_t{o.items.quantity},
         o.amount, o.currency, o.expires_at, now_text, now_text});
    if (!res) return std::unexpected(res.error());
    return {};
}

db::expected<std::optional<order>> find_order(db::connection& c, const std::string& id) {
    return select_one(c, "WHERE id = ?", {id});
}

db::expected<std::int64_t> order_owner(db::connection& c, const std::string& id) {
    auto res = c.exec("SELECT user_id FROM orders WHERE id = ?", {id});
    if (!res) return std::unexpected(res.error());
    return res->rows.empty() ? 0 : res->rows.front().int64(0);
}

std::string order_id_of_hold(std::string_view hold_id) {
    if (!hold_id.starts_with(hold_id_prefix)) return {};
    std::string id(order_id_prefix);
    id += hold_id.substr(hold_id_prefix.size());
    return id;
}

db::expected<std::optional<hold_row>> find_hold(db::connection& c, const std::string& hold_id) {
    // By the order id the hold id is derived from; else among the holds older than migration 006
    // (the query states orders_older_hold's WHERE term, so that SQLite uses that index).
    auto res = [&]() -> db::expected<db::query_result> {
        if (auto derived = order_id_of_hold(hold_id); !derived.empty()) {
            auto r = c.exec(
                "SELECT id, event_id, user_id, status FROM orders WHERE id = ? AND hold_id = ?",
                {derived, hold_id});
            if (!r || !r->rows.empty()) return r;
        }
        return c.exec(
            "SELECT id, event_id, user_id, status FROM orders "
            "WHERE hold_id = ? AND hold_id <> 'hld_' || substr(id, 5)",
            {hold_id});
    }();
    if (!res) return std::unexpected(res.error());
    if (res->rows.empty()) return std::optional<hold_row>{};
    const auto& r = res->rows.front();
    auto status = parse_order_status(r.text(3));
    TKT_ASSERT(status.has_value());
    return hold_row{
        .order_id = r.text(0), .event_id = r.int64(1), .user_id = r.int64(2), .status = *status};
}

db::expected<std::optional<order>> find_order_by_hold(db::connection& c,
                                                      const std::string& hold_id) {
    auto found = find_hold(c, hold_id);
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::optional<order>{};
    return find_order(c, (*found)->order_id);
}

namespace {

// orders_live's own WHERE term (migrations 004, 005): SQLite uses a partial index only for a
// query that states it, so every read of live orders starts with it.
constexpr std::string_view live_orders = "status IN ('PENDING_PAYMENT', 'CONFIRMING')";

// The orders with a payment attempt (confirming_at set: orders_user and orders_event, partial on
// it since migrations 005 and 008) and the holds awaiting payment (orders_live), whose `column`
// is `id`, newest first; `tail` follows the ORDER BY (a LIMIT, or nothing).
db::expected<std::vector<order>> attempts_and_live_holds(db::connection& c, std::string_view column,
                                                         std::int64_t id, std::string_view tail) {
    return select_orders(
        c,
        fmt::format("WHERE {0} = ? AND confirming_at IS NOT NULL "
                    "UNION ALL SELECT {1} FROM orders WHERE {2} AND status = 'PENDING_PAYMENT' "
                    "AND {0} = ? AND confirming_at IS NULL ORDER BY created_at DESC, id{3}",
                    column, order_columns, live_orders, tail),
        {id, id});
}

}  // namespace

db::expected<std::vector<order>> orders_of_user(db::connection& c, std::int64_t user_id) {
    return attempts_and_live_holds(c, "user_id", user_id, " LIMIT 200");
}

db::expected<std::vector<order>> orders_of_event(db::connection& c, std::int64_t event_id) {
    return attempts_and_live_holds(c, "event_id", event_id, "");
}

db::expected<sales_totals> sales_of_event(db::connection& c, std::int64_t event_id) {
    // The rows the order list reads (orders_of_event), counted where they lie: the orders with
    // a payment attempt (the event's partial index on SQLite) and the live holds without one.
    auto r = c.exec(
        "SELECT status, COUNT(*), COALESCE(SUM(amount), 0), COUNT(paid_at) FROM orders "
        "WHERE event_id = ? AND confirming_at IS NOT NULL GROUP BY status",
        {event_id});
    if (!r) return std::unexpected(r.error());
    // live_orders is the condition of the live-orders index (as in attempts_and_live_holds).
    auto holds = c.exec(fmt::format("SELECT COUNT(*) FROM orders WHERE {} AND status = "
                                    "'PENDING_PAYMENT' AND event_id = ? AND confirming_at IS NULL",
                                    live_orders),
                        {event_id});
    if (!holds) return std::unexpected(holds.error());
    // A reserved order names its seats in JSON (its quantity is 0): its tickets are counted,
    // through the tickets' event index.
    auto tickets = c.exec(
        "SELECT COUNT(*) FROM tickets JOIN orders ON orders.id = tickets.order_id "
        "WHERE tickets.event_id = ? AND orders.status = 'PAID'",
        {event_id});
    if (!tickets) return std::unexpected(tickets.error());
    sales_totals t;
    t.awaiting_payment = holds->rows.at(0).int64(0);
    t.tickets_sold = tickets->rows.at(0).int64(0);
    for (const auto& row : r->rows) {
        const auto& status = row.text(0);
        const auto count = row.int64(1);
        if (status == "PAID") {
            t.paid_orders = count;
            t.revenue = row.int64(2);
        } else if (status == "PENDING_PAYMENT" || status == "CONFIRMING") {
            t.awaiting_payment += count;
        } else if (status == "FAILED") {
            t.failed = count;
        } else if (status == "REFUNDING") {
            t.refunding = count;
        } else if (status == "REFUND_FAILED") {
            t.refund_failed = count;
        } else if (status == "REFUNDED") {
            t.refunded += count;
        } else if (status == "CANCELLED") {
            t.refunded += row.int64(3);  // cancelled after a payment: the money went back
        }
    }
    return t;
}

db::expected<std::vector<order>> orders_to_restore(db::connection& c, std::int64_t event_id) {
    return select_orders(
        c, "WHERE event_id = ? AND status IN ('PAID', 'PENDING_PAYMENT', 'CONFIRMING')",
        {event_id});
}

db::expected<std::vector<order>> overdue_pending(db::connection& c, std::int64_t before,
                                                 int limit) {
    return select_orders(
        c,
        fmt::format("WHERE {} AND status = 'PENDING_PAYMENT' AND expires_at < ? LIMIT ?",
                    live_orders),
        {before, std::int64_t{limit}});
}

db::expected<std::vector<order>> orders_in(db::connection& c, order_status status) {
    if (status == order_status::pending_payment || status == order_status::confirming) {
        return select_orders(c, fmt::format("WHERE {} AND status = ?", live_orders),
                             {std::string(to_string(status))});
    }
    return select_orders(c, "WHERE status = ?", {std::string(to_string(status))});
}

db::expected<std::vector<order>> confirming_due(db::connection& c, std::int64_t now, int limit) {
    return select_orders(
        c,
        fmt::format(
            "WHERE {} AND status = 'CONFIRMING' AND COALESCE(next_check_at, 0) <= ? LIMIT ?",
            live_orders),
        {now, std::int64_t{limit}});
}

db::expected<std::vector<order>> refunding_due(db::connection& c, std::int64_t now, int limit) {
    // orders_refunding's own WHERE term, so that SQLite reads that index.
    return select_orders(
        c, "WHERE status = 'REFUNDING' AND next_check_at <= ? ORDER BY next_check_at LIMIT ?",
        {now, std::int64_t{limit}});
}

db::expected<bool> claim_check(db::connection& c, const order& o, std::int64_t next_check_at) {
    // `IS` compares NULLs as equal in SQLite; MySQL spells it `<=>`.
    auto res =
        c.exec(c.kind() == db::dialect::mysql
                   ? "UPDATE orders SET next_check_at = ?, check_attempts = check_attempts + 1 "
                     "WHERE id = ? AND status = ? AND next_check_at <=> ?"
                   : "UPDATE orders SET next_check_at = ?, check_attempts = check_attempts + 1 "
                     "WHERE id = ? AND status = ? AND next_check_at IS ?",
               {next_check_at, o.id, std::string(to_string(o.status)),
                o.next_check_at == 0 ? db::value(nullptr) : db::value(o.next_check_at)});
    if (!res) return std::unexpected(res.error());
    return res->affected_rows == 1;
}

db::expected<std::vector<order>> attempts_of_event_in(db::connection& c, std::int64_t event_id,
                                                      order_status status) {
    return select_orders(c, "WHERE event_id = ? AND confirming_at IS NOT NULL AND status = ?",
                         {event_id, std::string(to_string(status))});
}

db::expected<std::vector<order>> holds_of_event(db::connection& c, std::int64_t event_id) {
    return select_orders(
        c, fmt::format("WHERE {} AND status = 'PENDING_PAYMENT' AND event_id = ?", live_orders),
        {event_id});
}

db::expected<std::vector<std::int64_t>> cancelled_events_with_paid_orders(db::connection& c) {
    auto res = c.exec(
        "SELECT e.id FROM events e WHERE e.status = 'CANCELLED' AND EXISTS (SELECT 1 FROM orders o "
        "WHERE o.event_id = e.id AND o.confirming_at IS NOT NULL AND o.status = 'PAID')",
        {});
    if (!res) return std::unexpected(res.error());
    std::vector<std::int64_t> out;
    for (const auto& r : res->rows) out.push_back(r.int64(0));
    return out;
}

db::expected<std::string> event_status_text(db::connection& c, std::int64_t event_id) {
    auto res = c.exec("SELECT status FROM events WHERE id = ?", {event_id});
    if (!res) return std::unexpected(res.error());
    return res->rows.empty() ? std::string{} : res->rows.front().text(0);
}

db::expected<std::optional<std::string>> order_id_of_payment(db::connection& c,
                                                             const std::string& payment_key) {
    // orders_payment_key's own WHERE term; then the payment rows (a capture learned of by the
    // webhook is recorded there before any confirm of ours named it).
    auto res = c.exec(
        "SELECT id FROM orders WHERE payment_key IS NOT NULL AND payment_key = ? "
        "UNION ALL SELECT order_id FROM payments WHERE payment_key = ? LIMIT 1",
        {payment_key, payment_key});
    if (!res) return std::unexpected(res.error());
    if (res->rows.empty()) return std::optional<std::string>{};
    return std::optional<std::string>{res->rows.front().text(0)};
}

transition transition_for(std::string id, money_move move, std::string now_text,
                          paid_before was_paid) {
    const auto from = from_states(move);
    transition t{.id = std::move(id),
                 .from = std::vector<order_status>(from.begin(), from.end()),
                 .to = target(move, was_paid),
                 .now_text = std::move(now_text)};
    t.unpaid_only = move == money_move::refund_capture;
    t.open_event_only = move == money_move::confirm;
    return t;
}

db::expected<bool> change_status(db::connection& c, const transition& t) {
    TKT_ASSERT(!t.from.empty());
    std::string sql = "UPDATE orders SET status = ?, updated_at = ?";
    std::vector<db::value> params{std::string(to_string(t.to)), t.now_text};
    auto set = [&](std::string_view column, db::value v) {
        sql += fmt::format(", {} = ?", column);
        params.push_back(std::move(v));
    };
    if (t.payment_key) set("payment_key", *t.payment_key);
    if (t.expires_at) set("expires_at", *t.expires_at);
    if (t.confirming_at) set("confirming_at", *t.confirming_at);
    if (t.next_check_at) set("next_check_at", *t.next_check_at);
    if (t.failure_code) set("failure_code", *t.failure_code);
    if (t.failure_message) set("failure_message", *t.failure_message);
    if (t.check_attempts) set("check_attempts", *t.check_attempts);
    if (t.to == order_status::paid) set("paid_at", t.now_text);
    if (t.to == order_status::cancelled || t.to == order_status::refunded ||
        t.to == order_status::refund_failed)
        set("cancelled_at", t.now_text);
    // ORs, not `status IN (…)`: SQLite builds a temporary b-tree per execution for an IN list of
    // more than two values (migration 007).
    sql += " WHERE id = ? AND (";
    params.push_back(t.id);
    for (std::size_t i = 0; i < t.from.size(); ++i) {
        sql += i == 0 ? "status = ?" : " OR status = ?";
        params.push_back(std::string(to_string(t.from[i])));
    }
    sql += ")";
    if (t.unpaid_only) sql += " AND paid_at IS NULL";
    if (t.open_event_only) {
        sql +=
            " AND EXISTS (SELECT 1 FROM events e WHERE e.id = orders.event_id AND e.status <> "
            "'CLOSED' AND e.status <> 'CANCELLED')";
    }
    if (t.expired_by) {
        sql += " AND expires_at <= ?";
        params.push_back(*t.expired_by);
    }
    auto res = c.exec(sql, params);
    if (!res) return std::unexpected(res.error());
    return res->affected_rows == 1;
}

db::expected<std::vector<ticket_row>> tickets_of_order(db::connection& c,
                                                       const std::string& order_id) {
    auto res = c.exec(
        fmt::format("SELECT {} FROM tickets WHERE order_id = ? ORDER BY seat, id", ticket_columns),
        {order_id});
    if (!res) return std::unexpected(res.error());
    std::vector<ticket_row> out;
    for (const auto& r : res->rows) out.push_back(ticket_from_row(r));
    return out;
}

db::expected<void> insert_ticket(db::connection& c, const ticket_row& t) {
    auto res = c.exec(
        "INSERT INTO tickets (id, order_id, event_id, user_id, seat, zone, grade, price, code, "
        "status, "
        "created_at) VALUES (?,?,?,?,?,?,?,?,?,'VALID',?)",
        {t.id, t.order_id, t.event_id, t.user_id, nullable(t.seat), nullable(t.zone), t.grade,
         t.price, t.code, t.created_at});
    if (!res) return std::unexpected(res.error());
    return {};
}

db::expected<std::int64_t> void_tickets(db::connection& c, const std::string& order_id,
                                        void_scope scope) {
    auto res =
        c.exec(scope == void_scope::valid
                   ? "UPDATE tickets SET status = 'VOID' WHERE order_id = ? AND status = 'VALID'"
                   : "UPDATE tickets SET status = 'VOID' WHERE order_id = ? AND status <> 'VOID'",
               {order_id});
    if (!res) return std::unexpected(res.error());
    return res->affected_rows;
}

db::expected<std::int64_t> used_tickets(db::connection& c, const std::string& order_id) {
    auto res =
        c.exec("SELECT COUNT(*) FROM tickets WHERE order_id = ? AND status = 'USED'", {order_id});
    if (!res) return std::unexpected(res.error());
    return res->rows.empty() ? 0 : res->rows.front().int64(0);
}

db::expected<bool> use_ticket(db::connection& c, const std::string& ticket_id,
                              std::int64_t event_id, const std::string& now_text) {
    // One statement: a cancellation moves the order out of PAID and voids its tickets in one
    // transaction, so a scan either comes first (and the cancellation sees a USED ticket and is
    // refused) or finds the order no longer PAID.
    auto res = c.exec(
        "UPDATE tickets SET status = 'USED', used_at = ? WHERE id = ? AND event_id = ? AND status "
        "= 'VALID' AND EXISTS (SELECT 1 FROM orders o WHERE o.id = tickets.order_id AND o.status = "
        "'PAID') AND EXISTS (SELECT 1 FROM events e WHERE e.id = tickets.event_id AND e.status <> "
        "'CANCELLED')",
        {now_text, ticket_id, event_id});
    if (!res) return std::unexpected(res.error());
    return res->affected_rows == 1;
}

db::expected<std::int64_t> live_zone_tickets(db::connection& c, std::int64_t event_id,
                                             const std::string& zone) {
    auto res =
        c.exec("SELECT COUNT(*) FROM tickets WHERE event_id = ? AND zone = ? AND status <> 'VOID'",
               {event_id, zone});
    if (!res) return std::unexpected(res.error());
    return res->rows.empty() ? 0 : res->rows.front().int64(0);
}

db::expected<std::vector<ticket_row>> live_tickets_of_event(db::connection& c,
                                                            std::int64_t event_id) {
    auto res = c.exec(
        fmt::format(
            "SELECT {} FROM tickets WHERE event_id = ? AND status <> 'VOID' ORDER BY order_id",
            ticket_columns),
        {event_id});
    if (!res) return std::unexpected(res.error());
    std::vector<ticket_row> out;
    for (const auto& r : res->rows) out.push_back(ticket_from_row(r));
    return out;
}

db::expected<void> upsert_payment(db::connection& c, const payment_row& p,
                                  const std::string& now_text) {
    auto res = c.exec(
        c.kind() == db::dialect::mysql
            ? "INSERT INTO payments (payment_key, order_id, amount, status, method, approved_at, "
              "created_at) VALUES (?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE "
              "cancelled_at = CASE WHEN VALUES(status) = 'CANCELED' THEN VALUES(created_at) ELSE "
              "cancelled_at END, status = VALUES(status)"
            : "INSERT INTO payments (payment_key, order_id, amount, status, method, approved_at, "
              "created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (payment_key) DO UPDATE SET "
              "status = excluded.status, cancelled_at = CASE WHEN excluded.status = 'CANCELED' "
              "THEN excluded.created_at ELSE cancelled_at END",
        {p.payment_key, p.order_id, p.amount, p.status, nullable(p.method), nullable(p.approved_at),
         now_text});
    if (!res) return std::unexpected(res.error());
    return {};
}

db::expected<std::vector<payment_row>> payments_of_event(db::connection& c, std::int64_t event_id) {
    auto res = c.exec(
        "SELECT p.payment_key, p.order_id, p.amount, p.status, p.method, p.approved_at FROM "
        "payments p "
        "JOIN orders o ON o.id = p.order_id WHERE o.event_id = ? AND o.confirming_at IS NOT NULL",
        {event_id});
    if (!res) return std::unexpected(res.error());
    std::vector<payment_row> out;
    for (const auto& r : res->rows) {
        out.push_back(
            payment_row{r.text(0), r.text(1), r.int64(2), r.text(3), r.text(4), r.text(5)});
    }
    return out;
}

db::expected<std::vector<std::string>> payments_without_order(db::connection& c) {
    auto res = c.exec(
        "SELECT payment_key FROM payments p WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = "
        "p.order_id)",
        {});
    if (!res) return std::unexpected(res.error());
    std::vector<std::string> out;
    for (const auto& r : res->rows) out.push_back(r.text(0));
    return out;
}

db::expected<void> insert_outbox(db::connection& c, const outbox_message& m,
                                 const std::string& now_text) {
    auto res = c.exec(
        "INSERT INTO outbox (user_id, type, title, body, data_json, created_at) VALUES "
        "(?,?,?,?,?,?)",
        {m.user_id, m.type, m.title, m.body, m.data_json, now_text});
    if (!res) return std::unexpected(res.error());
    return {};
}

db::expected<std::optional<idempotent_answer>> find_idempotency(db::connection& c,
                                                                std::int64_t user_id,
                                                                const std::string& key) {
    auto res = c.exec(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE user_id = ? AND "
        "idem_key = ?",
        {user_id, key});
    if (!res) return std::unexpected(res.error());
    if (res->rows.empty()) return std::optional<idempotent_answer>{};
    const auto& r = res->rows.front();
    return std::optional<idempotent_answer>{
        idempotent_answer{r.text(0), static_cast<int>(r.int64(1)), r.text(2)}};
}

namespace {

// MySQL has no conditional upsert (ON DUPLICATE KEY UPDATE takes no WHERE, and with
// CLIENT_FOUND_ROWS an update to the same values counts as the insert's 1): the stale key is
// taken over first, then a new one inserted; a key another request inserted meanwhile is a
// duplicate, which means "not ours", as SQLite's upsert that changed nothing.
db::expected<bool> claim_idempotency_mysql(db::connection& c, std::int64_t user_id,
                                           const std::string& key, const std::string& request_hash,
                                           const idempotency_claim& at) {
    auto taken = c.exec(
        "UPDATE idempotency_keys SET request_hash = ?, status_code = 0, response = NULL, "
        "created_at = ? WHERE user_id = ? AND idem_key = ? AND "
        "((status_code = 0 AND created_at < ?) OR created_at < ?)",
        {request_hash, at.now, user_id, key, at.stale_before, at.expired_before});
    if (!taken) return std::unexpected(taken.error());
    if (taken->affected_rows == 1) return true;
    auto inserted = c.exec(
        "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status_code, created_at) "
        "VALUES (?,?,?,0,?)",
        {user_id, key, request_hash, at.now});
    if (inserted) return true;
    if (inserted.error().code == db::errc::constraint_unique) return false;
    return std::unexpected(inserted.error());
}

}  // namespace

db::expected<bool> claim_idempotency(db::connection& c, std::int64_t user_id,
                                     const std::string& key, const std::string& request_hash,
                                     const idempotency_claim& at) {
    if (c.kind() == db::dialect::mysql) {
        return claim_idempotency_mysql(c, user_id, key, request_hash, at);
    }
    auto res = c.exec(
        "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status_code, created_at) "
        "VALUES (?,?,?,0,?) ON CONFLICT (user_id, idem_key) DO UPDATE SET request_hash = "
        "excluded.request_hash, status_code = 0, response = NULL, created_at = excluded.created_at "
        "WHERE (status_code = 0 AND created_at < ?) OR created_at < ?",
        {user_id, key, request_hash, at.now, at.stale_before, at.expired_before});
    if (!res) return std::unexpected(res.error());
    return res->affected_rows == 1;
}

db::expected<std::int64_t> purge_idempotency(db::connection& c, std::int64_t expired_before) {
    auto res = c.exec("DELETE FROM idempotency_keys WHERE created_at < ?", {expired_before});
    if (!res) return std::unexpected(res.error());
    return res->affected_rows;
}

db::expected<void> store_idempotency(db::connection& c, std::int64_t user_id,
                                     const std::string& key, int status_code,
                                     const std::string& response) {
    auto res = c.exec(
        "UPDATE idempotency_keys SET status_code = ?, response = ? WHERE user_id = ? AND idem_key "
        "= ?",
        {std::int64_t{status_code}, response, user_id, key});
    if (!res) return std::unexpected(res.error());
    return {};
}

db::expected<void> drop_idempotency(db::connection& c, std::int64_t user_id,
                                    const std::string& key) {
    auto res =
        c.exec("DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ?", {user_id, key});
    if (!res) return std::unexpected(res.error());
    return {};
}

}  // namespace tkt::booking::store
