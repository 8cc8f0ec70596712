#include "waiting_room/memory_lease.hpp"

namespace tkt::waiting_room {

boost::asio::awaitable<bool> memory_lease::acquire(std::string name, std::string owner,
                                                   std::chrono::milliseconds ttl, time_point now) {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = leases_.try_emplace(std::move(name), held{owner, now + ttl});
    if (fresh) co_return true;
    auto& h = it->second;
    if (h.owner != owner && h.until > now) co_return false;
    h.owner = std::move(owner);
    h.until = now + ttl;
    co_return true;
}

boost::asio::awaitable<void> memory_lease::release(std::string name, std::string owner) {
    std::lock_guard lock(mutex_);
    auto it = leases_.find(name);
    if (it != leases_.end() && it->second.owner == owner) leases_.erase(it);
    co_return;
}

}  // namespace tkt::waiting_room
