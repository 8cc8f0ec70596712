#include "http/sse_hub.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/assert.hpp"
#include "common/problem.hpp"

namespace tkt::http {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

enum class end_reason { closed, cancelled, dropped, abandoned };

// The counts of one kind of stream; guarded by the hub's mutex.
struct kind_entry {
    std::string name;
    std::size_t open = 0;
    std::uint64_t dropped = 0;
};

class hub_client;

}  // namespace

// What the hub and its clients share; it lives as long as either does.
//
// Locks: the hub's `mutex` guards the registry, the dirty list and the counts; each client has
// its own. The hub's may be held while taking a client's, never the other way round.
struct sse_hub::core : std::enable_shared_from_this<sse_hub::core> {
    core(asio::io_context& io, sse_hub_options o)
        : io(io), options(o), strand(asio::make_strand(io)), timer(strand) {
        append_sse_retry(retry_frame, options.retry);
        append_sse_comment(heartbeat_frame, "hb");
        sweep_every = std::max(options.tick, options.heartbeat / 4);
    }

    void arm();
    void tick();
    void sweep(steady::time_point now);
    void mark_dirty(std::shared_ptr<hub_client> c);
    void unregister(hub_client& c, end_reason why);
    kind_entry& kind(std::string_view name);

    asio::io_context& io;
    const sse_hub_options options;
    std::string retry_frame;
    std::string heartbeat_frame;
    std::chrono::milliseconds sweep_every;
    // The tick runs on its own strand; `timer` and `next_sweep` are only touched there.
    asio::strand<asio::io_context::executor_type> strand;
    asio::steady_timer timer;
    steady::time_point next_sweep = steady::now();
    std::atomic<bool> stopped{false};
    std::atomic<std::uint64_t> frames{0};

    mutable std::mutex mutex;
    bool shut_down = false;
    std::vector<hub_client*> registry;  // open clients; each knows its index
    std::vector<std::shared_ptr<hub_client>> dirty;
    std::vector<std::unique_ptr<kind_entry>> kinds;  // a handful; looked up by name
    std::size_t open = 0;
};

namespace {

// One stream's state. Its writer (the server's connection, through hub_stream) runs on the
// connection's executor and waits on `timer_`, set to expire never; a wake is a cancel, posted
// to that executor, so the timer is only ever touched there.
class hub_client final : public sse_client, public std::enable_shared_from_this<hub_client> {
public:
    hub_client(std::shared_ptr<sse_hub::core> core, kind_entry& kind, sse_queue_options queue,
               std::string first)
        : core_(std::move(core)),
          kind_(kind),
          queue_(queue),
          first_(std::move(first)),
          last_write_(steady::now()) {}

    bool push(std::string frame) override;
    bool push_latest(std::string_view kind, std::string frame) override;
    void close() override;
    bool closed() const override;
    void on_close(std::function<void()> fn) override;
    const std::string& kind() const override { return kind_.name; }

    // The stream's side (hub_stream).
    asio::awaitable<std::optional<std::string>> next();
    void end(end_reason why);
    void attach(std::shared_ptr<stream_sink> sink);

    // The hub's side, on its strand. Whether to keep the client on the dirty list.
    bool on_tick(steady::time_point now);
    // Queues a heartbeat when nothing was written for a while; true when that made the client
    // dirty (the caller, holding the hub's mutex, puts it on the list).
    bool heartbeat(steady::time_point now);
    // Queues the retry hint and closes; called under the hub's mutex.
    void shut_down();

    std::size_t registry_index = 0;  // guarded by the hub's mutex
    kind_entry& kind_entry_ref() { return kind_; }

private:
    enum class state { open, closing, ended };

    bool queue_frame(std::string_view kind, std::string frame);
    void wake_locked();
    enum class write_outcome { all, part, failed };
    // Writes what is pending through the sink, from the tick: the writer is waiting, so the
    // connection is not writing. What the socket does not take goes to `backlog_` for the
    // writer, woken to write it.
    write_outcome write_now_locked(steady::time_point now);

