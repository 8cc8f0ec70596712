#include "redis/subscriber.hpp"

#include <atomic>
#include <optional>
#include <set>
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

#include "common/log.hpp"
#include "redis/detail/open.hpp"

namespace tkt::redis {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using strand_type = asio::strand<asio::any_io_executor>;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// One SUBSCRIBE-like command naming every entry of `names`; nothing when it is empty.
void append_command(std::string& out, std::string_view verb, const std::set<std::string>& names) {
    if (names.empty()) return;
    command c = command::of(verb);
    c.args(names);
    c.encode_to(out);
}

}  // namespace

struct subscriber::impl : std::enable_shared_from_this<subscriber::impl> {
    impl(const asio::any_io_executor& io, connection_options o,
         const asio::any_io_executor& handler_ex, pubsub_handler h)
        : strand(asio::make_strand(io)),
          handler_strand(asio::make_strand(handler_ex)),
          options(std::move(o)),
          handler(std::move(h)),
          socket(strand),
          wake_writer(strand, steady::time_point::max()),
          reconnect_timer(strand),
          parse(options.limits) {}

    asio::awaitable<void> run(std::shared_ptr<impl> self);
    asio::awaitable<void> reader();
    asio::awaitable<void> writer();
    asio::awaitable<void> watchdog();
    void dispatch(reply r);
    enum class membership { join, leave };
    void change(std::string_view verb, std::set<std::string>& names, const std::string& name,
                membership m);
    void shutdown();

    strand_type strand;
    strand_type handler_strand;
    const connection_options options;
    const pubsub_handler handler;
    tcp::socket socket;
    asio::steady_timer wake_writer;
    asio::steady_timer reconnect_timer;
    parser parse;
    std::set<std::string> channels;
    std::set<std::string> patterns;
    std::string out;  // commands waiting for the writer
    steady::time_point last_read{};
    bool connected_now = false;
    bool closed = false;
    std::atomic<bool> is_connected{false};
    std::atomic<std::uint64_t> messages{0}, connects{0}, disconnects{0};
};

void subscriber::impl::change(std::string_view verb, std::set<std::string>& names,
                              const std::string& name, membership m) {
    if (closed) return;
    const bool changed = m == membership::join ? names.insert(name).second : names.erase(name) > 0;
    // While disconnected there is nothing to send: the next connection subscribes to the sets.
    if (!changed || !connected_now) return;
    command::of(verb, name).encode_to(out);
    wake_writer.cancel();
}

void subscriber::impl::dispatch(reply r) {
    if (!r.is_array() || r.elements.empty() || !r.elements[0].is_string()) {
        if (r.is_error()) log::warn("redis.subscriber_error", {{"error", r.text}});
        return;
    }
    const std::string& kind = r.elements[0].text;
    pubsub_message m;
    if (kind == "message" && r.elements.size() == 3) {
        m.channel = std::move(r.elements[1].text);
        m.payload = std::move(r.elements[2].text);
        if (!channels.contains(m.channel)) return;
    } else if (kind == "pmessage" && r.elements.size() == 4) {
        m.pattern = std::move(r.elements[1].text);
        m.channel = std::move(r.elements[2].text);
        m.payload = std::move(r.elements[3].text);
        if (!patterns.contains(m.pattern)) return;
    } else {
        return;  // a (un)subscription's confirmation, or a PING's answer
    }
    ++messages;
    asio::post(handler_strand, [self = shared_from_this(), m = std::move(m)] { self->handler(m); });
}

asio::awaitable<void> subscriber::impl::reader() {
    std::vector<char> buffer(std::size_t{16} * 1024);
    for (;;) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), tuple_awaitable);
        if (ec) co_return;
        last_read = steady::now();
        parse.feed(std::string_view(buffer.data(), n));
        for (;;) {
            auto r = parse.next();
            if (!r) {
                log::error("redis.protocol_error", {{"error", r.error().message}});
                co_return;
            }
            std::optional<reply>& complete = *r;
            if (!complete) break;
            dispatch(std::move(*complete));
        }
    }
}

asio::awaitable<void> subscriber::impl::writer() {
    std::string batch;
    for (;;) {
        if (out.empty()) {
            co_await wake_writer.async_wait(tuple_awaitable);
            if (closed) co_return;
            continue;
        }
        batch.clear();
        batch.swap(out);
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(batch), tuple_awaitable);
        if (ec) co_return;
    }
}

