#include "redis/detail/open.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace tkt::redis::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// What the deadline's handler needs; shared because the handler may run after `open` returned.
struct open_state {
    explicit open_state(const asio::any_io_executor& ex) : resolver(ex) {}
    tcp::resolver resolver;
    bool done = false;
    bool timed_out = false;
};

std::string handshake(const connection_options& o, int& replies) {
    std::string out;
    replies = 0;
    if (!o.password.empty()) {
        command auth{"AUTH"};
        if (!o.username.empty()) auth.arg(o.username);
        auth.arg(o.password).encode_to(out);
        ++replies;
    }
    if (o.database != 0) {
        command{"SELECT"}.arg(o.database).encode_to(out);
        ++replies;
    }
    return out;
}

// Writes the AUTH/SELECT bytes and checks that every reply is not an error.
asio::awaitable<std::expected<void, error>> send_handshake(tcp::socket& socket,
                                                           const connection_options& o) {
    int expected_replies = 0;
    const std::string bytes = handshake(o, expected_replies);
    if (expected_replies == 0) co_return std::expected<void, error>{};
    auto [write_ec, written] =
        co_await asio::async_write(socket, asio::buffer(bytes), tuple_awaitable);
    if (write_ec) co_return std::unexpected(error{errc::io, "handshake: " + write_ec.message()});
    parser p(o.limits);
    std::array<char, 512> buffer{};
    for (int got = 0; got < expected_replies;) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), tuple_awaitable);
        if (ec) co_return std::unexpected(error{errc::io, "handshake: " + ec.message()});
        p.feed(std::string_view(buffer.data(), n));
        for (;;) {
            auto r = p.next();
            if (!r) co_return std::unexpected(r.error());
            std::optional<reply>& complete = *r;
            if (!complete) break;
            if (complete->is_error())
                co_return std::unexpected(error{errc::server, complete->text});
            ++got;
        }
    }
    co_return std::expected<void, error>{};
}

asio::awaitable<std::expected<void, error>> connect_and_greet(tcp::socket& socket,
                                                              const connection_options& o,
                                                              open_state& state) {
    auto [resolve_ec, addresses] =
        co_await state.resolver.async_resolve(o.host, std::to_string(o.port), tuple_awaitable);
    if (resolve_ec) {
        co_return std::unexpected(
            error{errc::io, fmt::format("cannot resolve {}: {}", o.host, resolve_ec.message())});
    }
    auto [connect_ec, ep] = co_await asio::async_connect(socket, addresses, tuple_awaitable);
    if (connect_ec) {
        co_return std::unexpected(error{errc::io, fmt::format("cannot connect to {}:{}: {}", o.host,
                                                              o.port, connect_ec.message())});
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto greeted = co_await send_handshake(socket, o);
    co_return greeted;
}

}  // namespace

asio::awaitable<std::expected<void, error>> open(tcp::socket& socket,
                                                 const connection_options& options) {
    auto state = std::make_shared<open_state>(socket.get_executor());
    asio::steady_timer deadline(socket.get_executor(), options.connect_timeout);
    deadline.async_wait([state, &socket](boost::system::error_code ec) {
        if (ec || state->done) return;
        state->timed_out = true;
        state->resolver.cancel();
        boost::system::error_code ignored;
        socket.close(ignored);
    });
    auto outcome = co_await connect_and_greet(socket, options, *state);
    state->done = true;
    deadline.cancel();
    if (state->timed_out) {
        outcome = std::unexpected(error{
            errc::timeout, fmt::format("connecting to {}:{} took more than {} ms", options.host,
                                       options.port, options.connect_timeout.count())});
    }
    if (!outcome) {
        boost::system::error_code ignored;
        socket.close(ignored);
    }
    co_return outcome;
}

std::chrono::milliseconds next_reconnect_delay(std::chrono::milliseconds previous,
                                               const connection_options& options) {
    if (previous.count() <= 0) return options.reconnect_delay_min;
    return std::min(previous * 2, options.reconnect_delay_max);
}

}  // namespace tkt::redis::detail
