#include "booking/hold_owners.hpp"

namespace tkt::booking {

void hold_owners::remember(std::string_view hold_id, hold_owner owner) {
    std::lock_guard lock(mutex_);
    if (owners_.size() >= capacity_) owners_.clear();
    owners_.insert_or_assign(std::string(hold_id), owner);
}

std::optional<hold_owner> hold_owners::find(std::string_view hold_id) const {
    std::lock_guard lock(mutex_);
    auto it = owners_.find(hold_id);
    if (it == owners_.end()) return std::nullopt;
    return it->second;
}

void hold_owners::forget(std::string_view hold_id) {
    std::lock_guard lock(mutex_);
    if (auto it = owners_.find(hold_id); it != owners_.end()) owners_.erase(it);
}

std::size_t hold_owners::size() const {
    std::lock_guard lock(mutex_);
    return owners_.size();
}

}  // namespace tkt::booking
