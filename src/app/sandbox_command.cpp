#include "app/sandbox_command.hpp"

#include <csignal>
#include <cstdio>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "common/log.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "payment/sandbox.hpp"

namespace tkt::app {

int toss_sandbox(const config& cfg) {
    namespace asio = boost::asio;
    // Two threads: a delayed answer (outcome "timeout") waits on a timer, so even one would
    // do; the second keeps a slow client from being felt by the others.
    constexpr int threads = 2;
    asio::io_context io(threads);
    payment::sandbox box;
    http::router routes;
    http::metrics metrics;
    payment::register_sandbox_routes(routes, box, "", cfg.payment.toss.secret_key);
    metrics.bind_routes(routes);

    http::server_options options;
    options.host = cfg.server.listen.host;
    options.port = cfg.server.listen.port;
    options.max_body_bytes = static_cast<std::size_t>(cfg.server.max_body_bytes);
    // A confirm with outcome "timeout" answers after 30 s; the connection must outlast it.
    options.idle_timeout = std::chrono::milliseconds(std::max(cfg.server.idle_timeout_ms, 60'000));
    http::server srv(io, routes, metrics, options);
    auto port = srv.listen();
    if (!port) {
        std::fprintf(stderr, "ticketon: %s\n", port.error().c_str());
        return 1;
    }
    srv.start();

    // Delayed answers may be pending for half a minute: on a signal, stop at once rather than
    // wait for them; the sandbox keeps nothing worth finishing.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&io, &srv](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        log::info("sandbox.stopping", {{"signal", signo}});
        srv.stop();
        io.stop();
    });

    const std::string url = fmt::format("http://{}:{}", cfg.server.listen.host, *port);
    log::info("sandbox.listening", {{"url", url}});
    std::printf("Toss sandbox is listening on %s  (Ctrl-C stops it)\n", url.c_str());
    std::fflush(stdout);

    std::vector<std::jthread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    io.run();
    pool.clear();
    log::info("sandbox.stopped", {});
    return 0;
}

}  // namespace tkt::app
