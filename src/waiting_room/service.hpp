#pragma once
// The waiting room as users and the hold path meet it (DESIGN.md §6, §7): join, look, leave;
// entry tokens checked on holds; the admission ticker that lets the line in.
//
// - join: an event with its waiting room on, SCHEDULED before salesOpenAt → the pre-queue;
//   on sale → the line. Off → ADMITTED at once with no token (holds need none). DRAFT or
//   unknown → 404; sold out → 409 SOLD_OUT; closed or cancelled → 409 SALES_NOT_OPEN.
// - entry check (POST /events/{id}/holds while the room is on): no token → 403
//   QUEUE_TOKEN_REQUIRED; a token that is not a valid, unexpired entry token of this user for
//   this event, or whose slot has ended (left, expired, used up) → 403 QUEUE_TOKEN_INVALID.
//   The signature check is a few microseconds and the slot check a lookup in memory (embedded).
// - tick (every `tick` ms, from the app): for each room whose lease this node holds: opens it
//   when its event opens (drawing the pre-queue), moves its head (room.hpp), and publishes the
//   new head on the bus as topic "queue.<event>" (message: the head, decimal) so every node's
//   streams can tell their clients. Once a second it asks the inventory which holds made with
//   an entry have ended, which gives those slots back. Rooms of cancelled, closed or deleted
//   events are dropped.
// Every coroutine may run on any I/O thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "auth/account_cache.hpp"
#include "auth/jwt.hpp"
#include "auth/user.hpp"
#include "bus/bus.hpp"
#include "catalog/event.hpp"
#include "common/clock.hpp"
#include "common/problem.hpp"
#include "inventory/inventory.hpp"
#include "waiting_room/lease.hpp"
#include "waiting_room/waiting_room.hpp"

namespace tkt::waiting_room {

struct service_options {
    std::chrono::milliseconds tick{100};
    // How long an absent user keeps their place.
    std::chrono::seconds grace{300};
    std::chrono::milliseconds lease_ttl{3000};
    // This node's name for leases.
    std::string node = "embedded";
    // The entry tokens' `iss`.
    std::string issuer = "ticketon";
};

struct dependencies {
    waiting_room& rooms;
    lease& leases;
    bus::bus& bus;
    const clock& clk;
    // The event by id (nullptr when unknown); cheap.
    std::function<std::shared_ptr<const catalog::event>(std::int64_t)> find_event;
    const auth::keyring& keys;
    inventory::inventory& inventory;
};

// What GET/POST /events/{id}/queue answer.
struct queue_view {
    enum class state { waiting, admitted } status = state::waiting;
    bool pre_queue = false;
    bool room_off = false;  // the event has no waiting room: go ahead, no token needed
    seq_t seq = 0;
    std::int64_t position = 0;
    std::int64_t eta_seconds = 0;
    std::optional<std::string> entry_token;
    std::optional<time_point> expires_at;
    std::optional<time_point> sales_open_at;  // the pre-queue's opening
};

boost::json::object to_json(const queue_view& v);

// GET /manager/events/{id}/queue: the room now and its invariants checked.
struct queue_report {
    std::int64_t event_id = 0;
    bool enabled = false;
    std::optional<room_stats> stats;  // none: nobody has joined yet
    std::int32_t admit_per_second = 0;
    std::int32_t max_active = 0;
    std::vector<std::string> violations;
};

boost::json::object to_json(const queue_report& r);

// The topic on which an event's new head is published.
std::string queue_topic(std::int64_t event_id);

class service {
public:
    service(dependencies deps, service_options options);

    boost::asio::awaitable<result<queue_view>> join(auth::principal who, std::int64_t event_id);
    // 404 when the user is not in the event's room.
    boost::asio::awaitable<result<queue_view>> status(auth::principal who, std::int64_t event_id);
    boost::asio::awaitable<result<void>> leave(auth::principal who, std::int64_t event_id);
    // For the event's manager (or an admin): 404 for anyone else, as for a draft.
    boost::asio::awaitable<result<queue_report>> report(auth::principal who, std::int64_t event_id);

    // The hold path's check: the seq the token carries (0 when the event's room is off, and no
    // token is needed), or the problem to answer.
    boost::asio::awaitable<result<seq_t>> check_entry(auth::principal who, std::int64_t event_id,
                                                      std::string token);
    // A hold was made with that entry: its end gives the slot back.
    boost::asio::awaitable<void> entry_used(auth::principal who, std::int64_t event_id, seq_t seq,
                                            std::string hold_id);

    // One pass of the admission ticker over every room.
    boost::asio::awaitable<void> tick();

    // A stream of the user's opened or closed: while one is open, no grace runs.
    boost::asio::awaitable<void> attach(auth::principal who, std::int64_t event_id);
    boost::asio::awaitable<void> detach(auth::principal who, std::int64_t event_id);

    // What user `u` is shown for their ticket: position and ETA, or the entry token.
    queue_view view_of(user_id u, const ticket& t, const catalog::event& e) const;

    const service_options& options() const { return options_; }

    // Prometheus lines: queue length, admitted total, active entries, per event.
    void collect_metrics(std::string& out) const;

private:
    room_settings settings_of(const catalog::event& e) const;
    boost::asio::awaitable<void> tick_room(std::int64_t event_id, time_point now, bool check_holds);

    dependencies deps_;
    service_options options_;
    std::atomic<std::uint64_t> ticks_{0};
    // Entry tokens verified before, by "<event>:<user>:<token>" → seq, until they expire.
    auth::verified_tokens verified_{100'000};
    mutable std::mutex stats_mutex_;
    std::map<std::int64_t, room_stats> stats_;  // as of each room's last tick
};

}  // namespace tkt::waiting_room
