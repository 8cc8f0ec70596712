#pragma once
// `ticketon load` (DESIGN.md §10, issue 14): drives simulated users against a running
// deployment and checks the invariants of DESIGN.md §5 at the end.
//
// Scenario `onsale`, per user: sign up, join the event's waiting room, wait for the `admitted`
// event on the queue stream (beyond `streams_max` open streams, poll `GET /queue` instead, every
// half ETA, 1 to 15 s, as a page does), read the seat map and pick one or two seats among the
// first available ones (so users collide on purpose), hold them with the entry token (a 409 marks
// the seats it names taken and picks again, three tries), then abandon a share of the holds
// (release or leave them to expire), pay the rest in the Toss sandbox with a share declined,
// confirm, and cancel a share of the paid orders. Users start at `rate` a second (0: all at once)
// and the run ends after `duration_s` whatever is left. A 503 or 429 answer is recorded and asked
// again after its Retry-After (five tries in all), as a page does.
//
// Scenarios for one step at a time, each user looping until `duration_s`: `seatmap` (GET the
// seat map), `hold` (sign up, then hold one of the first available seats and release it), and
// `join` (sign up and join the waiting room once); and `streams`: users 1… hold the event's seat
// stream open while user 0 holds a seat and releases it each second, and each stream times every
// change from the driver's answer to the delta that carries it (`push`). The event a run creates
// has its waiting room on for `onsale` and `join` only.
//
// At the end it reads the event's audit and queue report as its manager, and checks its own view
// too: no seat in two paid orders, and the paid seats it saw equal what the audit calls sold. Any
// violation is printed and makes the exit code 1.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "load/connection.hpp"

namespace tkt::load {

struct options {
    std::string scenario = "onsale";
    std::vector<target> targets;
    // Where users pay: a standalone Toss sandbox (`ticketon toss-sandbox`, what a deployment of
    // several nodes uses); unset: the user's target at /sandbox/toss (the embedded server's).
    std::optional<target> sandbox;
    std::int64_t users = 100;
    std::int64_t duration_s = 300;
    double rate = 0;  // users started per second; 0: all at once
    double decline_rate = 0.1;
    double abandon_rate = 0.1;
    double cancel_rate = 0.05;
    std::optional<std::int64_t> event_id;  // else the run creates its own event
    std::int64_t seats = 1000;             // of the event it creates
    std::int64_t admit_per_second = 0;     // of the event it creates; 0: users / 20, at least 50
    std::string manager_email;
    std::string manager_password;
    std::string json_file;
    std::string chart_file;
    // Sockets the run opens at once, streams included: under the server's max_connections
    // (10,000 by default) and both sides' file limits. Of them, queue streams take up to
    // streams_max (at most 3/4); the rest carry the users' calls, a user holding one from its
    // seat map to its confirm.
    std::int64_t connections = 8000;
    std::int64_t streams_max = 6000;  // queue streams open at once; the other waiting users poll
    std::uint64_t seed = 1;
    // Each user connects from its own loopback address when the target is on loopback.
    bool spread_sources = true;
};

// Runs the scenario; progress and the report go to `out`. The exit code: 0 when every invariant
// held, 1 when one did not or the run could not start.
int run(const options& o, std::FILE* out);

}  // namespace tkt::load
