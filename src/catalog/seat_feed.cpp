#include "catalog/seat_feed.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "catalog/seat_delta.hpp"
#include "http/sse.hpp"

namespace tkt::catalog {
namespace {

using boost::asio::awaitable;

std::string seats_frame(std::uint64_t version, std::string data) {
    std::string out;
    http::append_sse_event(out, http::sse_event{std::to_string(version), "seats", std::move(data)});
    return out;
}

std::string reset_frame(std::uint64_t version) {
    std::string out;
    http::append_sse_event(out, http::sse_event{std::to_string(version), "reset",
                                                fmt::format("{{\"version\":{}}}", version)});
    return out;
}

// The version a delta's data starts with: {"version":N,...}.
std::optional<std::uint64_t> version_of(std::string_view data) {
    constexpr std::string_view prefix = "{\"version\":";
    if (!data.starts_with(prefix)) return std::nullopt;
    std::uint64_t v = 0;
    auto begin = data.data() + prefix.size();
    auto [p, ec] = std::from_chars(begin, data.data() + data.size(), v);
    if (ec != std::errc{} || p == begin) return std::nullopt;
    return v;
}

}  // namespace

std::string seats_topic(std::int64_t event_id) {
    return fmt::format("seats.{}", event_id);
}

struct seat_feed::topic {
    struct watcher {
        std::weak_ptr<http::sse_client> client;
        // Until its catch-up is written: the deltas that came meanwhile, in order.
        bool pending = true;
        std::vector<std::pair<std::uint64_t, std::string>> held_back;
    };

    std::mutex mutex;
    bus::subscription subscription;
    std::vector<std::shared_ptr<watcher>> watchers;
    // The poller's side: the version its last delta ended at (0: none taken yet).
    std::uint64_t published = 0;
    bool polling = false;
};

seat_feed::seat_feed(inventory::inventory& inv, bus::bus& b, http::sse_hub& hub)
    : inventory_(inv), bus_(b), hub_(hub) {
    hub_.declare("seats");
}

seat_feed::~seat_feed() {
    std::lock_guard lock(mutex_);
    for (auto& [_, t] : topics_) {
        std::lock_guard tl(t->mutex);
        t->subscription.reset();
    }
}

std::size_t seat_feed::watchers(std::int64_t event_id) const {
    std::shared_ptr<topic> t;
    {
        std::lock_guard lock(mutex_);
        auto it = topics_.find(event_id);
        if (it == topics_.end()) return 0;
        t = it->second;
    }
    std::lock_guard lock(t->mutex);
    return t->watchers.size();
}

std::shared_ptr<seat_feed::topic> seat_feed::topic_of(std::int64_t event_id) {
    std::lock_guard lock(mutex_);
    auto& t = topics_[event_id];
    if (!t) {
        t = std::make_shared<topic>();
        std::weak_ptr<topic> weak = t;
        t->subscription =
            bus_.subscribe(seats_topic(event_id), [weak](std::string_view, std::string_view data) {
                auto strong = weak.lock();
                if (!strong) return;
                const auto version = version_of(data);
                if (!version) return;
                const auto frame = seats_frame(*version, std::string(data));
                std::lock_guard lock(strong->mutex);
                for (const auto& w : strong->watchers) {
                    if (w->pending) {
                        w->held_back.emplace_back(*version, frame);
                    } else if (auto client = w->client.lock()) {
                        client->push(frame);
                    }
                }
            });
    }
    return t;
}

awaitable<http::response> seat_feed::open(std::int64_t event_id,
                                          std::optional<std::uint64_t> since) {
    auto opened = hub_.open("seats");
    if (!opened.client) co_return std::move(opened.res);
    auto t = topic_of(event_id);
    auto w = std::make_shared<topic::watcher>();
    w->client = opened.client;
    {
        std::lock_guard lock(t->mutex);
        t->watchers.push_back(w);
    }
    std::weak_ptr<topic> weak = t;
    opened.client->on_close([weak, w] {
        if (auto strong = weak.lock()) {
            std::lock_guard lock(strong->mutex);
            std::erase(strong->watchers, w);
        }
    });
    // Registered first, then the snapshot: every delta published from here on is held back
    // for this client, and the catch-up reaches at least as far as the first of them begins.
    auto snap = co_await inventory_.snapshot_of(event_id);
    std::lock_guard lock(t->mutex);
    if (!snap) {
        opened.client->close();
        co_return std::move(opened.res);
    }
    // The first client sets where the poller's deltas start: its own snapshot, so that its
    // catch-up and the first delta meet.
    if (t->published == 0) t->published = snap->version;
    std::optional<seat_delta> delta;
    if (since) delta = delta_since(*snap, *since);
    std::string first;
    if (delta) first = seats_event_data(*delta);
    if (!delta || first.size() > seat_catch_up_bytes_max) {
        opened.client->push(reset_frame(snap->version));
    } else {
        opened.client->push(seats_frame(snap->version, std::move(first)));
    }
    for (auto& [version, frame] : w->held_back) {
        if (version > snap->version) opened.client->push(std::move(frame));
    }
    w->held_back.clear();
    w->held_back.shrink_to_fit();
    w->pending = false;
    co_return std::move(opened.res);
}

awaitable<void> seat_feed::tick() {
    std::vector<std::pair<std::int64_t, std::shared_ptr<topic>>> watched;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, t] : topics_) watched.emplace_back(id, t);
    }
    for (auto& [event_id, t] : watched) {
        std::uint64_t published = 0;
        {
            std::lock_guard lock(t->mutex);
            if (t->watchers.empty() || t->polling || t->published == 0) continue;
            t->polling = true;
            published = t->published;
        }
        const auto now_version = co_await inventory_.version_of(event_id);
        std::optional<inventory::snapshot> snap;
        if (now_version != published) snap = co_await inventory_.snapshot_of(event_id);
        std::string data;
        if (snap) {
            if (auto d = delta_since(*snap, published)) data = seats_event_data(*d);
        }
        {
            std::lock_guard lock(t->mutex);
            t->polling = false;
            if (snap) t->published = snap->version;
        }
        // An inventory that went back (a reload) gives no delta; clients resync when they
        // reconnect.
        if (!data.empty()) bus_.publish(seats_topic(event_id), std::move(data));
    }
}

}  // namespace tkt::catalog
