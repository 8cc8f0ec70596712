#include "waiting_room/queue_feed.hpp"

#include <charconv>
#include <iterator>

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include "common/assert.hpp"
#include "common/log.hpp"
#include "http/sse.hpp"

namespace tkt::waiting_room {
namespace {

using boost::asio::awaitable;
using steady = std::chrono::steady_clock;

constexpr std::chrono::seconds position_interval{1};

std::string frame(std::string_view type, const boost::json::object& data) {
    std::string out;
    http::append_sse_event(out,
                           http::sse_event{"", std::string(type), boost::json::serialize(data)});
    return out;
}

// What push_positions() writes to every waiting stream at every head move: the same bytes as
// frame("position", {{"position", p}, {"etaSeconds", eta}}) (two integers need no escaping),
// formatted without a JSON object per stream (docs/benchmarks.md, session 7's fan-out).
std::string position_frame(std::int64_t position, std::int64_t rate) {
    const auto r = std::max<std::int64_t>(1, rate);
    std::string out;
    out.reserve(80);
    fmt::format_to(std::back_inserter(out),
                   "event: position\ndata: {{\"position\":{},\"etaSeconds\":{}}}\n\n", position,
                   (position + r - 1) / r);
    // The dev and test builds check that it is what the JSON object would have made.
    TKT_DEBUG_ASSERT(
        out == frame("position", {{"position", position}, {"etaSeconds", (position + r - 1) / r}}));
    return out;
}

// What a view says as the stream's first event.
std::string view_frame(const queue_view& v) {
    if (v.status == queue_view::state::admitted) {
        boost::json::object o{{"seq", v.room_off ? boost::json::value(nullptr) : v.seq}};
        o["entryToken"] = v.entry_token ? boost::json::value(*v.entry_token) : nullptr;
        o["expiresAt"] =
            v.expires_at ? boost::json::value(auth::format_rfc3339(*v.expires_at)) : nullptr;
        if (v.room_off) o["waitingRoom"] = false;
        return frame("admitted", o);
    }
    if (v.pre_queue) {
        return frame("position",
                     {{"position", nullptr}, {"etaSeconds", nullptr}, {"preQueue", true}});
    }
    return frame("position", {{"position", v.position}, {"etaSeconds", v.eta_seconds}});
}

}  // namespace

struct queue_feed::topic {
    explicit topic(boost::asio::io_context& io, std::int64_t id) : event_id(id), timer(io) {}

    struct watcher {
        std::weak_ptr<http::sse_client> client;
        auth::principal who;
        seq_t seq = 0;  // 0: in the pre-queue
    };

