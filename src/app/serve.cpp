// `ticketon serve`: the embedded deployment wired together (DESIGN.md §4, §9) — SQLite, the
// in-process inventory, catalog, booking, tickets, the Toss client (and, by default, the Toss
// sandbox mounted at /sandbox/toss), background loops, and the HTTP server.
#include <atomic>
#include <cstdio>
#include <thread>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "app/commands.hpp"
#include "app/detail/setup.hpp"
#include "app/ops_routes.hpp"
#include "app/web_ui.hpp"
#include "auth/handlers.hpp"
#include "auth/jwt.hpp"
#include "auth/oauth_handlers.hpp"
#include "auth/oauth_service.hpp"
#include "booking/handlers.hpp"
#include "booking/service.hpp"
#include "booking/ticket_signer.hpp"
#include "booking/tickets_handlers.hpp"
#include "booking/tickets_service.hpp"
#include "bus/memory_bus.hpp"
#include "bus/redis_bus.hpp"
#include "catalog/handlers.hpp"
#include "catalog/seat_map.hpp"
#include "catalog/seed.hpp"
#include "catalog/service.hpp"
#include "common/log.hpp"
#include "http/client.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/sse_hub.hpp"
#include "inventory/memory_inventory.hpp"
#include "inventory/redis_inventory.hpp"
#include "notifications/dispatcher.hpp"
#include "notifications/feed.hpp"
#include "notifications/handlers.hpp"
#include "notifications/service.hpp"
#include "payment/checkout_config.hpp"
#include "payment/sandbox.hpp"
#include "payment/toss_client.hpp"
#include "redis/client.hpp"
#include "waiting_room/handlers.hpp"
#include "waiting_room/journaled_waiting_room.hpp"
#include "waiting_room/memory_lease.hpp"
#include "waiting_room/memory_waiting_room.hpp"
#include "waiting_room/queue_feed.hpp"
#include "waiting_room/redis_lease.hpp"
#include "waiting_room/redis_waiting_room.hpp"
#include "waiting_room/service.hpp"

namespace tkt::app {
namespace {

namespace asio = boost::asio;

// Runs `fn` every `interval` until `stopping` is set; a failing round is logged, not fatal.
asio::awaitable<void> every(std::chrono::milliseconds interval, const std::atomic<bool>& stopping,
                            std::string_view name, std::function<asio::awaitable<void>()> fn) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!stopping) {
        timer.expires_after(interval);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (stopping) break;
        try {
            co_await fn();
        } catch (const std::exception& e) {
            log::error("loop.failed", {{"loop", name}, {"error", e.what()}});
        }
    }
}

// Runs `task` to completion on a private io_context (start-up work before serving).
template <class F>
void run_to_completion(F task) {
    asio::io_context boot;
    std::exception_ptr failure;
    asio::co_spawn(boot, task(), [&](std::exception_ptr e) { failure = e; });
    boot.run();
    if (failure) std::rethrow_exception(failure);
}

// The engines behind the Bus and Lease ports: in-process for one node, over Redis (`--redis`)
// for several.
struct shared_engines {
    std::unique_ptr<redis::client> redis;
    std::unique_ptr<redis::connection> bus_connection;
    std::unique_ptr<bus::bus> bus;
    std::unique_ptr<waiting_room::lease> leases;
};

std::expected<shared_engines, std::string> make_engines(const config& cfg,
                                                        asio::any_io_executor executor) {
    shared_engines out;
    if (cfg.redis.url.empty()) {
        out.bus = std::make_unique<bus::memory_bus>();
        out.leases = std::make_unique<waiting_room::memory_lease>();
        return out;
    }
    auto client =
        redis::client::from_urls(executor, cfg.redis.url, std::chrono::milliseconds(2000));
    if (!client) return std::unexpected(client.error());
    out.redis = std::move(*client);
    // Pub/Sub messages reach every node of a Cluster whichever node they are published on, so
    // the bus talks to the first server named.
    out.bus_connection = std::make_unique<redis::connection>(executor, out.redis->first());
    out.bus = std::make_unique<bus::redis_bus>(executor, *out.bus_connection, out.redis->first());
    out.leases = std::make_unique<waiting_room::redis_lease>(*out.redis);
    return out;
}

// This process's name in leases: host and pid, unique on a machine and across machines.
std::string node_name() {
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
    return fmt::format("{}:{}", host.data(), getpid());
}

std::string loopback_host(const std::string& host) {
    return host == "0.0.0.0" || host.empty() ? "127.0.0.1" : host == "::" ? "::1" : host;
}

}  // namespace

