#pragma once
// The SSE hub (DESIGN.md §7 streams, issue 11): every open Server-Sent Events stream of the
// process, and what handlers push to them.
//
// A handler calls open(kind) and returns `res` (a streaming response, http/message.hpp); it
// keeps `client` and pushes framed events to it (append_sse_event) from any thread. The hub
// owns the timing: what a client has pending waits in its bounded queue (http/sse.hpp) until
// the hub's next tick, which writes all of it in one write — at most one write per tick per
// client however many events came, and a newer value replaces an older one of the same kind
// (push_latest). The tick sends it itself through the connection's stream_sink when the
// client's writer is idle (one non-blocking send, no wake-up); what the socket does not take,
// and everything while the writer is busy, goes through the writer as before. A client that falls
// behind (more pending than its byte bound, or a frame pending longer than its age bound) is
// dropped: its stream ends and it reconnects with Last-Event-ID. A stream that wrote nothing for
// `heartbeat` gets a comment, so proxies keep it open. One timer serves all clients: the tick walks
// only the clients with something pending, and a coarser sweep finds the ones due a heartbeat.
//
// shutdown() ends every stream after a `retry:` hint (clients come back to another node or
// after the restart) and answers later opens with 503; the server's stop() then waits for the
// streams only briefly (server_options::stream_stop_timeout).
//
// Thread safety: every member function of sse_hub and sse_client may be called from any thread.
// on_close callbacks run on the io_context, never inside push() or close(), so a callback may
// take a lock that the pusher holds. The io_context must outlive the hub and every client.
#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "http/message.hpp"
#include "http/sse.hpp"

namespace tkt::http {

struct sse_hub_options {
    // Pending frames are written at most once per tick per client (coalesced into one write).
    // A process may run hubs of different ticks: coalescing for streams whose events come in
    // floods (seat changes), promptness for the rare or already paced ones (notifications,
    // queue positions).
    std::chrono::milliseconds tick{250};
    // A `: hb` comment when nothing else was written for this long (give or take a quarter).
    std::chrono::milliseconds heartbeat{15'000};
    // The `retry:` hint, sent first on every stream and again on shutdown.
    std::chrono::milliseconds retry{3'000};
    // Per-client byte and age bounds; past them the client is dropped (it reconnects).
    sse_queue_options queue;
};

// One open stream. Made by sse_hub::open; shared by the hub, the connection and the handler.
class sse_client {
public:
    virtual ~sse_client() = default;
    sse_client(const sse_client&) = delete;
    sse_client& operator=(const sse_client&) = delete;

    // Queues an already framed event (append_sse_event) for the next tick. False when the
    // stream is closed or ending, or when this frame would pass the byte bound: the client is
    // then dropped.
    virtual bool push(std::string frame) = 0;
    // As push, but replaces a pending frame of the same `kind` (a queue position) in place.
    virtual bool push_latest(std::string_view kind, std::string frame) = 0;
    // Ends the stream after writing what is pending.
    virtual void close() = 0;
    // True once the stream is ending or has ended (push returns false from then on).
    virtual bool closed() const = 0;
    // `fn` runs exactly once, on the io_context, when the stream has ended for any reason: the
    // peer went away, it was dropped as slow, close(), hub shutdown. Registered after the end,
    // it runs at once on the caller's thread.
    virtual void on_close(std::function<void()> fn) = 0;
    // What the stream carries ("queue", "seats", "notifications"), for the metrics.
    virtual const std::string& kind() const = 0;

protected:
    sse_client() = default;
};

class sse_hub {
public:
    explicit sse_hub(boost::asio::io_context& io, sse_hub_options options = {});
    // Shuts down (see shutdown()).
    ~sse_hub();
    sse_hub(const sse_hub&) = delete;
    sse_hub& operator=(const sse_hub&) = delete;

    struct opened {
        response res;                        // what the handler returns (its `stream` set)
        std::shared_ptr<sse_client> client;  // to push to; null after shutdown
    };
    // A new stream of `kind`. It writes the retry hint, then `initial` (framed events, e.g. a
    // snapshot or what a reconnecting client missed), then what is pushed. After shutdown():
    // a 503 UNAVAILABLE problem with Retry-After, and no client.
    opened open(std::string kind, std::string initial = {});
    // Every stream gets `retry:` and is closed after writing what is pending; opens from now on
    // answer 503. Idempotent.
    void shutdown();

    // Makes `kind` known before its first stream, so /metrics shows it at 0 (a gauge that is
    // absent until the first client cannot be told from a node that does not serve the kind).
    void declare(std::string_view kind);
    // Streams open now, of one kind or in all.
    std::size_t clients(std::string_view kind) const;
    std::size_t clients() const;
    // Prometheus lines: ticketon_sse_clients{kind} (gauge), ticketon_sse_dropped_total{kind}
    // and ticketon_sse_frames_total (counters).
    void collect_metrics(std::string& out) const;
    // The same lines for several hubs of one process (each metric named once; the hubs' kinds
    // must differ).
    static void collect_metrics(std::string& out, std::initializer_list<const sse_hub*> hubs);

    struct core;

private:
    std::shared_ptr<core> core_;
};

}  // namespace tkt::http
