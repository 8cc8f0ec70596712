#pragma once
// Tickets after the sale: the owner's list, one ticket, its QR code, and one-time check-in at
// the gate (DESIGN.md §1 "Beyond the seed", §7 tickets and checkin rows).
//
// Tickets are written by the order flow (booking::service) when a payment is done and voided
// when the order is cancelled; this service only reads them and moves VALID → USED. That move is
// a single compare-and-set UPDATE … WHERE status = 'VALID', so however many gates scan one code
// at once, exactly one is told to admit and every other sees ALREADY_USED with the first scan's
// time.
//
// Who may do what: a ticket is visible only to its owner (anyone else gets 404, as if it did not
// exist); check-in is for the MANAGER of the ticket's event or an ADMIN. The event comes from the
// signed code, so a manager of another event is refused before the database is asked, and a
// forged code is refused before anything else.
//
// Every coroutine may be awaited from any I/O thread concurrently; the service holds only
// immutable state, and the SQL runs on the database's DB threads.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/user.hpp"
#include "booking/order.hpp"
#include "booking/ticket_signer.hpp"
#include "common/clock.hpp"
#include "common/problem.hpp"
#include "db/database.hpp"

namespace tkt::booking {

// The manager of an event by id, or nullopt when there is no such event. Called on the I/O
// thread for every check-in, so it must be cheap (the catalog's in-memory cache).
using event_manager_lookup = std::function<std::optional<std::int64_t>(std::int64_t event_id)>;

// A user has at most a few tickets per event; the list is still bounded so that no request can
// make the server read an unbounded number of rows.
inline constexpr std::int64_t tickets_list_max = 1000;

struct checkin_answer {
    ticket_row ticket;  // as it is after the scan: USED
    std::string used_at;
};

class tickets_service {
public:
    tickets_service(db::database& db, const clock& clk, ticket_signer signer,
                    event_manager_lookup manager_of);

    // The caller's tickets, newest first.
    boost::asio::awaitable<result<std::vector<ticket_row>>> list_mine(auth::principal who);
    // One of the caller's tickets; 404 NOT_FOUND for unknown ids and other users' tickets.
    boost::asio::awaitable<result<ticket_row>> find_mine(auth::principal who,
                                                         std::string ticket_id);
    // The SVG image of the QR code of one of the caller's tickets (it encodes the ticket's code).
    boost::asio::awaitable<result<std::string>> qr_svg_of(auth::principal who,
                                                          std::string ticket_id);

    // Admits the holder of `code` once. 400 VALIDATION_FAILED (field "code") for a malformed or
    // forged code; 403 FORBIDDEN unless the caller is an ADMIN or the event's MANAGER; 404 for a
    // genuine code whose ticket is gone; 409 ALREADY_USED (extra member usedAt: the first scan's
    // time) for a used ticket; 409 CONFLICT for a void (cancelled) one.
    boost::asio::awaitable<result<checkin_answer>> check_in(auth::principal who, std::string code);

    const ticket_signer& signer() const { return signer_; }

private:
    result<void> may_check_in(auth::principal who, std::int64_t event_id) const;

    db::database& db_;
    const clock& clock_;
    ticket_signer signer_;
    event_manager_lookup manager_of_;
};

}  // namespace tkt::booking
