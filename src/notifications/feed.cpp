#include "notifications/feed.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "http/sse.hpp"
#include "notifications/detail/problems.hpp"
#include "notifications/notification.hpp"
#include "notifications/store.hpp"

namespace tkt::notifications {
namespace {

using boost::asio::awaitable;

std::string notification_frame(std::int64_t id, std::string_view json) {
    std::string out;
    http::append_sse_event(out,
                           http::sse_event{std::to_string(id), "notification", std::string(json)});
    return out;
}

// What a stream begins with, read in one go on a DB thread.
struct start {
    std::int64_t latest = 0;
    std::int64_t unread = 0;
    std::vector<notification> missed;
    // More than catch_up_max were missed, or the client's id is not one of ours: `reset`.
    bool too_many = false;
};

db::expected<start> read_start(db::connection& c, std::int64_t user_id,
                               std::optional<std::int64_t> last_id) {
    start out;
    auto latest = store::latest_id(c, user_id);
    if (!latest) return std::unexpected(latest.error());
    out.latest = *latest;
    auto unread = store::unread_count(c, user_id);
    if (!unread) return std::unexpected(unread.error());
    out.unread = *unread;
    if (!last_id) return out;
    if (*last_id > out.latest) {
        // Past the user's newest: fine when their newest was deleted, but an id no notification
        // ever had (a client of another database) would hide the next ones. Start again.
        auto newest = store::newest_id(c);
        if (!newest) return std::unexpected(newest.error());
        out.too_many = *last_id > *newest;
        return out;
    }
    if (*last_id == out.latest) return out;
    auto missed = store::after(c, user_id, *last_id, catch_up_max + 1);
    if (!missed) return std::unexpected(missed.error());
    out.missed = std::move(*missed);
    if (out.missed.size() > static_cast<std::size_t>(catch_up_max)) {
        out.missed.clear();
        out.too_many = true;
    }
    return out;
}

}  // namespace

struct feed::topic {
    struct watcher {
        std::weak_ptr<http::sse_client> client;
        // Until its catch-up is written: what came meanwhile, in order.
        bool pending = true;
        std::vector<std::pair<std::int64_t, std::string>> held_back;
        // The last notification id written (or covered by the catch-up).
        std::int64_t last_written = 0;
    };

    std::mutex mutex;
    bus::subscription subscription;
    std::vector<std::shared_ptr<watcher>> watchers;
};

feed::feed(db::database& db, bus::bus& b, http::sse_hub& hub) : db_(db), bus_(b), hub_(hub) {
    hub_.declare("notifications");
}

feed::~feed() {
    std::lock_guard lock(mutex_);
    for (auto& [_, t] : topics_) t->subscription.reset();
}

std::size_t feed::streams(std::int64_t user_id) const {
    std::lock_guard lock(mutex_);
    auto it = topics_.find(user_id);
    if (it == topics_.end()) return 0;
    std::lock_guard tl(it->second->mutex);
    return it->second->watchers.size();
}

std::size_t feed::users() const {
    std::lock_guard lock(mutex_);
    return topics_.size();
}

awaitable<http::response> feed::open(auth::principal who, std::optional<std::int64_t> last_id) {
    const std::int64_t user_id = who.user_id;
    auto w = std::make_shared<topic::watcher>();
    std::shared_ptr<topic> t;
    {
        // Registered before the catch-up is read: everything published from here on is held
        // back for this stream.
        std::lock_guard lock(mutex_);
        auto& slot = topics_[user_id];
        if (!slot) {
            slot = std::make_shared<topic>();
            std::weak_ptr<topic> weak = slot;
            slot->subscription = bus_.subscribe(
                user_topic(user_id), [weak](std::string_view, std::string_view json) {
                    auto strong = weak.lock();
                    if (!strong) return;
                    const auto id = id_of(json);
                    if (!id) return;
                    std::lock_guard tl(strong->mutex);
                    std::string frame;
                    for (const auto& watcher : strong->watchers) {
                        if (*id <= watcher->last_written) continue;
                        if (frame.empty()) frame = notification_frame(*id, json);
                        if (watcher->pending) {
                            watcher->held_back.emplace_back(*id, frame);
                        } else if (auto client = watcher->client.lock()) {
                            watcher->last_written = *id;
                            client->push(frame);
                        }
                    }
                });
        }
        t = slot;
        std::lock_guard tl(t->mutex);
        t->watchers.push_back(w);
    }
    // Unregisters the stream; the user's topic goes with its last stream.
    auto forget = [this, user_id, t, w] {
        bus::subscription ended;
        {
            std::lock_guard lock(mutex_);
            std::lock_guard tl(t->mutex);
            std::erase(t->watchers, w);
            if (t->watchers.empty()) {
                auto it = topics_.find(user_id);
                if (it != topics_.end() && it->second == t) topics_.erase(it);
                ended = std::move(t->subscription);
            }
        }
    };

    auto begun = co_await db_.run(
        [&user_id, &last_id](db::connection& c) { return read_start(c, user_id, last_id); });
    if (!begun) {
        forget();
        co_return http::problem_response(detail::db_problem(begun.error()));
    }

    std::string initial;
    std::int64_t written = last_id.value_or(0);
    const std::string ready =
        fmt::format("{{\"lastId\":{},\"unreadCount\":{}}}", begun->latest, begun->unread);
    if (!last_id) {
        http::append_sse_event(initial,
                               http::sse_event{std::to_string(begun->latest), "ready", ready});
        written = begun->latest;
    } else if (begun->too_many) {
        // Too far behind to replay, or lost: start again from the list, and from now on.
        http::append_sse_event(initial,
                               http::sse_event{std::to_string(begun->latest), "reset", ready});
        written = begun->latest;
    } else {
        http::append_sse_event(initial, http::sse_event{{}, "ready", ready});
        for (const auto& n : begun->missed) {
            const auto json = to_json(n);
            initial += notification_frame(n.id, json);
            written = n.id;
        }
    }

    auto opened = hub_.open("notifications", std::move(initial));
    if (!opened.client) {
        forget();
        co_return std::move(opened.res);
    }
    {
        std::lock_guard tl(t->mutex);
        w->client = opened.client;
        w->last_written = std::max(w->last_written, written);
        for (auto& [id, frame] : w->held_back) {
            if (id <= w->last_written) continue;
            w->last_written = id;
            opened.client->push(std::move(frame));
        }
        w->held_back.clear();
        w->held_back.shrink_to_fit();
        w->pending = false;
    }
    opened.client->on_close(std::move(forget));
    co_return std::move(opened.res);
}

}  // namespace tkt::notifications
