#pragma once
// memory_lease: the embedded `lease` engine, a map name → (owner, expiry) under a mutex.
#include <mutex>
#include <unordered_map>

#include "waiting_room/lease.hpp"

namespace tkt::waiting_room {

class memory_lease final : public lease {
public:
    boost::asio::awaitable<bool> acquire(std::string name, std::string owner,
                                         std::chrono::milliseconds ttl, time_point now) override;
    boost::asio::awaitable<void> release(std::string name, std::string owner) override;

private:
    struct held {
        std::string owner;
        time_point until;
    };
    std::mutex mutex_;
    std::unordered_map<std::string, held> leases_;
};

}  // namespace tkt::waiting_room
