#pragma once
// memory_bus: the in-process `bus` engine of the embedded deployment (one node). publish()
// calls every subscriber of the topic at once, on the publisher's thread, outside any lock:
// the subscriber list is copied (shared, copy-on-write) per topic, so a handler may publish or
// subscribe without deadlock.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/bus.hpp"

namespace tkt::bus {

class memory_bus final : public bus {
public:
    memory_bus();
    ~memory_bus() override;
    memory_bus(const memory_bus&) = delete;
    memory_bus& operator=(const memory_bus&) = delete;

    void publish(std::string_view topic, std::string message) override;
    subscription subscribe(std::string topic, message_handler handler) override;
    std::uint64_t published() const override { return published_.load(); }

    // Subscribers of `topic` now (tests, metrics).
    std::size_t subscribers(std::string_view topic) const;

private:
    struct entry {
        std::uint64_t id = 0;
        std::shared_ptr<const message_handler> handler;
    };
    using list = std::vector<entry>;

    struct state {
        mutable std::mutex mutex;
        std::unordered_map<std::string, std::shared_ptr<const list>> topics;
        std::uint64_t next_id = 1;
    };

    std::shared_ptr<state> state_;
    std::atomic<std::uint64_t> published_{0};
};

}  // namespace tkt::bus