    const std::shared_ptr<sse_hub::core> core_;
    kind_entry& kind_;
    mutable std::mutex mutex_;
    state state_ = state::open;
    bool started_ = false;      // the writer has taken `first_`
    bool dirty_ = false;        // on the hub's dirty list
    bool due_ = false;          // the tick says: write what is pending
    bool waiting_ = false;      // the writer waits on timer_
    bool wake_posted_ = false;  // a wake is on its way to the writer
    sse_queue queue_;
    std::string first_;    // the retry hint and the initial frames
    std::string backlog_;  // the part of a direct write the socket did not take
    std::shared_ptr<stream_sink> sink_;
    steady::time_point last_write_;
    std::vector<std::function<void()>> on_close_;
    asio::any_io_executor writer_;             // set by the first next()
    std::optional<asio::steady_timer> timer_;  // made by the first next(), on writer_
};

// What the server writes: the client's frames. Dropping it before the stream ran (the answer
// never went out) ends the client too.
class hub_stream final : public stream_body {
public:
    explicit hub_stream(std::shared_ptr<hub_client> c) : client_(std::move(c)) {}
    ~hub_stream() override { client_->end(end_reason::abandoned); }
    asio::awaitable<std::optional<std::string>> next() override { return client_->next(); }
    void cancel() override { client_->end(end_reason::cancelled); }
    void attach(std::shared_ptr<stream_sink> sink) override { client_->attach(std::move(sink)); }

private:
    std::shared_ptr<hub_client> client_;
};

bool hub_client::push(std::string frame) {
    return queue_frame({}, std::move(frame));
}

bool hub_client::push_latest(std::string_view kind, std::string frame) {
    return queue_frame(kind, std::move(frame));
}

bool hub_client::queue_frame(std::string_view kind, std::string frame) {
    bool overflow = false;
    bool newly_dirty = false;
    {
        std::lock_guard lock(mutex_);
        if (state_ != state::open) return false;
        const auto now = steady::now();
        const auto queued = kind.empty() ? queue_.push(std::move(frame), now)
                                         : queue_.push_latest(kind, std::move(frame), now);
        if (queued == sse_queue::outcome::overflow) {
            overflow = true;
        } else {
            newly_dirty = !std::exchange(dirty_, true);
        }
    }
    if (overflow) {
        end(end_reason::dropped);  // past its byte bound: it reconnects and catches up
        return false;
    }
    if (newly_dirty) core_->mark_dirty(shared_from_this());
    return true;
}

void hub_client::close() {
    std::lock_guard lock(mutex_);
    if (state_ != state::open) return;
    state_ = state::closing;
    due_ = true;
    wake_locked();
}

bool hub_client::closed() const {
    std::lock_guard lock(mutex_);
    return state_ != state::open;
}

void hub_client::on_close(std::function<void()> fn) {
    {
        std::lock_guard lock(mutex_);
        if (state_ != state::ended) {
            on_close_.push_back(std::move(fn));
            return;
        }
    }
    fn();
}

// Wakes the writer if it waits (otherwise it looks at the flags when it comes back).
void hub_client::wake_locked() {
    if (!waiting_ || wake_posted_) return;
    wake_posted_ = true;
    asio::post(writer_, [self = shared_from_this()] {
        {
            std::lock_guard lock(self->mutex_);
            self->wake_posted_ = false;
        }
        self->timer_->cancel();
    });
}

asio::awaitable<std::optional<std::string>> hub_client::next() {
    auto executor = co_await asio::this_coro::executor;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            if (!timer_) {
                timer_.emplace(executor, steady::time_point::max());
                writer_ = executor;
            }
            waiting_ = false;
            if (state_ == state::ended) co_return std::nullopt;
            std::string out;
            if (!started_) {
                // The retry hint and initial frames, with whatever was pushed meanwhile.
                started_ = true;
                out = std::exchange(first_, std::string{});
                due_ = true;
            }
            if (!backlog_.empty()) {
                // The rest of a direct write comes before anything queued since.
                out += backlog_;
                backlog_ = std::string{};
            }
            if (due_) {
                due_ = false;
                if (!queue_.empty()) {
                    core_->frames.fetch_add(queue_.size(), std::memory_order_relaxed);
                    out += queue_.take();
                }
            }
            if (!out.empty()) {
                last_write_ = steady::now();
                co_return out;
            }
            if (state_ == state::closing && queue_.empty()) {
                lock.unlock();
                end(end_reason::closed);
                co_return std::nullopt;
            }
            waiting_ = true;
        }
        timer_->expires_at(steady::time_point::max());
        co_await timer_->async_wait(tuple_awaitable);
    }
}

