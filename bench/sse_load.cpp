// The load side of bench/queue_streams.py: many queue streams on one process, and when each of
// them hears of a head move. Python cannot keep up with 100,000 sockets that all receive an
// event within the same second (its per-event cost alone would be the latency measured), so
// this part is a small single-threaded Asio program; the script orchestrates it
// (bench/queue_streams_nodes.py runs one per api node, and one more that is only the probe).
//
//   sse_load --port P --event E --users FILE [--probe-token T --probe-seq S]
//            [--sources 8] [--source-net 1] [--join-connections 64] [--burst 256]
//            [--hold-seconds 20] [--hold-until-stdin 0] [--samples FILE]
//
// 1. Joins event E's waiting room once for every user of FILE (one access token per line),
//    over --join-connections keep-alive connections, and keeps each user's seq.
//    Prints "joined <n> <seconds>", then waits for a line on stdin (the script measures the
//    server's memory in between).
// 2. Opens GET /api/v1/events/E/queue/stream for every user, --burst at a time, each from one of
//    --sources loopback addresses 127.0.N.1… (N: --source-net; one address has only ~28k
//    ephemeral ports towards one server port). A stream counts as open when its first event
//    arrived. Meanwhile a probe (when --probe-token is given) polls GET /api/v1/events/E/queue
//    every 5 ms for a user at seq --probe-seq, which places
//    the head (head = probe seq − probe position) and when it moved.
//    Prints "opened <n> <seconds>" once all are open and "pushed <n>" once every stream has
//    received a position after its first event, then holds the streams --hold-seconds after
//    all were open, or with --hold-until-stdin 1 until a second line (or the end) on stdin.
// 3. For every head move the probe saw after all streams were open: how long until each stream
//    received a position that reflects it (position ≤ seq − head), from the earliest moment
//    the move could have happened (the probe's previous answer, so the figure errs long by up
//    to one poll). Prints one "move {json}" line per move and "summary {json}", closes all the
//    streams and exits.
// 4. With --samples FILE, also writes the raw figures there, for a script that merges several
//    of these processes (all times are CLOCK_MONOTONIC microseconds, which every process on the
//    machine shares; std::chrono::steady_clock is that clock on Linux):
//      probe <head> <since> <seen>        every move the probe saw (as in 3);
//      open <all-open> <h0> <streams>     when every stream was open; h0, the newest head any
//                                         stream had heard of by then;
//      head <H> <missing> <t>…            for every head H ≥ h0 that some stream heard of: for
//                                         each open stream, when it first received a position
//                                         whose head is ≥ H; <missing> streams never did.
//    A head H that no stream here heard of (two moves pushed as one) is answered by the
//    smallest listed head above it: each stream's first position at or past H is that one.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <netinet/in.h>
#include <sys/resource.h>

#include <boost/asio.hpp>

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
        .count();
}

struct options {
    std::uint16_t port = 0;
    std::int64_t event = 0;
    std::string users;
    std::string probe_token;
    std::int64_t probe_seq = 0;
    int sources = 8;
    int join_connections = 64;
    int burst = 256;
    int hold_seconds = 20;
    int source_net = 1;
    bool hold_until_stdin = false;
    std::string samples;
};

struct client {
    std::string token;
    std::int64_t seq = 0;
    // Each position event: the head it implies (seq − position) and when it was read.
    std::vector<std::pair<std::int64_t, std::int64_t>> heads;
    std::string partial;  // an event not yet complete
    std::unique_ptr<tcp::socket> socket;
    bool open = false;
    bool ended = false;
};

struct probe_move {
    std::int64_t head;
    std::int64_t since_ns;  // the previous answer, which still showed the old head
    std::int64_t seen_ns;   // the answer that showed this head
};

struct state {
    options opt;
    tcp::endpoint server;
    std::vector<client> clients;
    std::size_t next = 0;
    std::size_t opened = 0;
    std::size_t pushed = 0;
    std::size_t ended_early = 0;
    std::size_t failed = 0;
    std::size_t join_failed = 0;
    std::uint64_t positions = 0, admitted = 0, comments = 0, others = 0;
    std::int64_t open_started_ns = 0, all_open_ns = 0;
    bool stopping = false;
    bool stop_asked = false;  // --hold-until-stdin: the line came
    std::vector<probe_move> moves;
};

