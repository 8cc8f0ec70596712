#include "bus/memory_bus.hpp"

#include <algorithm>

namespace tkt::bus {

memory_bus::memory_bus() : state_(std::make_shared<state>()) {}

memory_bus::~memory_bus() = default;

void memory_bus::publish(std::string_view topic, std::string message) {
    published_.fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<const list> subscribers;
    {
        std::lock_guard lock(state_->mutex);
        auto it = state_->topics.find(std::string(topic));
        if (it == state_->topics.end()) return;
        subscribers = it->second;
    }
    for (const auto& e : *subscribers) (*e.handler)(topic, message);
}

subscription memory_bus::subscribe(std::string topic, message_handler handler) {
    auto fn = std::make_shared<const message_handler>(std::move(handler));
    std::uint64_t id = 0;
    {
        std::lock_guard lock(state_->mutex);
        id = state_->next_id++;
        auto& current = state_->topics[topic];
        auto next = current ? std::make_shared<list>(*current) : std::make_shared<list>();
        next->push_back(entry{id, std::move(fn)});
        current = std::move(next);
    }
    // The subscription keeps the state alive: it may outlive the bus in a shutdown.
    std::weak_ptr<state> weak = state_;
    return subscription([weak, topic = std::move(topic), id] {
        auto s = weak.lock();
        if (!s) return;
        std::lock_guard lock(s->mutex);
        auto it = s->topics.find(topic);
        if (it == s->topics.end()) return;
        auto next = std::make_shared<list>(*it->second);
        std::erase_if(*next, [id](const entry& e) { return e.id == id; });
        if (next->empty()) {
            s->topics.erase(it);
        } else {
            it->second = std::move(next);
        }
    });
}

std::size_t memory_bus::subscribers(std::string_view topic) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->topics.find(std::string(topic));
    return it == state_->topics.end() ? 0 : it->second->size();
}

}  // namespace tkt::bus
