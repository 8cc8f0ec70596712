#include "waiting_room/memory_waiting_room.hpp"

namespace tkt::waiting_room {

memory_waiting_room::memory_waiting_room() = default;
memory_waiting_room::~memory_waiting_room() = default;

std::shared_ptr<memory_waiting_room::slot> memory_waiting_room::find(event_id e) const {
    std::shared_lock lock(mutex_);
    auto it = rooms_.find(e);
    return it == rooms_.end() ? nullptr : it->second;
}

std::shared_ptr<memory_waiting_room::slot> memory_waiting_room::find_or_create(event_id e) {
    if (auto s = find(e)) return s;
    std::unique_lock lock(mutex_);
    auto& s = rooms_[e];
    if (!s) s = std::make_shared<slot>();
    return s;
}

bool memory_waiting_room::restore_now(event_id e, const saved_room& saved, time_point now,
                                      restore_mode mode) {
    std::shared_ptr<slot> s;
    {
        // Looked up and added under one lock: of two restores of an absent room, one adds it.
        std::unique_lock lock(mutex_);
        auto& found = rooms_[e];
        if (found && mode == restore_mode::only_if_absent) return false;
        if (!found) found = std::make_shared<slot>();
        s = found;
        if (mode == restore_mode::only_if_absent) {
            // New and still unseen by anyone else: filled before the map's lock is let go.
            s->r = room(saved, now);
            return true;
        }
    }
    std::lock_guard lock(s->mutex);
    s->r = room(saved, now);
    return true;
}

std::optional<saved_room> memory_waiting_room::save_now(event_id e) const {
    auto s = find(e);
    if (!s) return std::nullopt;
    std::lock_guard lock(s->mutex);
    return s->r.save();
}

boost::asio::awaitable<std::optional<saved_room>> memory_waiting_room::save(event_id e) {
    co_return save_now(e);
}

boost::asio::awaitable<bool> memory_waiting_room::restore(event_id e, saved_room saved,
                                                          time_point now, restore_mode mode) {
    co_return restore_now(e, saved, now, mode);
}

boost::asio::awaitable<ticket> memory_waiting_room::join(event_id e, user_id u, time_point now) {
    auto s = find_or_create(e);
    std::lock_guard lock(s->mutex);
    co_return s->r.join(u, now);
}

boost::asio::awaitable<std::optional<ticket>> memory_waiting_room::status(event_id e, user_id u,
                                                                          time_point now) {
    auto s = find(e);
    if (!s) co_return std::nullopt;
    std::lock_guard lock(s->mutex);
    co_return s->r.status(u, now);
}

boost::asio::awaitable<std::optional<seq_t>> memory_waiting_room::leave(event_id e, user_id u) {
    auto s = find(e);
    if (!s) co_return std::nullopt;
    std::lock_guard lock(s->mutex);
    co_return s->r.leave(u);
}

boost::asio::awaitable<void> memory_waiting_room::attach(event_id e, user_id u, time_point now) {
    if (auto s = find(e)) {
        std::lock_guard lock(s->mutex);
        s->r.attach(u, now);
    }
    co_return;
}

boost::asio::awaitable<void> memory_waiting_room::detach(event_id e, user_id u, time_point now) {
    if (auto s = find(e)) {
        std::lock_guard lock(s->mutex);
        s->r.detach(u, now);
    }
    co_return;
}

boost::asio::awaitable<std::vector<std::pair<user_id, seq_t>>> memory_waiting_room::open(
    event_id e, std::uint64_t seed) {
    auto s = find_or_create(e);
    std::lock_guard lock(s->mutex);
    co_return s->r.open(seed);
}

boost::asio::awaitable<tick_outcome> memory_waiting_room::tick(event_id e, time_point now,
                                                               room_settings settings) {
    auto s = find(e);
    if (!s) co_return tick_outcome{};
    std::lock_guard lock(s->mutex);
    co_return s->r.tick(now, settings);
}

bool memory_waiting_room::admitted_now(event_id e, user_id u, seq_t seq, time_point now) const {
    auto s = find(e);
    if (!s) return false;
    std::lock_guard lock(s->mutex);
    return s->r.admitted(u, seq, now);
}

boost::asio::awaitable<bool> memory_waiting_room::admitted(event_id e, user_id u, seq_t seq,
                                                           time_point now) {
    co_return admitted_now(e, u, seq, now);
}

boost::asio::awaitable<bool> memory_waiting_room::use(event_id e, user_id u, seq_t seq,
                                                      std::string hold, time_point now) {
    auto s = find(e);
    if (!s) co_return false;
    std::lock_guard lock(s->mutex);
    co_return s->r.use(u, seq, hold, now);
}

boost::asio::awaitable<std::vector<std::pair<user_id, std::string>>>
memory_waiting_room::holds_in_use(event_id e) {
    auto s = find(e);
    if (!s) co_return std::vector<std::pair<user_id, std::string>>{};
    std::lock_guard lock(s->mutex);
    co_return s->r.holds_in_use();
}

boost::asio::awaitable<std::vector<departure>> memory_waiting_room::holds_ended(
    event_id e, std::vector<std::pair<user_id, std::string>> ended) {
    auto s = find(e);
    if (!s) co_return std::vector<departure>{};
    std::lock_guard lock(s->mutex);
    co_return s->r.holds_ended(ended);
}

boost::asio::awaitable<std::optional<room_stats>> memory_waiting_room::stats(event_id e) {
    auto s = find(e);
    if (!s) co_return std::nullopt;
    std::lock_guard lock(s->mutex);
    co_return s->r.stats();
}

boost::asio::awaitable<std::vector<std::string>> memory_waiting_room::audit(
    event_id e, std::int32_t max_active) {
    auto s = find(e);
    if (!s) co_return std::vector<std::string>{};
    std::lock_guard lock(s->mutex);
    co_return s->r.audit(max_active);
}

boost::asio::awaitable<std::vector<event_id>> memory_waiting_room::rooms() {
    std::vector<event_id> out;
    {
        std::shared_lock lock(mutex_);
        out.reserve(rooms_.size());
        for (const auto& [e, _] : rooms_) out.push_back(e);
    }
    co_return out;
}

boost::asio::awaitable<void> memory_waiting_room::drop(event_id e) {
    std::unique_lock lock(mutex_);
    rooms_.erase(e);
    co_return;
}

}  // namespace tkt::waiting_room