std::optional<std::int64_t> number_after(std::string_view text, std::string_view key) {
    auto at = text.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    at += key.size();
    while (at < text.size() && text[at] == ' ') ++at;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data() + at, text.data() + text.size(), v);
    if (ec != std::errc{}) return std::nullopt;
    return v;
}

int status_of(std::string_view head) {
    // "HTTP/1.1 200 OK"
    if (head.size() < 12) return 0;
    return static_cast<int>(number_after(head.substr(8, 4), "").value_or(0));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// One keep-alive request and its answer (Content-Length bodies only). Status 0: I/O error.
awaitable<std::pair<int, std::string>> exchange(tcp::socket& s, std::string& buf,
                                                const std::string& request) {
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(request), use_tuple);
    if (wec) co_return std::pair{0, std::string{}};
    auto [ec, n] =
        co_await asio::async_read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n", use_tuple);
    if (ec) co_return std::pair{0, std::string{}};
    const auto head = lower(std::string_view(buf).substr(0, n));
    const auto length = static_cast<std::size_t>(number_after(head, "content-length:").value_or(0));
    if (buf.size() < n + length) {
        auto [rec, rn] =
            co_await asio::async_read(s, asio::dynamic_buffer(buf),
                                      asio::transfer_exactly(n + length - buf.size()), use_tuple);
        if (rec) co_return std::pair{0, std::string{}};
    }
    std::pair out{status_of(head), buf.substr(n, length)};
    buf.erase(0, n + length);
    co_return out;
}

std::string queue_request(const char* method, const options& o, std::string_view token) {
    std::string r = method;
    r += " /api/v1/events/" + std::to_string(o.event) + "/queue HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    r += "Authorization: Bearer ";
    r += token;
    r += "\r\nContent-Length: 0\r\n\r\n";
    return r;
}

awaitable<void> joiner(state& st, std::size_t first, std::size_t step) {
    tcp::socket s(co_await asio::this_coro::executor);
    if (auto [ec] = co_await s.async_connect(st.server, use_tuple); ec) {
        std::cerr << "join connect: " << ec.message() << "\n";
        st.join_failed += (st.clients.size() - first + step - 1) / step;
        co_return;
    }
    std::string buf;
    for (std::size_t i = first; i < st.clients.size(); i += step) {
        auto [status, body] =
            co_await exchange(s, buf, queue_request("POST", st.opt, st.clients[i].token));
        auto seq = number_after(body, "\"seq\":");
        if (status != 200 || !seq) {
            if (st.join_failed++ < 5) std::cerr << "join: " << status << " " << body << "\n";
            continue;
        }
        st.clients[i].seq = *seq;
    }
}

// Feeds bytes of a stream; returns false when the stream is not a 200 event stream.
bool on_bytes(state& st, client& c, std::string_view bytes, std::int64_t t) {
    c.partial.append(bytes);
    if (!c.open) {
        auto end = c.partial.find("\r\n\r\n");
        if (end == std::string::npos) return true;
        if (status_of(c.partial) != 200) return false;
        c.partial.erase(0, end + 4);
        c.open = true;
    }
    std::size_t at = 0;
    for (;;) {
        const auto end = c.partial.find("\n\n", at);
        if (end == std::string::npos) break;
        const std::string_view ev(c.partial.data() + at, end - at);
        at = end + 2;
        if (ev.starts_with(":")) {
            ++st.comments;
        } else if (ev.find("event: position") != std::string_view::npos) {
            ++st.positions;
            if (auto p = number_after(ev, "\"position\":")) {
                c.heads.emplace_back(c.seq - *p, t);
                if (c.heads.size() == 2) ++st.pushed;
            }
        } else if (ev.find("event: admitted") != std::string_view::npos) {
            ++st.admitted;
        } else if (ev.find("event:") != std::string_view::npos) {
            ++st.others;
        }
    }
    c.partial.erase(0, at);
    return true;
}

