#include "waiting_room/room.hpp"

#include <algorithm>
#include <random>
#include <unordered_set>

#include <fmt/format.h>

#include "common/assert.hpp"

namespace tkt::waiting_room {
namespace {

// A quiet room banks at most this much admission (in seconds of admit_per_second): enough to
// carry fractions between ticks, too little for a burst after a lull.
constexpr double allowance_bank_seconds = 0.2;
// Tenths added up in floating point fall short of a whole by a hair; that is still a whole.
constexpr double allowance_epsilon = 1e-9;

}  // namespace

room::room(const saved_room& saved, time_point now)
    : open_(saved.open), head_(saved.head), last_seq_(saved.last_seq) {
    for (const auto& m : saved.members) last_seq_ = std::max(last_seq_, m.seq);
    by_seq_.assign(static_cast<std::size_t>(last_seq_), 0);
    for (const auto& s : saved.members) {
        member m;
        m.seq = s.seq;
        m.last_seen = now;
        if (s.admitted_until) {
            m.where = place::admitted;
            m.admitted_until = *s.admitted_until;
            expiries_.emplace(m.admitted_until, s.user);
            ++active_;
        } else if (s.seq == 0) {
            m.where = place::pre_queue;
            pre_.push_back(s.user);
            ++pre_count_;
        } else {
            m.where = place::waiting;
        }
        if (s.seq > 0) by_seq_[static_cast<std::size_t>(s.seq - 1)] = s.user;
        if (m.where != place::admitted) away_.emplace(now, s.user);
        members_.emplace(s.user, std::move(m));
    }
}

ticket room::ticket_of(const member& m, bool created) const {
    return ticket{.where = m.where,
                  .seq = m.seq,
                  .head = head_,
                  .admitted_until = m.admitted_until,
                  .created = created};
}

void room::mark_away(user_id u, const member& m) {
    if (m.where != place::admitted && m.streams == 0) away_.emplace(m.last_seen, u);
}

void room::unmark_away(user_id u, const member& m) {
    away_.erase({m.last_seen, u});
}

ticket room::join(user_id u, time_point now) {
    if (auto it = members_.find(u); it != members_.end()) {
        unmark_away(u, it->second);
        it->second.last_seen = now;
        mark_away(u, it->second);
        return ticket_of(it->second, false);
    }
    member m;
    m.last_seen = now;
    if (!open_) {
        m.where = place::pre_queue;
        pre_.push_back(u);
        ++pre_count_;
    } else {
        m.where = place::waiting;
        m.seq = ++last_seq_;
        by_seq_.push_back(u);
    }
    auto [it, _] = members_.emplace(u, std::move(m));
    mark_away(u, it->second);
    return ticket_of(it->second, true);
}

std::optional<ticket> room::status(user_id u, time_point now) {
    auto it = members_.find(u);
    if (it == members_.end()) return std::nullopt;
    unmark_away(u, it->second);
    it->second.last_seen = now;
    mark_away(u, it->second);
    return ticket_of(it->second, false);
}

void room::remove(user_id u) {
    auto it = members_.find(u);
    if (it == members_.end()) return;
    auto& m = it->second;
    unmark_away(u, m);
    switch (m.where) {
        case place::pre_queue:
            std::replace(pre_.begin(), pre_.end(), u, user_id{0});
            --pre_count_;
            break;
        case place::admitted:
            expiries_.erase({m.admitted_until, u});
            --active_;
            [[fallthrough]];
        case place::waiting:
            by_seq_[static_cast<std::size_t>(m.seq - 1)] = 0;
            break;
    }
    members_.erase(it);
}

std::optional<seq_t> room::leave(user_id u) {
    auto it = members_.find(u);
    if (it == members_.end()) return std::nullopt;
    const seq_t seq = it->second.seq;
    remove(u);
    return seq;
}

void room::attach(user_id u, time_point now) {
    auto it = members_.find(u);
    if (it == members_.end()) return;
    unmark_away(u, it->second);
    it->second.last_seen = now;
    ++it->second.streams;
}

void room::detach(user_id u, time_point now) {
    auto it = members_.find(u);
    if (it == members_.end() || it->second.streams == 0) return;
    unmark_away(u, it->second);
    it->second.last_seen = now;
    --it->second.streams;
    mark_away(u, it->second);
}

std::vector<std::pair<user_id, seq_t>> room::open(std::uint64_t seed) {
    std::vector<std::pair<user_id, seq_t>> drawn;
    if (open_) return drawn;
    open_ = true;
    std::erase(pre_, user_id{0});
    std::mt19937_64 rng(seed);
    std::shuffle(pre_.begin(), pre_.end(), rng);
    drawn.reserve(pre_.size());
    for (user_id u : pre_) {
        auto& m = members_.at(u);
        m.where = place::waiting;
        m.seq = ++last_seq_;
        by_seq_.push_back(u);
        drawn.emplace_back(u, m.seq);
    }
    pre_.clear();
    pre_.shrink_to_fit();
    pre_count_ = 0;
    return drawn;
}

void room::admit(user_id u, member& m, time_point until) {
    unmark_away(u, m);
    m.where = place::admitted;
    m.admitted_until = until;
    expiries_.emplace(until, u);
    ++active_;
    ++admitted_total_;
}

tick_outcome room::tick(time_point now, const room_settings& s) {
    tick_outcome out;
    out.head_before = head_;

    // Entries that ran out, then the absent past their grace.
    while (!expiries_.empty() && expiries_.begin()->first <= now) {
        const user_id u = expiries_.begin()->second;
        out.removed.push_back({u, members_.at(u).seq});
        remove(u);
    }
    const time_point seen_cutoff = now - s.grace;
    while (!away_.empty() && away_.begin()->first <= seen_cutoff) {
        const user_id u = away_.begin()->second;
        out.removed.push_back({u, members_.at(u).seq});
        remove(u);
    }

    if (open_) {
        const double rate = std::max<std::int32_t>(s.admit_per_second, 0);
        // What was not used since the last tick is banked only up to a little; this tick's
        // share is added whole.
        allowance_ = std::min(allowance_, std::max(1.0, rate * allowance_bank_seconds));
        if (last_tick_ && now > *last_tick_) {
            allowance_ += rate * std::chrono::duration<double>(now - *last_tick_).count();
        }
        std::int64_t room_left = std::max<std::int64_t>(0, s.max_active - active_);
        while (allowance_ >= 1.0 - allowance_epsilon && room_left > 0 && head_ < last_seq_) {
            ++head_;
            const user_id u = by_seq_[static_cast<std::size_t>(head_ - 1)];
            if (u == 0) continue;  // left: passed over at no cost
            auto& m = members_.at(u);
            const time_point until = now + s.entry_ttl;
            admit(u, m, until);
            out.admitted.push_back(admission{u, m.seq, until});
            allowance_ -= 1.0;
            --room_left;
        }
        // Seqs of users who left right after the head cost nothing either.
        while (head_ < last_seq_ && by_seq_[static_cast<std::size_t>(head_)] == 0) ++head_;
    }
    last_tick_ = now;
    out.head = head_;
    return out;
}

bool room::admitted(user_id u, seq_t seq, time_point now) const {
    auto it = members_.find(u);
    return it != members_.end() && it->second.where == place::admitted && it->second.seq == seq &&
           it->second.admitted_until > now;
}

bool room::use(user_id u, seq_t seq, const std::string& hold, time_point now) {
    if (!admitted(u, seq, now)) return false;
    members_.at(u).holds.push_back(hold);
    return true;
}

std::vector<std::pair<user_id, std::string>> room::holds_in_use() const {
    std::vector<std::pair<user_id, std::string>> out;
    for (const auto& [u, m] : members_) {
        if (m.where != place::admitted) continue;
        for (const auto& h : m.holds) out.emplace_back(u, h);
    }
    return out;
}

std::vector<departure> room::holds_ended(
    const std::vector<std::pair<user_id, std::string>>& ended) {
    std::vector<departure> freed;
    for (const auto& [u, hold] : ended) {
        auto it = members_.find(u);
        if (it == members_.end() || it->second.where != place::admitted) continue;
        auto& holds = it->second.holds;
        const auto before = holds.size();
        std::erase(holds, hold);
        if (holds.empty() && before > 0) {
            freed.push_back({u, it->second.seq});
            remove(u);
        }
    }
    return freed;
}

room_stats room::stats() const {
    return room_stats{.open = open_,
                      .head = head_,
                      .last_seq = last_seq_,
                      .waiting = static_cast<std::int64_t>(members_.size()) - active_ - pre_count_,
                      .pre_queue = pre_count_,
                      .active = active_,
                      .admitted_total = admitted_total_};
}

saved_room room::save() const {
    saved_room out{.open = open_, .head = head_, .last_seq = last_seq_, .members = {}};
    out.members.reserve(members_.size());
    for (const auto& [u, m] : members_) {
        saved_member s{.user = u, .seq = m.seq, .admitted_until = std::nullopt};
        if (m.where == place::admitted) s.admitted_until = m.admitted_until;
        out.members.push_back(s);
    }
    return out;
}

std::vector<std::string> room::audit(std::int32_t max_active) const {
    std::vector<std::string> out;
    if (head_ > last_seq_)
        out.push_back(fmt::format("head {} past the last seq {}", head_, last_seq_));
    if (by_seq_.size() != static_cast<std::size_t>(last_seq_)) {
        out.push_back(fmt::format("{} seq slots for {} seqs", by_seq_.size(), last_seq_));
    }
    std::int64_t admitted = 0;
    std::int64_t pre = 0;
    std::size_t away = 0;
    std::unordered_set<seq_t> seqs;
    for (const auto& [u, m] : members_) {
        if (m.where == place::pre_queue) {
            ++pre;
            if (open_) out.push_back(fmt::format("user {} in the pre-queue of an open room", u));
        } else {
            if (m.seq < 1 || m.seq > last_seq_) {
                out.push_back(fmt::format("user {} has seq {} outside 1..{}", u, m.seq, last_seq_));
                continue;
            }
            if (!seqs.insert(m.seq).second) out.push_back(fmt::format("seq {} given twice", m.seq));
            if (by_seq_[static_cast<std::size_t>(m.seq - 1)] != u) {
                out.push_back(fmt::format("seq {} does not lead back to user {}", m.seq, u));
            }
        }
        if (m.where == place::waiting && m.seq <= head_) {
            out.push_back(
                fmt::format("user {} waits with seq {} the head {} passed", u, m.seq, head_));
        }
        if (m.where == place::admitted) {
            ++admitted;
            if (m.seq > head_) {
                out.push_back(
                    fmt::format("user {} admitted with seq {} past the head {}", u, m.seq, head_));
            }
            if (!expiries_.contains({m.admitted_until, u})) {
                out.push_back(fmt::format("admitted user {} has no expiry", u));
            }
        } else if (m.streams == 0) {
            ++away;
            if (!away_.contains({m.last_seen, u})) {
                out.push_back(fmt::format("absent user {} is not under the grace sweep", u));
            }
        }
    }
    if (admitted != active_)
        out.push_back(fmt::format("{} admitted, {} counted", admitted, active_));
    if (admitted > max_active) {
        out.push_back(fmt::format("{} admitted, more than maxActive {}", admitted, max_active));
    }
    if (pre != pre_count_)
        out.push_back(fmt::format("{} in the pre-queue, {} counted", pre, pre_count_));
    if (expiries_.size() != static_cast<std::size_t>(admitted)) {
        out.push_back(fmt::format("{} expiries for {} admitted", expiries_.size(), admitted));
    }
    if (away_.size() != away)
        out.push_back(fmt::format("{} under the grace sweep, {} absent", away_.size(), away));
    return out;
}

}  // namespace tkt::waiting_room