// PINGs an idle connection; returns (ending the session) when a PING goes unanswered for an
// interval. Only an unanswered PING counts: a timer that fires late (a loaded machine) must not
// pass for a silent server.
asio::awaitable<void> subscriber::impl::watchdog() {
    const auto interval = options.idle_ping_interval;
    asio::steady_timer timer(strand, steady::time_point::max());
    if (interval.count() <= 0) {
        co_await timer.async_wait(tuple_awaitable);  // until the session ends
        co_return;
    }
    std::optional<steady::time_point> ping_sent;
    for (;;) {
        timer.expires_after(interval);
        auto [ec] = co_await timer.async_wait(tuple_awaitable);
        if (ec || closed) co_return;
        const auto now = steady::now();
        if (ping_sent && last_read >= *ping_sent) ping_sent.reset();  // something came back
        if (ping_sent && now - *ping_sent >= interval) {
            log::warn(
                "redis.subscriber_silent",
                {{"address", fmt::format("{}:{}", options.host, options.port)},
                 {"silent_ms",
                  std::chrono::duration_cast<std::chrono::milliseconds>(now - last_read).count()}});
            co_return;
        }
        if (!ping_sent && now - last_read >= interval) {
            command::of("PING").encode_to(out);
            wake_writer.cancel();
            ping_sent = now;
        }
    }
}

asio::awaitable<void> subscriber::impl::run([[maybe_unused]] std::shared_ptr<impl> self) {
    using namespace asio::experimental::awaitable_operators;
    std::chrono::milliseconds delay{0};
    const std::string address = fmt::format("{}:{}", options.host, options.port);
    while (!closed) {
        auto opened = co_await detail::open(socket, options);
        if (closed) break;
        if (opened) {
            ++connects;
            delay = std::chrono::milliseconds{0};
            connected_now = true;
            is_connected = true;
            out.clear();
            append_command(out, "SUBSCRIBE", channels);
            append_command(out, "PSUBSCRIBE", patterns);
            last_read = steady::now();
            co_await (reader() || writer() || watchdog());
            connected_now = false;
            is_connected = false;
            ++disconnects;
            boost::system::error_code ignored;
            socket.close(ignored);
            parse = parser(options.limits);
            if (closed) break;
            log::warn("redis.subscriber_disconnected", {{"address", address}});
        } else {
            log::warn("redis.connect_failed",
                      {{"address", address}, {"error", opened.error().message}});
        }
        delay = detail::next_reconnect_delay(delay, options);
        reconnect_timer.expires_after(delay);
        co_await reconnect_timer.async_wait(tuple_awaitable);
    }
}

void subscriber::impl::shutdown() {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    socket.close(ignored);
    wake_writer.cancel();
    reconnect_timer.cancel();
}

subscriber::subscriber(asio::any_io_executor io_executor, connection_options options,
                       asio::any_io_executor handler_executor, pubsub_handler handler)
    : impl_(std::make_shared<impl>(std::move(io_executor), std::move(options),
                                   std::move(handler_executor), std::move(handler))) {
    asio::co_spawn(impl_->strand, impl_->run(impl_), asio::detached);
}

subscriber::~subscriber() {
    close();
}

void subscriber::subscribe(std::string channel) {
    asio::post(impl_->strand, [self = impl_, c = std::move(channel)] {
        self->change("SUBSCRIBE", self->channels, c, impl::membership::join);
    });
}

void subscriber::unsubscribe(std::string channel) {
    asio::post(impl_->strand, [self = impl_, c = std::move(channel)] {
        self->change("UNSUBSCRIBE", self->channels, c, impl::membership::leave);
    });
}

void subscriber::psubscribe(std::string pattern) {
    asio::post(impl_->strand, [self = impl_, p = std::move(pattern)] {
        self->change("PSUBSCRIBE", self->patterns, p, impl::membership::join);
    });
}

void subscriber::punsubscribe(std::string pattern) {
    asio::post(impl_->strand, [self = impl_, p = std::move(pattern)] {
        self->change("PUNSUBSCRIBE", self->patterns, p, impl::membership::leave);
    });
}

void subscriber::close() {
    asio::post(impl_->strand, [self = impl_] { self->shutdown(); });
}

bool subscriber::connected() const {
    return impl_->is_connected;
}

subscriber_stats subscriber::stats() const {
    return {impl_->messages, impl_->connects, impl_->disconnects};
}

}  // namespace tkt::redis