awaitable<void> reader(state& st, client& c) {
    std::array<char, 512> buf;
    for (;;) {
        auto [ec, n] = co_await c.socket->async_read_some(asio::buffer(buf), use_tuple);
        if (ec) break;
        if (!on_bytes(st, c, std::string_view(buf.data(), n), now_ns())) break;
    }
    if (!st.stopping) ++st.ended_early;
    c.ended = true;
}

// Opens streams one after the other (--burst of these run at once); a stream counts as open,
// and the opener moves on, once its first event arrived.
awaitable<void> opener(state& st) {
    auto ex = co_await asio::this_coro::executor;
    std::array<char, 512> buf;
    while (st.next < st.clients.size()) {
        const std::size_t i = st.next++;
        client& c = st.clients[i];
        if (c.seq == 0) continue;  // its join failed
        c.socket = std::make_unique<tcp::socket>(ex);
        tcp::socket& s = *c.socket;
        s.open(tcp::v4());
        const int on = 1;
        ::setsockopt(s.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
        const auto source = asio::ip::make_address_v4(
            (127u << 24) | (static_cast<unsigned>(st.opt.source_net) << 8) |
            static_cast<unsigned>(1 + i % st.opt.sources));
        boost::system::error_code ec;
        s.bind(tcp::endpoint(source, 0), ec);
        if (!ec) std::tie(ec) = co_await s.async_connect(st.server, use_tuple);
        std::string req = "GET /api/v1/events/" + std::to_string(st.opt.event) +
                          "/queue/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                          c.token + "\r\nAccept: text/event-stream\r\n\r\n";
        if (!ec)
            std::tie(ec, std::ignore) = co_await asio::async_write(s, asio::buffer(req), use_tuple);
        bool ok = !ec;
        while (ok && c.heads.empty()) {
            auto [rec, n] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
            ok = !rec && on_bytes(st, c, std::string_view(buf.data(), n), now_ns());
        }
        if (!ok) {
            if (st.failed++ < 5) {
                std::cerr << "stream " << i << ": "
                          << (ec ? ec.message() : c.partial.substr(0, 300)) << "\n";
            }
            c.socket.reset();
            continue;
        }
        if (++st.opened == st.clients.size() - st.join_failed) {
            st.all_open_ns = now_ns();
            std::printf("opened %zu %.3f\n", st.opened,
                        (st.all_open_ns - st.open_started_ns) / 1e9);
            std::fflush(stdout);
        }
        asio::co_spawn(ex, reader(st, c), asio::detached);
    }
}

awaitable<void> probe(state& st) {
    auto ex = co_await asio::this_coro::executor;
    tcp::socket s(ex);
    if (auto [ec] = co_await s.async_connect(st.server, use_tuple); ec) {
        std::cerr << "probe connect: " << ec.message() << "\n";
        co_return;
    }
    std::string buf;
    const auto req = queue_request("GET", st.opt, st.opt.probe_token);
    asio::steady_timer timer(ex);
    std::int64_t last_head = -1, last_answer = now_ns();
    while (!st.stopping) {
        auto [status, body] = co_await exchange(s, buf, req);
        const auto t = now_ns();
        auto p = number_after(body, "\"position\":");
        if (status != 200 || !p) {
            std::cerr << "probe: " << status << " " << body << "\n";
            co_return;
        }
        const auto head = st.opt.probe_seq - *p;
        if (head != last_head) {
            if (last_head >= 0) st.moves.push_back({head, last_answer, t});
            last_head = head;
        }
        last_answer = t;
        timer.expires_after(std::chrono::milliseconds(5));
        co_await timer.async_wait(use_tuple);
    }
}

awaitable<void> progress(state& st) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::int64_t stop_at = 0;
    bool pushed_said = false;
    for (;;) {
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(use_tuple);
        std::printf("progress opened=%zu failed=%zu ended=%zu positions=%llu admitted=%llu\n",
                    st.opened, st.failed, st.ended_early,
                    static_cast<unsigned long long>(st.positions),
                    static_cast<unsigned long long>(st.admitted));
        std::fflush(stdout);
        const bool all_done = st.next >= st.clients.size() &&
                              st.opened + st.failed + st.join_failed >= st.clients.size();
        if (all_done && stop_at == 0) {
            if (st.all_open_ns == 0) st.all_open_ns = now_ns();
            stop_at = now_ns() + std::int64_t{st.opt.hold_seconds} * 1'000'000'000;
        }
        if (all_done && !pushed_said && st.pushed >= st.opened) {
            pushed_said = true;
            std::printf("pushed %zu\n", st.pushed);
            std::fflush(stdout);
        }
        if (st.opt.hold_until_stdin ? st.stop_asked : stop_at != 0 && now_ns() >= stop_at) break;
    }
    st.stopping = true;
}