    const std::int64_t event_id;
    std::mutex mutex;
    bus::subscription subscription;
    std::multimap<seq_t, std::shared_ptr<watcher>> waiting;  // by seq; seq 0: the pre-queue
    std::size_t count = 0;
    seq_t head = 0;
    // When the last positions were due: a push held back to its second runs at that second
    // however late its timer fires, so one late timer does not delay every later move.
    steady::time_point last_positions{};
    bool deferred = false;
    boost::asio::steady_timer timer;
};

queue_feed::queue_feed(
    boost::asio::io_context& io, service& svc, bus::bus& b, http::sse_hub& hub,
    std::function<std::shared_ptr<const catalog::event>(std::int64_t)> find_event)
    : io_(io), svc_(svc), bus_(b), hub_(hub), find_event_(std::move(find_event)) {
    hub_.declare("queue");
}

queue_feed::~queue_feed() {
    std::lock_guard lock(mutex_);
    for (auto& [_, t] : topics_) {
        std::lock_guard tl(t->mutex);
        t->subscription.reset();
        t->timer.cancel();
    }
}

std::size_t queue_feed::watchers(std::int64_t event_id) const {
    std::shared_ptr<topic> t;
    {
        std::lock_guard lock(mutex_);
        auto it = topics_.find(event_id);
        if (it == topics_.end()) return 0;
        t = it->second;
    }
    std::lock_guard lock(t->mutex);
    return t->count;
}

std::shared_ptr<queue_feed::topic> queue_feed::topic_of(std::int64_t event_id) {
    std::lock_guard lock(mutex_);
    auto& t = topics_[event_id];
    if (!t) {
        t = std::make_shared<topic>(io_, event_id);
        std::weak_ptr<topic> weak = t;
        t->subscription = bus_.subscribe(
            queue_topic(event_id), [this, weak](std::string_view, std::string_view m) {
                auto strong = weak.lock();
                if (!strong) return;
                seq_t head = 0;
                auto [p, ec] = std::from_chars(m.data(), m.data() + m.size(), head);
                if (ec != std::errc{} || p != m.data() + m.size()) return;
                on_head(strong, head);
            });
    }
    return t;
}

awaitable<http::response> queue_feed::open(auth::principal who, std::int64_t event_id) {
    auto view = co_await svc_.status(who, event_id);
    if (!view) co_return http::problem_response(view.error());
    auto opened = hub_.open("queue", view_frame(*view));
    if (!opened.client || view->room_off) {
        if (opened.client) opened.client->close();
        co_return std::move(opened.res);
    }
    auto t = topic_of(event_id);
    auto w = std::make_shared<topic::watcher>(
        topic::watcher{opened.client, who, view->pre_queue ? seq_t{0} : view->seq});
    const bool admitted = view->status == queue_view::state::admitted;
    {
        std::lock_guard lock(t->mutex);
        ++t->count;
        if (!admitted) t->waiting.emplace(w->seq, w);
    }
    co_await svc_.attach(who, event_id);
    // The stream ends: forget the watcher; the user's grace starts.
    std::weak_ptr<topic> weak = t;
    opened.client->on_close([this, weak, w, who, event_id] {
        if (auto strong = weak.lock()) {
            std::lock_guard lock(strong->mutex);
            --strong->count;
            auto [lo, hi] = strong->waiting.equal_range(w->seq);
            for (auto it = lo; it != hi; ++it) {
                if (it->second == w) {
                    strong->waiting.erase(it);
                    break;
                }
            }
        }
        boost::asio::co_spawn(io_, svc_.detach(who, event_id), boost::asio::detached);
    });
    co_return std::move(opened.res);
}

void queue_feed::on_head(const std::shared_ptr<topic>& t, seq_t head) {
    std::vector<std::shared_ptr<topic::watcher>> reread;
    {
        std::lock_guard lock(t->mutex);
        if (head > t->head) t->head = head;
        // Passed by the head (and the pre-queue, whose seqs are drawn by now): read back.
        auto end = t->waiting.upper_bound(t->head);
        for (auto it = t->waiting.begin(); it != end;) {
            reread.push_back(it->second);
            it = t->waiting.erase(it);
        }
        const auto now = steady::now();
        if (now - t->last_positions >= position_interval) {
            push_positions(*t, now);
        } else if (!t->deferred) {
            t->deferred = true;
            const auto due = t->last_positions + position_interval;
            t->timer.expires_at(due);
            std::weak_ptr<topic> weak = t;
            t->timer.async_wait([this, weak, due](const boost::system::error_code& ec) {
                if (ec) return;
                if (auto strong = weak.lock()) {
                    std::lock_guard lock(strong->mutex);
                    strong->deferred = false;
                    // A head that came after `due` but before this handler ran has pushed.
                    if (strong->last_positions < due) push_positions(*strong, due);
                }
            });
        }
    }
    if (reread.empty()) return;
    // Admissions (and pre-queue draws) are read back from the room: a handful per tick.
    boost::asio::co_spawn(
        io_,
        [this, t, reread = std::move(reread)]() -> awaitable<void> {
            for (const auto& w : reread) {
                auto client = w->client.lock();
                if (!client || client->closed()) continue;
                auto view = co_await svc_.status(w->who, t->event_id);
                if (!view) {
                    client->close();  // left or lapsed: nothing more to tell
                    continue;
                }
                if (view->status == queue_view::state::admitted) {
                    client->push(view_frame(*view));
                } else {
                    // Still waiting (a pre-queue user who just got a seq): back in the line.
                    client->push_latest("position", view_frame(*view));
                    std::lock_guard lock(t->mutex);
                    // A stream that ended meanwhile is not put back (its on_close has run or
                    // will find nothing to take out).
                    if (client->closed()) continue;
                    w->seq = view->seq;
                    t->waiting.emplace(w->seq, w);
                }
            }
        },
        boost::asio::detached);
}

void queue_feed::push_positions(topic& t, steady::time_point due) {
    t.last_positions = due;
    auto e = find_event_(t.event_id);
    const std::int64_t rate = e ? e->waiting_room.admit_per_second : 1;
    for (const auto& [seq, w] : t.waiting) {
        if (seq == 0) continue;  // pre-queue: no position until the draw
        if (auto client = w->client.lock())
            client->push_latest("position", position_frame(seq - t.head, rate));
    }
}

}  // namespace tkt::waiting_room
