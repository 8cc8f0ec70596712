#include "redis/connection.hpp"

#include <charconv>
#include <deque>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include "common/log.hpp"
#include "redis/detail/open.hpp"

namespace tkt::redis {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using strand_type = asio::strand<asio::any_io_executor>;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::optional<int> to_int(std::string_view s) {
    int value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return value;
}

// One caller's request. Lives on the strand; `done` wakes its caller (cancelled: answered;
// expired: the deadline passed).
struct request {
    request(const strand_type& strand, steady::time_point deadline) : done(strand, deadline) {}
    std::string bytes;
    asio::steady_timer done;
    std::optional<result> answer;
    bool abandoned = false;  // its caller has gone (deadline); its reply is to be dropped
};

result to_result(reply r) {
    if (r.is_error()) return std::unexpected(error{errc::server, std::move(r.text)});
    return r;
}

}  // namespace

std::expected<connection_options, std::string> parse_redis_url(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return std::unexpected(fmt::format("bad Redis URL '{}'", url));
    const auto& u = *parsed;
    if (u.scheme() != "redis") {
        return std::unexpected(fmt::format("bad Redis URL '{}': the scheme must be redis://", url));
    }
    connection_options o;
    if (u.host_address().empty()) {
        return std::unexpected(fmt::format("bad Redis URL '{}': no host", url));
    }
    o.host = std::string(u.host_address());
    if (u.has_port()) {
        auto port = to_int(u.port());
        if (!port || *port <= 0 || *port > 65535) {
            return std::unexpected(fmt::format("bad Redis URL '{}': bad port", url));
        }
        o.port = static_cast<std::uint16_t>(*port);
    }
    if (u.has_userinfo()) {
        o.username = std::string(u.user());
        o.password = std::string(u.password());
    }
    std::string_view path = u.encoded_path();
    if (!path.empty() && path != "/") {
        auto db = to_int(path.substr(1));
        if (!db || *db < 0) {
            return std::unexpected(fmt::format("bad Redis URL '{}': bad database number", url));
        }
        o.database = *db;
    }
    return o;
}

struct connection::impl : std::enable_shared_from_this<connection::impl> {
    impl(const asio::any_io_executor& ex, connection_options o)
        : strand(asio::make_strand(ex)),
          options(std::move(o)),
          socket(strand),
          wake_writer(strand, steady::time_point::max()),
          reconnect_timer(strand),
          parse(options.limits) {}

    void start() { asio::co_spawn(strand, run(shared_from_this()), asio::detached); }
    asio::awaitable<std::vector<result>> submit(std::shared_ptr<impl> self,
                                                std::vector<std::string> commands,
                                                steady::time_point deadline);
    asio::awaitable<void> run([[maybe_unused]] std::shared_ptr<impl> self);
    asio::awaitable<void> session();
    asio::awaitable<void> reader();
    asio::awaitable<void> writer();
    void answer(request& r, result outcome);
    void fail_in_flight(const error& e);
    void fail_queued(const error& e);
    void shutdown();

    strand_type strand;
    const connection_options options;
    tcp::socket socket;
    asio::steady_timer wake_writer;
    asio::steady_timer reconnect_timer;
    parser parse;
    std::deque<std::shared_ptr<request>> queued;     // not yet written
    std::deque<std::shared_ptr<request>> in_flight;  // written, awaiting their replies in order
    bool closed = false;
    std::atomic<bool> is_connected{false};
    std::atomic<std::uint64_t> requests{0}, writes{0}, timeouts{0}, connects{0}, disconnects{0};
};

void connection::impl::answer(request& r, result outcome) {
    if (r.abandoned) return;
    r.answer = std::move(outcome);
    r.done.cancel();
}

void connection::impl::fail_in_flight(const error& e) {
    for (auto& r : in_flight) answer(*r, std::unexpected(e));
    in_flight.clear();
}

void connection::impl::fail_queued(const error& e) {
    for (auto& r : queued) answer(*r, std::unexpected(e));
    queued.clear();
}

// `self` keeps the connection's state alive for as long as its caller waits. The commands are
// queued together, so they are written back to back with nothing of another caller between
// them (ASKING must come right before the command it is for).
asio::awaitable<std::vector<result>> connection::impl::submit(
    [[maybe_unused]] std::shared_ptr<impl> self, std::vector<std::string> commands,
    steady::time_point deadline) {
    std::vector<result> out;
    out.reserve(commands.size());
    std::optional<error> refused;
    if (closed) {
        refused = error{errc::io, "the connection is closed"};
    } else if (!is_connected && options.disconnected == when_disconnected::fail_fast) {
        refused =
            error{errc::io, fmt::format("not connected to {}:{}", options.host, options.port)};
    }
    if (refused) {
        for (std::size_t i = 0; i < commands.size(); ++i)
            out.emplace_back(std::unexpected(*refused));
        co_return out;
    }
    std::vector<std::shared_ptr<request>> pending;
    for (auto& bytes : commands) {
        auto r = std::make_shared<request>(strand, deadline);
        r->bytes = std::move(bytes);
        queued.push_back(r);
        pending.push_back(std::move(r));
    }
    wake_writer.cancel();
    for (auto& r : pending) {
        // Answered while this coroutine waited for an earlier one: its timer was cancelled
        // before anyone waited on it, so it must not be waited on now.
        if (!r->answer) co_await r->done.async_wait(tuple_awaitable);
        if (std::optional<result>& answered = r->answer) {
            out.push_back(std::move(*answered));
            continue;
        }
        // The deadline passed. A request still queued is never written; one in flight has its
        // reply dropped by the reader when it comes.
        r->abandoned = true;
        ++timeouts;
        out.emplace_back(std::unexpected(error{errc::timeout, "no reply before the deadline"}));
    }
    co_return out;
}