double ms(std::int64_t ns) {
    return ns / 1e6;
}

bool measured(const client& c) {
    return c.open && !c.heads.empty();
}

// When the stream first received a position whose head is at or past `head` (nullopt: never).
std::optional<std::int64_t> first_at_or_past(const client& c, std::int64_t head) {
    auto it = std::find_if(c.heads.begin(), c.heads.end(),
                           [&](const auto& h) { return h.first >= head; });
    if (it == c.heads.end()) return std::nullopt;
    return it->second;
}

// --samples (see the top): the probe's moves and, for every head heard of since all streams
// were open, when each stream first had a position that reflects it.
void write_samples(const state& st) {
    std::ofstream out(st.opt.samples);
    const auto us = [](std::int64_t ns) { return ns / 1000; };
    for (const auto& m : st.moves)
        out << "probe " << m.head << ' ' << us(m.since_ns) << ' ' << us(m.seen_ns) << '\n';
    std::int64_t h0 = -1;
    std::size_t streams = 0;
    std::vector<std::int64_t> heads;
    for (const auto& c : st.clients) {
        if (!measured(c)) continue;
        ++streams;
        for (const auto& [h, t] : c.heads) {
            if (t <= st.all_open_ns) h0 = std::max(h0, h);
            heads.push_back(h);
        }
    }
    out << "open " << us(st.all_open_ns) << ' ' << h0 << ' ' << streams << '\n';
    std::sort(heads.begin(), heads.end());
    heads.erase(std::unique(heads.begin(), heads.end()), heads.end());
    for (const auto head : heads) {
        if (head < h0) continue;
        std::size_t missing = 0;
        std::string times;
        for (const auto& c : st.clients) {
            if (!measured(c)) continue;
            const auto at = first_at_or_past(c, head);
            if (!at) {
                ++missing;
                continue;
            }
            times += ' ';
            times += std::to_string(us(*at));
        }
        out << "head " << head << ' ' << missing << times << '\n';
    }
}

