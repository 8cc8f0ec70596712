#pragma once
// What the waiting room's conformance suites (waiting_room_conformance.hpp,
// lease_conformance.hpp) share: running an awaitable to its end, the suites' start time and room
// settings. Apart, so that an engine's test can run one suite without the other.
#include <chrono>
#include <cstdint>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "waiting_room/room.hpp"

namespace tkt::waiting_room::conformance {

template <class T>
T run(boost::asio::awaitable<T> op) {
    boost::asio::io_context io;
    auto result = boost::asio::co_spawn(io, std::move(op), boost::asio::use_future);
    io.run();
    return result.get();
}

inline const time_point t0{std::chrono::seconds{1'800'000'000}};

inline room_settings settings(std::int32_t rate, std::int32_t max_active) {
    using namespace std::chrono_literals;
    return room_settings{
        .admit_per_second = rate, .max_active = max_active, .entry_ttl = 600s, .grace = 300s};
}

}  // namespace tkt::waiting_room::conformance