void hub_client::end(end_reason why) {
    std::vector<std::function<void()>> callbacks;
    {
        std::lock_guard lock(mutex_);
        if (state_ == state::ended) return;
        state_ = state::ended;
        static_cast<void>(queue_.take());  // what was pending will not be written
        first_ = std::string{};
        backlog_ = std::string{};
        callbacks.swap(on_close_);
        due_ = true;
        wake_locked();
    }
    core_->unregister(*this, why);
    if (!callbacks.empty()) {
        asio::post(core_->io, [callbacks = std::move(callbacks)] {
            for (const auto& fn : callbacks) fn();
        });
    }
}

void hub_client::attach(std::shared_ptr<stream_sink> sink) {
    std::lock_guard lock(mutex_);
    sink_ = std::move(sink);
}

hub_client::write_outcome hub_client::write_now_locked(steady::time_point now) {
    core_->frames.fetch_add(queue_.size(), std::memory_order_relaxed);
    std::string out = queue_.take();
    boost::system::error_code ec;
    const std::size_t n = sink_->write_now(out, ec);
    if (ec) return write_outcome::failed;
    last_write_ = now;
    if (n == out.size()) return write_outcome::all;
    backlog_ = out.substr(n);
    due_ = true;
    wake_locked();
    return write_outcome::part;
}

bool hub_client::on_tick(steady::time_point now) {
    end_reason why = end_reason::dropped;  // it has not read for longer than the age bound
    {
        std::lock_guard lock(mutex_);
        if (state_ == state::ended) {
            dirty_ = false;
            return false;
        }
        if (!queue_.stale(now)) {
            if (queue_.empty() && state_ == state::open) {
                dirty_ = false;
                return false;
            }
            // The writer waits with nothing of its own to write: write for it, at once, rather
            // than wake it (a post, a timer cancel and a coroutine resumed per stream).
            if (state_ == state::open && sink_ && started_ && waiting_ && !wake_posted_ &&
                backlog_.empty()) {
                const auto written = write_now_locked(now);
                if (written == write_outcome::all) {
                    dirty_ = false;
                    return false;
                }
                if (written == write_outcome::part) return true;
                why = end_reason::cancelled;  // the peer is gone: as if the server found out
                dirty_ = false;
            } else {
                due_ = true;
                wake_locked();
                return true;
            }
        } else {
            dirty_ = false;
        }
    }
    end(why);
    return false;
}

bool hub_client::heartbeat(steady::time_point now) {
    std::lock_guard lock(mutex_);
    if (state_ != state::open || !queue_.empty() || now - last_write_ < core_->options.heartbeat)
        return false;
    last_write_ = now;  // not again before the next period, even if the write is slow
    if (queue_.push(core_->heartbeat_frame, now) != sse_queue::outcome::queued) return false;
    return !std::exchange(dirty_, true);
}

void hub_client::shut_down() {
    std::lock_guard lock(mutex_);
    if (state_ == state::ended) return;
    // A queue too full for the hint belongs to a client that will be cut anyway.
    static_cast<void>(queue_.push(core_->retry_frame, steady::now()));
    state_ = state::closing;
    due_ = true;
    wake_locked();
}

problem shutting_down(std::chrono::milliseconds retry) {
    auto p = make_problem(problem_code::unavailable, "the server is shutting down");
    p.retry_after_seconds =
        static_cast<int>(std::max<std::int64_t>(1, (retry.count() + 999) / 1000));
    return p;
}

}  // namespace

void sse_hub::core::arm() {
    timer.expires_after(options.tick);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->stopped) return;
        self->tick();
        self->arm();
    });
}

void sse_hub::core::tick() {
    const auto now = steady::now();
    std::vector<std::shared_ptr<hub_client>> batch;
    {
        std::lock_guard lock(mutex);
        batch.swap(dirty);
    }
    std::vector<std::shared_ptr<hub_client>> kept;
    for (auto& c : batch) {
        if (c->on_tick(now)) kept.push_back(std::move(c));
    }
    {
        std::lock_guard lock(mutex);
        if (dirty.empty()) {
            dirty.swap(kept);
        } else {
            dirty.insert(dirty.end(), std::make_move_iterator(kept.begin()),
                         std::make_move_iterator(kept.end()));
        }
    }
    if (now >= next_sweep) {
        next_sweep = now + sweep_every;
        sweep(now);
    }
}

void sse_hub::core::sweep(steady::time_point now) {
    std::lock_guard lock(mutex);
    for (hub_client* c : registry) {
        if (c->heartbeat(now)) dirty.push_back(c->shared_from_this());
    }
}

