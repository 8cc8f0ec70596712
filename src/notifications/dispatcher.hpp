#pragma once
// The dispatcher role (DESIGN.md §4, §7; issue 12): turns outbox rows into notifications and
// publishes them on the bus, from where every api node delivers them to that user's streams.
//
// One pass (dispatch_once) takes up to `batch` rows not yet dispatched, oldest first, and
// 1. makes the notifications of the rows not yet materialized — for a row to a user, one; for a
//    notice to an event, one per ticket holder — and marks those rows materialized, all in one
//    transaction;
// 2. reads back every notification of the batch's rows (also those made by an earlier pass
//    that crashed before step 3) and publishes each on "notify.<user>", in id order;
// 3. marks the rows dispatched.
// A crash (kill -9) between 1 and 3 replays 2 on the next pass: nothing is made twice (the
// materialized flag, checked by a compare-and-set, and the unique (outbox_id, user_id)), and a
// stream never shows a notification twice (it writes only ids above the last it wrote). A crash
// before 1 commits makes nothing; the next pass makes it. So every notification is made exactly
// once and published at least once.
//
// Only one dispatcher may run passes at a time per database, so that ids are published in order:
// the embedded process runs the only one (serve.cpp); nothing enforces it across processes yet
// (the distributed deployment is to take a Lease first).
// Failpoints for the crash tests: notifications.after_materialize, notifications.after_publish.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <boost/asio/awaitable.hpp>

#include "bus/bus.hpp"
#include "common/clock.hpp"
#include "common/problem.hpp"
#include "db/database.hpp"

namespace tkt::notifications {

struct dispatcher_options {
    // Outbox rows per pass (a notice to an event counts as one row however many it reaches).
    std::int64_t batch = 256;
};

class dispatcher {
public:
    dispatcher(db::database& db, bus::bus& b, const clock& clk, dispatcher_options options = {});

    struct pass {
        std::size_t rows = 0;       // outbox rows dispatched
        std::size_t made = 0;       // notifications made
        std::size_t published = 0;  // notifications published (made now or replayed)
    };
    // One pass; a full batch means more may be waiting (call again at once).
    boost::asio::awaitable<result<pass>> dispatch_once();
    // Passes until the outbox is empty or a pass fails.
    boost::asio::awaitable<result<pass>> drain();

    std::int64_t batch() const { return options_.batch; }
    // Prometheus lines: ticketon_notifications_made_total, _published_total,
    // ticketon_outbox_dispatched_total.
    void collect_metrics(std::string& out) const;

private:
    db::database& db_;
    bus::bus& bus_;
    const clock& clock_;
    dispatcher_options options_;
    std::atomic<std::uint64_t> made_{0};
    std::atomic<std::uint64_t> published_{0};
    std::atomic<std::uint64_t> rows_{0};
};

}  // namespace tkt::notifications