// Every open stream is a socket: the soft limit on file descriptors (often 1024) goes up to the
// hard one, and a limit below what server.max_connections needs is said at start-up.
void raise_file_limit(std::size_t connections) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    // The database, the log and the listener need a few more than the connections.
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < connections + 64) {
        log::warn("server.file_limit",
                  {{"limit", static_cast<std::int64_t>(limit.rlim_cur)},
                   {"maxConnections", static_cast<std::int64_t>(connections)},
                   {"hint",
                    "raise the file descriptor limit (ulimit -n, LimitNOFILE) or lower "
                    "server.max_connections"}});
    }
}

int serve(const config& cfg) {
    raise_file_limit(static_cast<std::size_t>(cfg.server.max_connections));
    auto store = open_store(cfg);
    if (!store) return store.error();
    db::database& db = **store;
    auto keyring = auth::load_or_create_keyring(configured_keys(cfg), cfg.data_dir);
    if (!keyring) return fail(exit_usage, keyring.error());
    auto signer = booking::load_ticket_signer(cfg.booking.ticket_keys, cfg.data_dir);
    if (!signer) return fail(exit_usage, signer.error());

    const int threads = io_threads(cfg);
    asio::io_context io(threads);
    system_clock clock;
    const role_set roles = cfg.roles;
    const bool distributed = !cfg.redis.url.empty();
    // One Toss sandbox per node would know only the payments made through that node.
    if (distributed && cfg.payment.provider == payment_provider::sandbox)
        return fail(exit_usage,
                    "with --redis (several nodes) run the Toss sandbox once as its own process "
                    "(ticketon toss-sandbox) and set payment.provider = \"toss\" and "
                    "payment.toss.base_url to it");
    auto made = make_engines(cfg, io.get_executor());
    if (!made) return fail(exit_usage, made.error());
    shared_engines engines = std::move(*made);
    bus::bus& bus = *engines.bus;
    waiting_room::lease& leases = *engines.leases;
    const std::string node = node_name();
    http::router routes;
    http::metrics metrics;
    http::server srv(io, routes, metrics, server_options(cfg));
    // Every Server-Sent Events stream (issue 11); on a signal it ends them with a retry hint
    // before the server stops, so the grace period does not wait on them. Seat changes come in
    // floods: their streams write every 250 ms, coalesced.
    http::sse_hub sse(io);
    // The queue feed writes a position at most once a second per event itself, so a 250 ms tick
    // would only delay a head move (by 125 ms on average, docs/benchmarks.md): its streams
    // write every 20 ms, on a hub of their own so that a head move's fan-out (one send per
    // waiting stream) never holds up a notification's tick.
    http::sse_hub queue_sse(io, {.tick = std::chrono::milliseconds(20)});
    // Notifications are few per person and wanted at once: every 20 ms too.
    http::sse_hub notify_sse(io, {.tick = std::chrono::milliseconds(20)});
    metrics.add_collector([&sse, &queue_sse, &notify_sse](std::string& out) {
        http::sse_hub::collect_metrics(out, {&sse, &queue_sse, &notify_sse});
    });
    log_requests(srv);
    auto port = srv.listen();
    if (!port) return fail(exit_failure, port.error());

    // Versions start at the start time in microseconds: they grow across restarts (seat_feed).
    const auto version_base = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock.now().time_since_epoch())
            .count());
    std::unique_ptr<inventory::inventory> inventory_engine;
    if (engines.redis)
        inventory_engine =
            std::make_unique<inventory::redis_inventory>(*engines.redis, version_base);
    else
        inventory_engine = std::make_unique<inventory::memory_inventory>(version_base);
    inventory::inventory& inventory = *inventory_engine;
    catalog::service catalog(db, inventory, clock);
    catalog::seat_map seat_map(inventory);
    auth::service auth_service(db, clock, *keyring, auth_options(cfg));
    booking::tickets_service tickets(
        db, clock, *signer, [&catalog](std::int64_t id) -> std::optional<std::int64_t> {
            auto e = catalog.find(id);
            return e ? std::optional<std::int64_t>(e->manager_id) : std::nullopt;
        });

    payment::sandbox sandbox;
    http::client http_client(io.get_executor());
    payment::toss_options toss = {.base_url = cfg.payment.toss.base_url,
                                  .secret_key = cfg.payment.toss.secret_key};
    if (cfg.payment.provider == payment_provider::sandbox && roles.api) {
        toss.base_url =
            fmt::format("http://{}:{}/sandbox/toss", loopback_host(cfg.server.listen.host), *port);
        payment::register_sandbox_routes(routes, sandbox, "/sandbox/toss",
                                         cfg.payment.toss.secret_key);
    }
    if (roles.api) {
        const bool sandboxed = cfg.payment.provider == payment_provider::sandbox;
        payment::register_checkout_config_route(routes,
                                                {.sandbox = sandboxed,
                                                 .client_key = cfg.payment.toss.client_key,
                                                 .widget_url = cfg.payment.toss.widget_url});
        if (!sandboxed && cfg.payment.toss.client_key.empty())
            log::warn("payment.no_widget",
                      {{"detail",
                        "payment.toss.client_key is not set: the web UI cannot take payments"}});
    }
    payment::toss_gateway gateway(http_client, toss);
    booking::service booking(
        booking::dependencies{
            db, inventory, gateway, clock, [&catalog](std::int64_t id) { return catalog.find(id); },
            [&signer](const std::string& ticket, std::int64_t event) {
                return signer->sign(ticket, event);
            },
            [&catalog](std::int64_t id) { return catalog.mark_sold_out(id); },
            [&catalog](std::int64_t id) { return catalog.mark_back_on_sale(id); }},
        booking::service_options{
            .refund_backoff_max_seconds = cfg.booking.refund_backoff_max_seconds,
            .first_check_seconds = cfg.booking.first_check_seconds,
            .unknown_grace_seconds = cfg.booking.unknown_grace_seconds});

    // An event's cancellation refunds its paid orders; should this fail (a busy database), the
    // reconciler finds the event's paid orders on its next pass.
    catalog.on_cancelled([&booking](std::int64_t id) -> asio::awaitable<void> {
        auto moved = co_await booking.cancel_event(id);
        if (!moved)
            log::error("booking.event_cancel_failed",
                       {{"eventId", id}, {"error", moved.error().detail}});
    });
    if (roles.api) auth::register_routes(routes, auth_service);
    // Social login (issue 15): the providers that have a client id.
    const std::string public_url =
        cfg.server.public_url.empty()
            ? fmt::format("http://{}",
                          host_port{loopback_host(cfg.server.listen.host), *port}.to_string())
            : cfg.server.public_url;
    std::vector<auth::oauth::provider> providers;
    for (const auto& settings : cfg.auth.oauth2)
        providers.push_back(auth::oauth::resolve(settings));
    auth::oauth::service social(http_client, db, auth_service, clock, *keyring,
                                auth::oauth::service_options{.providers = std::move(providers),
                                                             .public_url = public_url,
                                                             .timeout = std::chrono::milliseconds(
                                                                 cfg.auth.oauth2_timeout_ms)});
    if (roles.api)
        auth::oauth::register_routes(
            routes, social,
            {.web_redirect =
                 cfg.auth.oauth2_redirect.empty() ? public_url + "/" : cfg.auth.oauth2_redirect});

    http::rate_limiter webhook_limit(
        {.per_minute = static_cast<double>(cfg.rate_limit.webhook_per_minute),
         .burst = static_cast<double>(cfg.rate_limit.webhook_burst)});
    // The waiting room: the memory engine, journaled to the database so a restart keeps every
    // seq.
    std::unique_ptr<waiting_room::restorable_waiting_room> room_engine;
    if (engines.redis)
        room_engine = std::make_unique<waiting_room::redis_waiting_room>(*engines.redis);
    else
        room_engine = std::make_unique<waiting_room::memory_waiting_room>();
    waiting_room::journaled_waiting_room rooms(*room_engine, db);
    if (engines.redis) rooms.check_rooms_per([&engines] { return engines.redis->epoch(); });
    waiting_room::service queue(
        waiting_room::dependencies{rooms, leases, bus, clock,
                                   [&catalog](std::int64_t id) { return catalog.find(id); },
                                   *keyring, inventory},
        waiting_room::service_options{.tick = std::chrono::milliseconds(cfg.queue.tick_ms),
                                      .grace = std::chrono::seconds(cfg.queue.grace_seconds),
                                      .node = node,
                                      .issuer = cfg.auth.issuer});
    const booking::hold_gate gate{
        .check = [&queue](
                     auth::principal who, std::int64_t event,
                     std::string token) { return queue.check_entry(who, event, std::move(token)); },
        .used =
            [&queue](auth::principal who, std::int64_t event, std::int64_t seq, std::string hold) {
                return queue.entry_used(who, event, seq, std::move(hold));
            }};
    waiting_room::queue_feed queue_feed(io, queue, bus, queue_sse,
                                        [&catalog](std::int64_t id) { return catalog.find(id); });
    // Each node works out the seat changes of its own watchers from the (shared) inventory, so
    // the seat feed's news stays in the process.
    bus::memory_bus local_bus;
    catalog::seat_feed seat_feed(inventory, local_bus, sse);
    if (distributed) catalog.share(bus, io.get_executor());
    if (roles.api) {
        waiting_room::register_routes(routes, queue, auth_service, queue_feed);
        catalog::register_routes(routes, catalog, seat_map, auth_service, &seat_feed);
        booking::register_routes(routes, booking, auth_service, webhook_limit, &gate);
        booking::register_ticket_routes(routes, tickets, auth_service);
    }
    metrics.add_collector([&queue](std::string& out) { queue.collect_metrics(out); });
    metrics.add_collector([&auth_service](std::string& out) { auth_service.collect_metrics(out); });
    // Notifications (issue 12): the outbox's rows become notifications in the dispatcher and
    // reach the user's streams through the bus.
    notifications::service notices(notifications::service_dependencies{
        db, clock, [&catalog](std::int64_t id) { return catalog.find(id); }});
    notifications::feed notification_feed(db, bus, notify_sse);
    notifications::dispatcher dispatcher(db, bus, clock);
    if (roles.api) notifications::register_routes(routes, notices, auth_service, notification_feed);
    metrics.add_collector([&dispatcher](std::string& out) { dispatcher.collect_metrics(out); });
    std::vector<readiness_check> checks;
    if (engines.redis) {
        checks.push_back({"redis", [&engines]() -> asio::awaitable<bool> {
                              auto pong = co_await engines.redis->exec(redis::command::of("PING"));
                              co_return pong.has_value();
                          }});
    }
    register_ops_routes(routes, db, metrics, std::move(checks));
    if (roles.api) register_web_routes(routes, cfg.server.web_dir);
    add_database_metrics(metrics, db);
    metrics.bind_routes(routes);

    // The I/O threads start now (the listener does not accept yet): start-up talks to Redis,
    // whose connections live on `io`.
    auto work = asio::make_work_guard(io);
    std::vector<std::jthread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    auto stop_pool = [&] {
        io.stop();
        pool.clear();
    };
    // Every event that can still sell, for the inventory's restore.
    auto sellable = [&catalog] {
        std::vector<std::int64_t> ids;
        for (const auto& e : catalog.all())
            if (e->status != catalog::event_status::cancelled) ids.push_back(e->id);
        return ids;
    };
    try {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                auto loaded = co_await catalog.load_all();
                if (!loaded) throw std::runtime_error(loaded.error().detail);
                // Each event's seats, sales and holds from the database — unless a shared
                // inventory has the event live already (other nodes are selling it).
                auto op = booking.rebuild(sellable(), inventory::restore_mode::only_if_absent);
                co_await std::move(op);
                auto restored = co_await rooms.restore_all(
                    clock.now(), engines.redis ? waiting_room::restore_mode::only_if_absent
                                               : waiting_room::restore_mode::replace);
                if (!restored) throw std::runtime_error(restored.error().message);
                if (cfg.demo) {
                    auto seeded = co_await catalog::seed_demo(
                        catalog, db, clock, auth_password_cost(cfg.auth.password_cost));
                    if (!seeded) throw std::runtime_error(seeded.error().detail);
                }
            },
            asio::use_future)
            .get();
    } catch (const std::exception& e) {
        stop_pool();
        db.shutdown();
        return fail(exit_failure, fmt::format("start-up failed: {}", e.what()));
    }

    std::atomic<bool> stopping{false};
    // Work that one node of the deployment does at a time: whoever holds the lease `name` (with
    // the in-process lease, always this node). The lease outlives three missed renewals.
    auto only_one = [&](std::string name, std::function<asio::awaitable<void>()> fn) {
        return [&leases, &clock, &node, name = std::move(name),
                fn = std::move(fn)]() -> asio::awaitable<void> {
            auto held = leases.acquire(name, node, std::chrono::milliseconds(3000), clock.now());
            if (co_await std::move(held)) co_await fn();
        };
    };
    auto loop = [&](std::chrono::milliseconds interval, std::string_view name,
                    std::function<asio::awaitable<void>()> fn) {
        asio::co_spawn(io, every(interval, stopping, name, std::move(fn)), asio::detached);
    };
    if (roles.queue) {
        loop(std::chrono::milliseconds(250), "sweeper",
             only_one("sweeper", [&]() -> asio::awaitable<void> { co_await booking.sweep(); }));
        loop(std::chrono::milliseconds(cfg.booking.reconcile_interval_ms), "reconciler",
             only_one("reconciler",
                      [&]() -> asio::awaitable<void> { co_await booking.reconcile(); }));
        // Each room's ticker holds the room's own lease (waiting_room::service).
        loop(std::chrono::milliseconds(cfg.queue.tick_ms), "queue",
             [&]() -> asio::awaitable<void> { co_await queue.tick(); });
        loop(std::chrono::milliseconds(1000), "catalog",
             only_one("catalog",
                      [&]() -> asio::awaitable<void> { co_await catalog.tick(clock.now()); }));
    }
    if (roles.api) {
        loop(std::chrono::milliseconds(250), "seats",
             [&]() -> asio::awaitable<void> { co_await seat_feed.tick(); });
    }
    if (distributed) {
        // News of the catalog that this node missed (a bus outage) is read back every 5 s.
        loop(std::chrono::milliseconds(5000), "catalog_refresh", [&]() -> asio::awaitable<void> {
            auto n = co_await catalog.refresh_all();
            if (!n) log::warn("catalog.refresh_failed", {{"error", n.error().detail}});
        });
    }
    if (distributed && (roles.api || roles.queue)) {
        // After Redis lost its data (a restart without persistence, a failover): every event's
        // seats, sales and holds, and every room, are put back from the database before holds
        // are taken again (a hold on a lost event is refused 503 meanwhile). Each event costs one
        // EXISTS a second; the rooms are read back when the connection epoch changed.
        auto seen_epoch = std::make_shared<std::uint64_t>(engines.redis->epoch());
        loop(std::chrono::milliseconds(1000), "restore",
             [&, seen_epoch]() -> asio::awaitable<void> {
                 auto op = booking.rebuild(sellable(), inventory::restore_mode::only_if_absent);
                 if (auto n = co_await std::move(op); n > 0)
                     log::warn("inventory.restored", {{"events", n}});
                 // Sales and cancellations this node could not tell Redis of (unreachable then).
                 co_await booking.retry_inventory();
                 const auto epoch = engines.redis->epoch();
                 if (epoch != *seen_epoch) {
                     auto back = co_await rooms.restore_all(
                         clock.now(), waiting_room::restore_mode::only_if_absent);
                     if (back) {
                         *seen_epoch = epoch;
                         if (*back > 0) log::warn("queue.rooms_restored", {{"rooms", *back}});
                     }
                 }
             });
    }
    if (roles.dispatcher) {
        loop(std::chrono::milliseconds(cfg.notifications.poll_ms), "dispatcher",
             only_one("dispatcher", [&]() -> asio::awaitable<void> {
                 auto pass = co_await dispatcher.drain();
                 if (!pass)
                     log::warn("notifications.dispatch_failed", {{"error", pass.error().detail}});
             }));
        loop(std::chrono::milliseconds(cfg.notifications.sweep_interval_ms), "notification_sweeper",
             only_one("notification_sweeper", [&]() -> asio::awaitable<void> {
                 auto gone = co_await notices.sweep(
                     std::chrono::seconds(cfg.notifications.retention_seconds));
                 if (!gone)
                     log::warn("notifications.sweep_failed", {{"error", gone.error().detail}});
             }));
    }
    srv.start();

    asio::signal_set signals(io, SIGINT, SIGTERM);
    shut_down_on_signal(io, signals, srv, std::chrono::milliseconds(cfg.server.shutdown_grace_ms),
                        [&stopping, &sse, &queue_sse, &notify_sse] {
                            stopping = true;
                            sse.shutdown();
                            queue_sse.shutdown();
                            notify_sse.shutdown();
                        });

    std::string url = fmt::format("http://{}:{}", cfg.server.listen.host, *port);
    log::info("server.listening", {{"url", url},
                                   {"threads", threads},
                                   {"roles", roles.to_string()},
                                   {"node", node},
                                   {"redis", distributed ? "yes" : "no"},
                                   {"db", db::printable_url(cfg.effective_db_url())},
                                   {"payment", to_string(cfg.payment.provider)}});
    std::printf("Ticketon is listening on %s  (Ctrl-C stops it)\n", url.c_str());
    std::fflush(stdout);

    work.reset();
    pool.clear();  // the I/O threads return once the shutdown stops `io`
    // While `io` still exists: writes in flight post their answers to it.
    db.shutdown();
    if (engines.redis) engines.redis->close();
    if (engines.bus_connection) engines.bus_connection->close();
    log::info("server.stopped", {});
    return exit_ok;
}

}  // namespace tkt::app
