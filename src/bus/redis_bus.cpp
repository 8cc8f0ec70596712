#include "bus/redis_bus.hpp"

#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>

#include "common/log.hpp"
#include "redis/subscriber.hpp"

namespace tkt::bus {

namespace asio = boost::asio;

namespace {

struct entry {
    std::uint64_t id = 0;
    std::shared_ptr<const message_handler> handler;
    std::shared_ptr<std::atomic<bool>> live;
};
using list = std::vector<entry>;

}  // namespace

struct redis_bus::state {
    state(asio::any_io_executor executor, redis::connection& publisher, redis_bus_options o)
        : strand(asio::make_strand(executor)), connection(publisher), options(std::move(o)) {}

    asio::strand<asio::any_io_executor> strand;
    redis::connection& connection;
    redis_bus_options options;

    mutable std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const list>> topics;
    std::uint64_t next_id = 1;
    std::unique_ptr<redis::subscriber> subscriber;  // null once the bus is gone

    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> failed{0};

    void deliver(const redis::pubsub_message& m) {
        const auto& prefix = options.channel_prefix;
        if (m.channel.compare(0, prefix.size(), prefix) != 0) return;
        std::string_view topic = std::string_view(m.channel).substr(prefix.size());
        std::shared_ptr<const list> handlers;
        {
            std::lock_guard lock(mutex);
            auto it = topics.find(std::string(topic));
            if (it == topics.end()) return;
            handlers = it->second;
        }
        for (const auto& e : *handlers) {
            if (e.live->load()) (*e.handler)(topic, m.payload);
        }
    }

    void cancel(const std::string& topic, std::uint64_t id) {
        std::lock_guard lock(mutex);
        auto it = topics.find(topic);
        if (it == topics.end()) return;
        auto next = std::make_shared<list>();
        for (const auto& e : *it->second) {
            if (e.id == id) {
                e.live->store(false);
            } else {
                next->push_back(e);
            }
        }
        if (next->empty()) {
            topics.erase(it);
            if (subscriber) subscriber->unsubscribe(options.channel_prefix + topic);
        } else {
            it->second = std::move(next);
        }
    }
};

namespace {

asio::awaitable<void> send(std::shared_ptr<redis_bus::state> s, std::string channel,
                           std::string message) {
    const auto c = redis::command::of("PUBLISH", channel, message);
    auto r = co_await s->connection.exec(c, s->options.publish_timeout);
    if (!r) {
        s->failed.fetch_add(1);
        log::warn("bus.publish_failed", {{"channel", channel}, {"error", r.error().message}});
    }
}

}  // namespace

redis_bus::redis_bus(asio::any_io_executor executor, redis::connection& publisher,
                     redis::connection_options subscriber_options, redis_bus_options options)
    : state_(std::make_shared<state>(executor, publisher, std::move(options))) {
    std::weak_ptr<state> weak = state_;
    state_->subscriber =
        std::make_unique<redis::subscriber>(executor, std::move(subscriber_options), state_->strand,
                                            [weak](const redis::pubsub_message& m) {
                                                if (auto s = weak.lock()) s->deliver(m);
                                            });
}

redis_bus::~redis_bus() {
    std::unique_ptr<redis::subscriber> sub;
    {
        std::lock_guard lock(state_->mutex);
        sub = std::move(state_->subscriber);
        state_->topics.clear();
    }
    if (sub) sub->close();
}

void redis_bus::publish(std::string_view topic, std::string message) {
    state_->published.fetch_add(1);
    auto op = send(state_, state_->options.channel_prefix + std::string(topic), std::move(message));
    asio::co_spawn(state_->strand, std::move(op), asio::detached);
}

subscription redis_bus::subscribe(std::string topic, message_handler handler) {
    std::uint64_t id = 0;
    {
        std::lock_guard lock(state_->mutex);
        id = state_->next_id++;
        auto& current = state_->topics[topic];
        auto next = current ? std::make_shared<list>(*current) : std::make_shared<list>();
        next->push_back({id, std::make_shared<const message_handler>(std::move(handler)),
                         std::make_shared<std::atomic<bool>>(true)});
        const bool first = !current;
        current = std::move(next);
        if (first && state_->subscriber) {
            state_->subscriber->subscribe(state_->options.channel_prefix + topic);
        }
    }
    std::weak_ptr<state> weak = state_;
    return subscription([weak, topic = std::move(topic), id] {
        if (auto s = weak.lock()) s->cancel(topic, id);
    });
}

std::uint64_t redis_bus::published() const {
    return state_->published.load();
}

std::uint64_t redis_bus::failed() const {
    return state_->failed.load();
}

std::size_t redis_bus::subscribers(std::string_view topic) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->topics.find(std::string(topic));
    return it == state_->topics.end() ? 0 : it->second->size();
}

}  // namespace tkt::bus