static asio::awaitable<result> first_of(asio::awaitable<std::vector<result>> all) {
    auto results = co_await std::move(all);
    co_return std::move(results.front());
}

asio::awaitable<void> connection::impl::writer() {
    std::string batch;
    for (;;) {
        if (queued.empty()) {
            co_await wake_writer.async_wait(tuple_awaitable);
            if (closed) co_return;
            continue;
        }
        batch.clear();
        std::size_t count = 0;
        while (!queued.empty() && batch.size() < options.write_batch_bytes_max) {
            auto r = std::move(queued.front());
            queued.pop_front();
            if (r->abandoned) continue;
            batch += r->bytes;
            r->bytes = std::string();
            in_flight.push_back(std::move(r));
            ++count;
        }
        if (count == 0) continue;
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(batch), tuple_awaitable);
        if (ec) {
            log::warn("redis.write_failed",
                      {{"address", fmt::format("{}:{}", options.host, options.port)},
                       {"error", ec.message()}});
            co_return;
        }
        requests += count;
        ++writes;
    }
}

asio::awaitable<void> connection::impl::reader() {
    std::vector<char> buffer(std::size_t{16} * 1024);
    for (;;) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), tuple_awaitable);
        if (ec) {
            if (!closed && ec != asio::error::eof) {
                log::warn("redis.read_failed",
                          {{"address", fmt::format("{}:{}", options.host, options.port)},
                           {"error", ec.message()}});
            }
            co_return;
        }
        parse.feed(std::string_view(buffer.data(), n));
        for (;;) {
            auto r = parse.next();
            if (!r) {
                log::error("redis.protocol_error", {{"error", r.error().message}});
                co_return;
            }
            std::optional<reply>& complete = *r;
            if (!complete) break;
            if (in_flight.empty()) {
                log::error("redis.protocol_error", {{"error", "a reply nobody asked for"}});
                co_return;
            }
            auto req = std::move(in_flight.front());
            in_flight.pop_front();
            answer(*req, to_result(std::move(*complete)));
        }
    }
}

// Reads and writes until either fails; then the connection is gone.
asio::awaitable<void> connection::impl::session() {
    using namespace asio::experimental::awaitable_operators;
    co_await (reader() || writer());
}

asio::awaitable<void> connection::impl::run([[maybe_unused]] std::shared_ptr<impl> self) {
    std::chrono::milliseconds delay{0};
    const std::string address = fmt::format("{}:{}", options.host, options.port);
    while (!closed) {
        auto opened = co_await detail::open(socket, options);
        if (closed) break;
        if (opened) {
            ++connects;
            is_connected = true;
            delay = std::chrono::milliseconds{0};
            log::info("redis.connected", {{"address", address}});
            wake_writer.cancel();
            co_await session();
            is_connected = false;
            ++disconnects;
            boost::system::error_code ignored;
            socket.close(ignored);
            parse = parser(options.limits);
            fail_in_flight(error{errc::io, fmt::format("the connection to {} was lost", address)});
            if (closed) break;
            log::warn("redis.disconnected", {{"address", address}});
        } else {
            log::warn("redis.connect_failed",
                      {{"address", address}, {"error", opened.error().message}});
            if (options.disconnected == when_disconnected::fail_fast) {
                fail_queued(opened.error());
            }
        }
        delay = detail::next_reconnect_delay(delay, options);
        reconnect_timer.expires_after(delay);
        co_await reconnect_timer.async_wait(tuple_awaitable);
    }
    const error gone{errc::io, "the connection is closed"};
    fail_in_flight(gone);
    fail_queued(gone);
}

void connection::impl::shutdown() {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    socket.close(ignored);
    wake_writer.cancel();
    reconnect_timer.cancel();
    const error gone{errc::io, "the connection is closed"};
    fail_in_flight(gone);
    fail_queued(gone);
}

connection::connection(asio::any_io_executor executor, connection_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {
    impl_->start();
}

connection::~connection() {
    close();
}

asio::awaitable<result> connection::exec(const command& c) {
    return exec(c, impl_->options.request_timeout);
}

asio::awaitable<result> connection::exec(const command& c, std::chrono::milliseconds timeout) {
    std::vector<std::string> one;
    one.push_back(c.encode());
    auto op = impl_->submit(impl_, std::move(one), steady::now() + timeout);
    return first_of(asio::co_spawn(impl_->strand, std::move(op), asio::use_awaitable));
}

asio::awaitable<std::vector<result>> connection::exec_all(const std::vector<command>& commands,
                                                          std::chrono::milliseconds timeout) {
    std::vector<std::string> encoded;
    encoded.reserve(commands.size());
    for (const auto& c : commands) encoded.push_back(c.encode());
    auto op = impl_->submit(impl_, std::move(encoded), steady::now() + timeout);
    return asio::co_spawn(impl_->strand, std::move(op), asio::use_awaitable);
}

void connection::close() {
    asio::post(impl_->strand, [self = impl_] { self->shutdown(); });
}

bool connection::connected() const {
    return impl_->is_connected;
}

connection_stats connection::stats() const {
    return {impl_->requests, impl_->writes, impl_->timeouts, impl_->connects, impl_->disconnects};
}

const connection_options& connection::options() const {
    return impl_->options;
}

}  // namespace tkt::redis
