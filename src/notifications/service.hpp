#pragma once
// A user's notifications (DESIGN.md §7, issue 12): the list with its unread count, marking read,
// deleting; and the notices managers and admins send (POST /notifications).
//
// Every operation is the caller's own: a notification of another user is NOT_FOUND, as if it did
// not exist. A notice is one outbox row, written and answered at once (202); the dispatcher
// fans it out to the event's ticket holders, however many, off the request's path. A manager
// reaches only the ticket holders of their own events (another's event is NOT_FOUND) and no
// single user; an admin reaches any event's holders or any one user.
//
// Thread-safety: any thread; state lives in the database.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/user.hpp"
#include "catalog/event.hpp"
#include "common/clock.hpp"
#include "common/problem.hpp"
#include "db/database.hpp"
#include "notifications/notification.hpp"

namespace tkt::notifications {

struct service_dependencies {
    db::database& db;
    const clock& clk;
    // The event by id (nullptr when unknown).
    std::function<std::shared_ptr<const catalog::event>(std::int64_t)> find_event;
};

struct page {
    std::vector<notification> items;
    std::int64_t unread_count = 0;
    std::optional<std::int64_t> next_before;  // the next page's `before`, when it may exist
};

struct notice_receipt {
    std::int64_t notice_id = 0;  // the outbox row
    std::optional<std::int64_t> event_id;
    std::optional<std::int64_t> user_id;
    std::int64_t recipients = 0;  // counted when accepted; the fan-out reaches those of then
};

class service {
public:
    explicit service(service_dependencies deps);

    boost::asio::awaitable<result<page>> list(auth::principal who, list_request q);
    boost::asio::awaitable<result<void>> mark_read(auth::principal who, std::int64_t id);
    boost::asio::awaitable<result<void>> mark_all_read(auth::principal who);
    boost::asio::awaitable<result<void>> remove(auth::principal who, std::int64_t id);
    boost::asio::awaitable<result<void>> remove_all(auth::principal who);

    boost::asio::awaitable<result<notice_receipt>> send_notice(auth::principal who,
                                                               notice_request n);

    // Deletes read notifications (and dispatched outbox rows) older than `age`, in chunks, until
    // none is left. The rows deleted.
    boost::asio::awaitable<result<std::int64_t>> sweep(std::chrono::seconds age);

private:
    service_dependencies deps_;
};

std::string to_json(const page& p);
std::string to_json(const notice_receipt& r);

}  // namespace tkt::notifications