void report(const state& st, std::int64_t end_ns) {
    std::size_t counted = 0;
    for (const auto& m : st.moves) {
        // Moves before every stream was open, or too close to the end to be delivered, are not
        // comparable.
        if (m.since_ns < st.all_open_ns || m.seen_ns + 3'000'000'000 > end_ns) continue;
        std::vector<std::int64_t> lat;
        std::size_t missing = 0;
        for (const auto& c : st.clients) {
            if (!c.open) continue;
            const auto at = first_at_or_past(c, m.head);
            if (!at) {
                ++missing;
                continue;
            }
            lat.push_back(std::max<std::int64_t>(0, *at - m.since_ns));
        }
        if (lat.empty()) continue;
        std::sort(lat.begin(), lat.end());
        auto pct = [&](double q) {
            return lat[std::min(lat.size() - 1, static_cast<std::size_t>(q * lat.size()))];
        };
        std::printf(
            "move {\"head\":%lld,\"atSeconds\":%.3f,\"pollMs\":%.1f,\"streams\":%zu,"
            "\"missing\":%zu,\"minMs\":%.1f,\"p50Ms\":%.1f,\"p90Ms\":%.1f,\"p99Ms\":%.1f,"
            "\"maxMs\":%.1f}\n",
            static_cast<long long>(m.head), (m.since_ns - st.open_started_ns) / 1e9,
            ms(m.seen_ns - m.since_ns), lat.size(), missing, ms(lat.front()), ms(pct(0.5)),
            ms(pct(0.9)), ms(pct(0.99)), ms(lat.back()));
        ++counted;
    }
    std::printf(
        "summary {\"users\":%zu,\"joinFailed\":%zu,\"opened\":%zu,\"failed\":%zu,"
        "\"endedEarly\":%zu,\"positions\":%llu,\"admitted\":%llu,\"comments\":%llu,"
        "\"others\":%llu,\"moves\":%zu,\"movesCounted\":%zu,\"openSeconds\":%.3f}\n",
        st.clients.size(), st.join_failed, st.opened, st.failed, st.ended_early,
        static_cast<unsigned long long>(st.positions), static_cast<unsigned long long>(st.admitted),
        static_cast<unsigned long long>(st.comments), static_cast<unsigned long long>(st.others),
        st.moves.size(), counted, (st.all_open_ns - st.open_started_ns) / 1e9);
    std::fflush(stdout);
    if (!st.opt.samples.empty()) write_samples(st);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--port")
            o.port = static_cast<std::uint16_t>(std::atoi(v));
        else if (k == "--event")
            o.event = std::atoll(v);
        else if (k == "--users")
            o.users = v;
        else if (k == "--probe-token")
            o.probe_token = v;
        else if (k == "--probe-seq")
            o.probe_seq = std::atoll(v);
        else if (k == "--sources")
            o.sources = std::atoi(v);
        else if (k == "--join-connections")
            o.join_connections = std::atoi(v);
        else if (k == "--burst")
            o.burst = std::atoi(v);
        else if (k == "--hold-seconds")
            o.hold_seconds = std::atoi(v);
        else if (k == "--source-net")
            o.source_net = std::atoi(v);
        else if (k == "--hold-until-stdin")
            o.hold_until_stdin = std::atoi(v) != 0;
        else if (k == "--samples")
            o.samples = v;
        else {
            std::cerr << "unknown option " << k << "\n";
            std::exit(2);
        }
    }
    if (o.port == 0 || o.event == 0 || o.users.empty() || o.source_net < 0 || o.source_net > 255) {
        std::cerr << "usage: sse_load --port P --event E --users FILE [--probe-token T "
                     "--probe-seq S] [--sources 8] [--source-net 1] "
                     "[--join-connections 64] [--burst 256] [--hold-seconds 20] "
                     "[--hold-until-stdin 0] [--samples FILE]\n";
        std::exit(2);
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    state st;
    st.opt = parse(argc, argv);
    st.server = tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), st.opt.port);
    // One descriptor per stream: as many as allowed (raising the hard limit needs
    // CAP_SYS_RESOURCE; without it, up to the hard limit).
    rlimit files{1 << 20, 1 << 20};
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0 && ::getrlimit(RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
    {
        std::ifstream in(st.opt.users);
        for (std::string line; std::getline(in, line);) {
            if (line.empty()) continue;
            st.clients.emplace_back();
            st.clients.back().token = line;
        }
    }
    asio::io_context io(1);
    const auto join_start = now_ns();
    const auto joiners = static_cast<std::size_t>(st.opt.join_connections);
    for (std::size_t j = 0; j < joiners && j < st.clients.size(); ++j)
        asio::co_spawn(io, joiner(st, j, joiners), asio::detached);
    io.run();
    std::printf("joined %zu %.3f\n", st.clients.size() - st.join_failed,
                (now_ns() - join_start) / 1e9);
    std::fflush(stdout);
    std::string go;
    std::getline(std::cin, go);

    io.restart();
    std::thread stdin_reader;
    if (st.opt.hold_until_stdin) {
        stdin_reader = std::thread([&] {
            std::string stop;
            std::getline(std::cin, stop);  // a line, or the end of the input
            asio::post(io, [&] { st.stop_asked = true; });
        });
    }
    st.open_started_ns = now_ns();
    if (!st.opt.probe_token.empty()) asio::co_spawn(io, probe(st), asio::detached);
    for (int b = 0; b < st.opt.burst; ++b) asio::co_spawn(io, opener(st), asio::detached);
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
            co_await progress(st);
            const auto end = now_ns();
            report(st, end);
            for (auto& c : st.clients) {
                boost::system::error_code ec;
                if (c.socket) c.socket->close(ec);
            }
        },
        asio::detached);
    io.run();
    // The reader ends at the stop line (the run ended after it) or, without --hold-until-stdin,
    // is not running.
    if (stdin_reader.joinable()) stdin_reader.join();
    return 0;
}