void sse_hub::core::mark_dirty(std::shared_ptr<hub_client> c) {
    std::lock_guard lock(mutex);
    if (shut_down) return;  // no more ticks; the stream ends anyway
    dirty.push_back(std::move(c));
}

void sse_hub::core::unregister(hub_client& c, end_reason why) {
    std::lock_guard lock(mutex);
    const std::size_t i = c.registry_index;
    TKT_ASSERT(i < registry.size() && registry[i] == &c);
    registry[i] = registry.back();
    registry[i]->registry_index = i;
    registry.pop_back();
    --open;
    kind_entry& k = c.kind_entry_ref();
    --k.open;
    if (why == end_reason::dropped) ++k.dropped;
}

kind_entry& sse_hub::core::kind(std::string_view name) {
    for (auto& k : kinds) {
        if (k->name == name) return *k;
    }
    kinds.push_back(std::make_unique<kind_entry>(kind_entry{std::string(name), 0, 0}));
    return *kinds.back();
}

sse_hub::sse_hub(asio::io_context& io, sse_hub_options options)
    : core_(std::make_shared<core>(io, options)) {
    asio::post(core_->strand, [c = core_] { c->arm(); });
}

sse_hub::~sse_hub() {
    shutdown();
}

sse_hub::opened sse_hub::open(std::string kind, std::string initial) {
    std::string first;
    append_sse_retry(first, core_->options.retry);
    first += initial;
    std::shared_ptr<hub_client> client;
    {
        std::lock_guard lock(core_->mutex);
        if (core_->shut_down) return {problem_response(shutting_down(core_->options.retry)), {}};
        kind_entry& k = core_->kind(kind);
        client = std::make_shared<hub_client>(core_, k, core_->options.queue, std::move(first));
        client->registry_index = core_->registry.size();
        core_->registry.push_back(client.get());
        ++k.open;
        ++core_->open;
    }
    return {stream_response(std::make_shared<hub_stream>(client)), client};
}

void sse_hub::shutdown() {
    std::vector<std::shared_ptr<hub_client>> dirty;
    {
        std::lock_guard lock(core_->mutex);
        if (core_->shut_down) return;
        core_->shut_down = true;
        core_->stopped = true;
        for (hub_client* c : core_->registry) c->shut_down();
        dirty.swap(core_->dirty);  // the clients hold the core: no cycle left behind
    }
}

void sse_hub::declare(std::string_view kind) {
    std::lock_guard lock(core_->mutex);
    static_cast<void>(core_->kind(kind));
}

std::size_t sse_hub::clients(std::string_view kind) const {
    std::lock_guard lock(core_->mutex);
    for (const auto& k : core_->kinds) {
        if (k->name == kind) return k->open;
    }
    return 0;
}

std::size_t sse_hub::clients() const {
    std::lock_guard lock(core_->mutex);
    return core_->open;
}

void sse_hub::collect_metrics(std::string& out) const {
    collect_metrics(out, {this});
}

void sse_hub::collect_metrics(std::string& out, std::initializer_list<const sse_hub*> hubs) {
    out += "# HELP ticketon_sse_clients Server-Sent Events streams open, by kind.\n";
    out += "# TYPE ticketon_sse_clients gauge\n";
    for (const auto* hub : hubs) {
        std::lock_guard lock(hub->core_->mutex);
        for (const auto& k : hub->core_->kinds)
            out += fmt::format("ticketon_sse_clients{{kind=\"{}\"}} {}\n", k->name, k->open);
    }
    out += "# HELP ticketon_sse_dropped_total SSE clients dropped for falling behind, by kind.\n";
    out += "# TYPE ticketon_sse_dropped_total counter\n";
    for (const auto* hub : hubs) {
        std::lock_guard lock(hub->core_->mutex);
        for (const auto& k : hub->core_->kinds)
            out +=
                fmt::format("ticketon_sse_dropped_total{{kind=\"{}\"}} {}\n", k->name, k->dropped);
    }
    out += "# HELP ticketon_sse_frames_total Frames (events, comments) written to SSE clients.\n";
    out += "# TYPE ticketon_sse_frames_total counter\n";
    std::uint64_t frames = 0;
    for (const auto* hub : hubs) frames += hub->core_->frames.load(std::memory_order_relaxed);
    out += fmt::format("ticketon_sse_frames_total {}\n", frames);
}

}  // namespace tkt::http
