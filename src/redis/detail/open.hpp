#pragma once
// Opening a connection to a Redis server, shared by `connection` and `subscriber`: resolve,
// connect, then AUTH and SELECT when the options ask, all within options.connect_timeout.
#include <chrono>
#include <expected>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "redis/connection.hpp"

namespace tkt::redis::detail {

// `socket` is closed on entry; on success it is open and ready, on failure closed again.
// Runs on the socket's executor (a strand).
boost::asio::awaitable<std::expected<void, error>> open(boost::asio::ip::tcp::socket& socket,
                                                        const connection_options& options);

// The wait before the next reconnection attempt after one that waited `previous`.
std::chrono::milliseconds next_reconnect_delay(std::chrono::milliseconds previous,
                                               const connection_options& options);

}  // namespace tkt::redis::detail
