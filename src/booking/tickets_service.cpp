#include "booking/tickets_service.hpp"

#include <fmt/core.h>

#include "booking/order_store.hpp"
#include "booking/qr_svg.hpp"
#include "common/log.hpp"
#include "db/problem.hpp"

namespace tkt::booking {
namespace {

using boost::asio::awaitable;

constexpr std::string_view ticket_columns =
    "id, order_id, event_id, user_id, seat, zone, grade, price, code, status, used_at, "
    "created_at";

ticket_row read_ticket(const db::row& r) {
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

db::expected<std::vector<ticket_row>> select_user_tickets(db::connection& c, std::int64_t user_id) {
    // Tickets of one order share created_at; within an order they read in seat order.
    const auto sql = fmt::format(
        "SELECT {} FROM tickets WHERE user_id = ? "
        "ORDER BY created_at DESC, order_id DESC, seat, zone, id LIMIT ?",
        ticket_columns);
    auto r = c.exec(sql, {user_id, tickets_list_max});
    if (!r) return std::unexpected(std::move(r.error()));
    std::vector<ticket_row> tickets;
    tickets.reserve(r->rows.size());
    for (const auto& row : r->rows) tickets.push_back(read_ticket(row));
    return tickets;
}

db::expected<std::optional<ticket_row>> select_user_ticket(db::connection& c,
                                                           const std::string& ticket_id,
                                                           std::int64_t user_id) {
    const auto sql =
        fmt::format("SELECT {} FROM tickets WHERE id = ? AND user_id = ?", ticket_columns);
    auto r = c.exec(sql, {ticket_id, user_id});
    if (!r) return std::unexpected(std::move(r.error()));
    if (r->rows.empty()) return std::optional<ticket_row>{};
    return std::optional<ticket_row>{read_ticket(r->rows.front())};
}

// What one scan found: whether this scan moved the ticket to USED, and the row afterwards.
struct scan_outcome {
    bool admitted = false;
    std::optional<ticket_row> ticket;
};

// The compare-and-set: only a VALID ticket becomes USED, so of any number of concurrent scans
// exactly one sees one affected row. The row is read back in the same transaction so the answer
// describes the state this scan produced or lost to.
db::expected<scan_outcome> scan_ticket(db::connection& c, const parsed_code& code,
                                       const std::string& now) {
    auto admitted = store::use_ticket(c, code.ticket_id, code.event_id, now);
    if (!admitted) return std::unexpected(std::move(admitted.error()));
    const auto sql =
        fmt::format("SELECT {} FROM tickets WHERE id = ? AND event_id = ?", ticket_columns);
    auto found = c.exec(sql, {code.ticket_id, code.event_id});
    if (!found) return std::unexpected(std::move(found.error()));
    scan_outcome outcome{.admitted = *admitted, .ticket = std::nullopt};
    if (!found->rows.empty()) outcome.ticket = read_ticket(found->rows.front());
    return outcome;
}

problem db_problem(const db::error& e) {
    return db::as_problem(e, "tickets");
}

problem ticket_not_found() {
    return make_problem(problem_code::not_found, "no such ticket");
}

// Maps a scan that did not admit to the answer the gate shows.
problem refused_scan(const ticket_row& t) {
    if (t.status == "USED") {
        auto p = make_problem(problem_code::already_used,
                              fmt::format("ticket was already used at {}", t.used_at));
        p.extra["usedAt"] = t.used_at;
        p.extra["ticketId"] = t.id;
        return p;
    }
    // VOID, or still VALID while its order is no longer PAID or its event is cancelled: a
    // cancellation won (its tickets become VOID in the same transaction, or, for an event's,
    // right after).
    return make_problem(problem_code::conflict, "ticket was cancelled");
}

}  // namespace

tickets_service::tickets_service(db::database& db, const clock& clk, ticket_signer signer,
                                 event_manager_lookup manager_of)
    : db_(db), clock_(clk), signer_(std::move(signer)), manager_of_(std::move(manager_of)) {}

awaitable<result<std::vector<ticket_row>>> tickets_service::list_mine(auth::principal who) {
    auto found = co_await db_.run(
        [id = who.user_id](db::connection& c) { return select_user_tickets(c, id); });
    if (!found) co_return std::unexpected(db_problem(found.error()));
    co_return std::move(*found);
}

awaitable<result<ticket_row>> tickets_service::find_mine(auth::principal who,
                                                         std::string ticket_id) {
    // An id that no code could carry names no ticket; the database need not be asked.
    if (!valid_ticket_id(ticket_id)) co_return std::unexpected(ticket_not_found());
    auto found = co_await db_.run([&ticket_id, id = who.user_id](db::connection& c) {
        return select_user_ticket(c, ticket_id, id);
    });
    if (!found) co_return std::unexpected(db_problem(found.error()));
    if (!*found) co_return std::unexpected(ticket_not_found());
    co_return std::move(**found);
}

awaitable<result<std::string>> tickets_service::qr_svg_of(auth::principal who,
                                                          std::string ticket_id) {
    auto op = find_mine(who, std::move(ticket_id));
    auto found = co_await std::move(op);
    if (!found) co_return std::unexpected(std::move(found.error()));
    auto svg = render_qr_svg(found->code);
    if (!svg) {
        log::error("tickets.qr_failed", {{"ticketId", found->id}});
        co_return std::unexpected(make_problem(problem_code::internal, "cannot draw the QR code"));
    }
    co_return std::move(*svg);
}

result<void> tickets_service::may_check_in(auth::principal who, std::int64_t event_id) const {
    if (who.role == auth::role::admin) return {};
    if (who.role == auth::role::manager && manager_of_) {
        const auto manager = manager_of_(event_id);
        if (manager && *manager == who.user_id) return {};
    }
    return std::unexpected(make_problem(
        problem_code::forbidden, "only the event's manager or an admin may check its tickets in"));
}

awaitable<result<checkin_answer>> tickets_service::check_in(auth::principal who, std::string code) {
    const auto parsed = signer_.verify(code);
    if (!parsed) co_return std::unexpected(validation_error("code", "is not a valid ticket code"));
    if (auto allowed = may_check_in(who, parsed->event_id); !allowed) {
        co_return std::unexpected(std::move(allowed.error()));
    }
    const auto now = auth::format_rfc3339(clock_.now());
    auto outcome = co_await db_.transact(
        [&parsed, &now](db::connection& c) { return scan_ticket(c, *parsed, now); });
    if (!outcome) co_return std::unexpected(db_problem(outcome.error()));
    if (!outcome->ticket) co_return std::unexpected(ticket_not_found());
    if (!outcome->admitted) co_return std::unexpected(refused_scan(*outcome->ticket));
    log::info("tickets.checked_in", {{"ticketId", outcome->ticket->id},
                                     {"eventId", outcome->ticket->event_id},
                                     {"by", who.user_id}});
    auto used_at = outcome->ticket->used_at;
    co_return checkin_answer{.ticket = std::move(*outcome->ticket), .used_at = std::move(used_at)};
}

}  // namespace tkt::booking
