#pragma once
// Server-Sent Events, sans-io (DESIGN.md §7 streams, issue 11): the wire framing of an event, a
// retry hint and a heartbeat comment; which event a reconnecting client last saw; and the bounded
// queue each streaming client gets, which coalesces what is pending into one write per tick,
// lets a newer value replace an older one of the same kind (a queue position), and says when a
// client has fallen too far behind (bytes or age) and must be dropped — it reconnects with
// Last-Event-ID and misses nothing that was stored.
//
// No sockets, clocks or threads here: the hub that owns the connections passes the time in and
// writes what `take` returns. An `sse_queue` belongs to one client and is not thread-safe; the
// framing functions are pure.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace tkt::http {

struct sse_event {
    std::string id;    // `id:` (the client sends it back as Last-Event-ID); empty: none
    std::string type;  // `event:`; empty: the default "message"
    std::string data;  // any text; each of its lines becomes a `data:` line
};

// Appends one event: `id:`, `event:`, a `data:` line per line of data (CR, LF and CRLF all end a
// line, as the SSE parser reads them), then the blank line that dispatches it. Line breaks in
// `id` or `type` would end the field early and are left out.
void append_sse_event(std::string& out, const sse_event& e);

// Appends `retry: <ms>` on its own: how long a client waits before reconnecting.
void append_sse_retry(std::string& out, std::chrono::milliseconds delay);

// Appends a comment (`: text`), which clients ignore: a heartbeat that keeps proxies from
// closing an idle stream.
void append_sse_comment(std::string& out, std::string_view text);

// The id of the last event a reconnecting client saw: the `Last-Event-ID` header, else the
// `lastEventId` query parameter (for clients that cannot set headers); nullopt when neither is
// given, or the value is longer than `sse_last_event_id_max` or holds a line break.
inline constexpr std::size_t sse_last_event_id_max = 128;
std::optional<std::string> sse_last_event_id(std::string_view header,
                                             std::optional<std::string_view> query);

struct sse_queue_options {
    std::size_t bytes_max = 64 * 1024;          // pending bytes beyond this: drop the client
    std::chrono::milliseconds age_max{10'000};  // a frame pending this long: drop the client
};

// What is pending for one client, until the hub's next tick writes it.
class sse_queue {
public:
    using time_point = std::chrono::steady_clock::time_point;

    enum class outcome { queued, overflow };

    explicit sse_queue(sse_queue_options options = {}) : options_(options) {}

    // Queues one framed event (or comment) at `now`. `overflow` when it would pass the byte
    // bound: nothing is queued and the client should be dropped.
    outcome push(std::string frame, time_point now);
    // As push, but a pending frame of the same `kind` (e.g. "position") is replaced where it
    // stands: only the newest value of a kind is ever written, at most once per tick.
    outcome push_latest(std::string_view kind, std::string frame, time_point now);

    // Whether the oldest pending frame has waited longer than age_max at `now` (a client that
    // does not read: drop it).
    bool stale(time_point now) const;

    // Everything pending, in order, as one buffer for one write; the queue is then empty.
    std::string take();

    bool empty() const { return frames_.empty(); }
    std::size_t bytes() const { return bytes_; }
    std::size_t size() const { return frames_.size(); }

private:
    struct frame {
        std::string kind;  // empty: never replaced
        std::string text;
        time_point queued;
    };

    sse_queue_options options_;
    std::deque<frame> frames_;
    std::size_t bytes_ = 0;
};

}  // namespace tkt::http
