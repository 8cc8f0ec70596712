#include "redis/cluster_client.hpp"

#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/log.hpp"

namespace tkt::redis {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds remaining(steady::time_point deadline) {
    return std::chrono::duration_cast<milliseconds>(deadline - steady::now());
}

}  // namespace

struct cluster_client::impl : std::enable_shared_from_this<cluster_client::impl> {
    impl(asio::any_io_executor ex, cluster_options o)
        : executor(std::move(ex)), options(std::move(o)) {}

    std::shared_ptr<connection> connection_to(const node_address& node);
    // The connection for `slot` (any master's for none), or nullptr without a map entry.
    std::shared_ptr<connection> connection_for(std::optional<std::uint16_t> slot);
    bool has_map();
    asio::awaitable<std::expected<void, error>> refresh();
    asio::awaitable<void> background_refresh(std::shared_ptr<impl> self);
    asio::awaitable<result> send(const command& c, std::optional<std::uint16_t> slot,
                                 steady::time_point deadline);
    asio::awaitable<result> run(std::shared_ptr<impl> self, command c,
                                std::optional<std::uint16_t> slot, steady::time_point deadline);
    asio::awaitable<result> run_script(std::shared_ptr<impl> self, const script* s, command c,
                                       std::optional<std::uint16_t> slot,
                                       steady::time_point deadline);

    asio::any_io_executor executor;
    const cluster_options options;
    std::mutex mutex;
    std::optional<slot_map> map;
    std::unordered_map<std::string, std::shared_ptr<connection>> connections;
    bool closed = false;
    std::atomic<bool> refreshing{false};
    std::atomic<std::uint64_t> moved{0}, ask{0}, refreshes{0};
};

std::shared_ptr<connection> cluster_client::impl::connection_to(const node_address& node) {
    std::lock_guard lock(mutex);
    if (closed) return nullptr;
    auto& slot = connections[node.to_string()];
    if (!slot) {
        connection_options o = options.node;
        o.host = node.host;
        o.port = node.port;
        slot = std::make_shared<connection>(executor, std::move(o));
    }
    return slot;
}

std::shared_ptr<connection> cluster_client::impl::connection_for(
    std::optional<std::uint16_t> slot) {
    std::optional<node_address> node;
    {
        std::lock_guard lock(mutex);
        if (!map) return nullptr;
        if (!slot) {
            if (!map->masters().empty()) node = map->masters().front();
        } else if (const node_address* owner = map->master_of(*slot)) {
            node = *owner;
        }
    }
    return node ? connection_to(*node) : nullptr;
}

bool cluster_client::impl::has_map() {
    std::lock_guard lock(mutex);
    return map.has_value();
}

asio::awaitable<std::expected<void, error>> cluster_client::impl::refresh() {
    std::vector<node_address> candidates;
    {
        std::lock_guard lock(mutex);
        if (map) candidates = map->masters();
    }
    candidates.insert(candidates.end(), options.seeds.begin(), options.seeds.end());
    error last{errc::io, "no seed node"};
    const command cluster_slots = command::of("CLUSTER", "SLOTS");
    for (const auto& node : candidates) {
        auto conn = connection_to(node);
        if (!conn) co_return std::unexpected(error{errc::io, "the client is closed"});
        auto answer = co_await conn->exec(cluster_slots);
        if (!answer) {
            last = answer.error();
            continue;
        }
        auto loaded = slot_map::from_cluster_slots(*answer, node.host);
        if (!loaded) {
            last = error{errc::protocol, loaded.error()};
            continue;
        }
        {
            std::lock_guard lock(mutex);
            map = std::move(*loaded);
        }
        ++refreshes;
        co_return std::expected<void, error>{};
    }
    co_return std::unexpected(last);
}

asio::awaitable<void> cluster_client::impl::background_refresh(
    [[maybe_unused]] std::shared_ptr<impl> self) {
    auto done = co_await refresh();
    if (!done) log::warn("redis.cluster_refresh_failed", {{"error", done.error().message}});
    refreshing = false;
}

// One try on the slot's master: the command alone, or ASKING and the command.
asio::awaitable<result> cluster_client::impl::send(const command& c,
                                                   std::optional<std::uint16_t> slot,
                                                   steady::time_point deadline) {
    auto conn = connection_for(slot);
    if (!conn) {
        co_return std::unexpected(
            error{errc::io, fmt::format("no master serves slot {}", slot.value_or(0))});
    }
    co_return co_await conn->exec(c, remaining(deadline));
}

asio::awaitable<result> cluster_client::impl::run([[maybe_unused]] std::shared_ptr<impl> self,
                                                  command c, std::optional<std::uint16_t> slot,
                                                  steady::time_point deadline) {
    if (!has_map()) {
        auto loaded = co_await refresh();
        if (!loaded) co_return std::unexpected(loaded.error());
    }
    result r = co_await send(c, slot, deadline);
    for (int redirects = 0; redirects < options.redirects_max; ++redirects) {
        if (r || r.error().code != errc::server) co_return r;
        auto to = parse_redirect(r.error().message);
        if (!to) co_return r;
        if (remaining(deadline).count() <= 0) {
            co_return std::unexpected(error{errc::timeout, "no reply before the deadline"});
        }
        if (to->node.host.empty()) to->node.host = options.seeds.front().host;
        if (to->type == redirect::kind::moved) {
            ++moved;
            {
                std::lock_guard lock(mutex);
                if (map) map->assign(to->slot, to->node);
            }
            if (!refreshing.exchange(true)) {
                asio::co_spawn(executor, background_refresh(shared_from_this()), asio::detached);
            }
            slot = to->slot;
            r = co_await send(c, slot, deadline);
            continue;
        }
        ++ask;
        auto target = connection_to(to->node);
        if (!target) co_return std::unexpected(error{errc::io, "the client is closed"});
        std::vector<command> asking;
        asking.push_back(command::of("ASKING"));
        asking.push_back(c);
        auto both = co_await target->exec_all(asking, remaining(deadline));
        r = std::move(both[1]);
    }
    co_return r;
}

asio::awaitable<result> cluster_client::impl::run_script(std::shared_ptr<impl> self,
                                                         const script* s, command c,
                                                         std::optional<std::uint16_t> slot,
                                                         steady::time_point deadline) {
    // Started in one statement and awaited in the next: g++ 12 destroys by-value arguments of
    // a coroutine called inside the co_await expression twice (docs/architecture.md).
    auto try_first = run(self, c, slot, deadline);
    auto first = co_await std::move(try_first);
    if (first || error_prefix(first.error()) != "NOSCRIPT") co_return first;
    // Loaded on the master that serves the script's slot, which is where it runs.
    auto load = run(self, command::of("SCRIPT", "LOAD", s->source()), slot, deadline);
    auto loaded = co_await std::move(load);
    if (!loaded) co_return std::unexpected(loaded.error());
    auto try_again = run(self, std::move(c), slot, deadline);
    co_return co_await std::move(try_again);
}

cluster_client::cluster_client(asio::any_io_executor executor, cluster_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {}

cluster_client::~cluster_client() {
    close();
}

asio::awaitable<result> cluster_client::exec(const command& c) {
    return exec(c, impl_->options.node.request_timeout);
}

asio::awaitable<result> cluster_client::exec(const command& c, milliseconds timeout) {
    auto key = routing_key(c);
    std::optional<std::uint16_t> slot;
    if (key) slot = key_slot(*key);
    return impl_->run(impl_, c, slot, steady::now() + timeout);
}

asio::awaitable<result> cluster_client::eval(const script& s, const std::vector<std::string>& keys,
                                             const std::vector<std::string>& args) {
    std::optional<std::uint16_t> slot;
    if (!keys.empty()) slot = key_slot(keys.front());
    return impl_->run_script(impl_, &s, evalsha_command(s, keys, args), slot,
                             steady::now() + impl_->options.node.request_timeout);
}

asio::awaitable<std::expected<void, error>> cluster_client::refresh() {
    return impl_->refresh();
}

void cluster_client::close() {
    std::unordered_map<std::string, std::shared_ptr<connection>> all;
    {
        std::lock_guard lock(impl_->mutex);
        impl_->closed = true;
        all.swap(impl_->connections);
    }
    for (auto& [address, conn] : all) conn->close();
}

cluster_stats cluster_client::stats() const {
    cluster_stats out{impl_->moved, impl_->ask, impl_->refreshes, 0};
    std::lock_guard lock(impl_->mutex);
    for (const auto& [name, c] : impl_->connections) out.connects += c->stats().connects;
    return out;
}

}  // namespace tkt::redis
