#pragma once
// One event's waiting room, sans-io (DESIGN.md §6): who is in line, with which ticket number
// `seq`, how far the line has been let in (`head`), and who holds an active entry slot now.
// Plain and single-threaded: the memory engine keeps one under a mutex per event; time and the
// shuffle's seed are passed in.
//
// The rules:
// - join: a user in the room keeps their place (same seq) however often they join. Before the
//   room opens they enter the pre-queue, which `open` shuffles once: every early user gets
//   exactly one seq, in random order, before anyone who joins after opening.
// - tick: the head moves by admit_per_second × dt (fractions carry over, and a quiet room does
//   not bank a burst), never past the last seq issued and never so far that more than
//   max_active users are admitted at once. Passing a seq admits its user until now +
//   entry_ttl. A seq whose user has left is passed over at no cost.
// - position = seq − head, ETA = position / admit_per_second: arithmetic, no per-user search.
// - a user with no open stream who has not been seen for `grace` loses their place; one who
//   comes back within it keeps the same seq. An admitted user's slot ends when their entry
//   expires, when they leave, or when every hold they made with it has ended (`holds_ended`).
//   A user whose slot ended is out of the room; joining again gives a new seq at the back.
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.hpp"

namespace tkt::waiting_room {

using event_id = std::int64_t;
using user_id = std::int64_t;
using seq_t = std::int64_t;

struct room_settings {
    std::int32_t admit_per_second = 50;
    std::int32_t max_active = 500;
    std::chrono::seconds entry_ttl{600};
    std::chrono::seconds grace{300};
};

enum class place { pre_queue, waiting, admitted };

// Where one user stands.
struct ticket {
    place where = place::waiting;
    seq_t seq = 0;  // 0 in the pre-queue (not drawn yet)
    seq_t head = 0;
    time_point admitted_until{};  // admitted only: when the entry (and its token) expires
    bool created = false;         // this call put the user in the room

    // seq − head while waiting; 0 once admitted; 0 in the pre-queue (no place drawn yet).
    std::int64_t position() const { return where == place::waiting ? seq - head : 0; }
};

// Someone admitted by a tick.
struct admission {
    user_id user = 0;
    seq_t seq = 0;
    time_point until{};
};

// Someone out of the room, with the seq they had (a journal removes exactly that entry, not a
// newer one the same user made by joining again meanwhile).
struct departure {
    user_id user = 0;
    seq_t seq = 0;
    friend bool operator==(const departure&, const departure&) = default;
};

struct tick_outcome {
    seq_t head_before = 0;
    seq_t head = 0;
    std::vector<admission> admitted;
    std::vector<departure> removed;  // entries that expired, users gone past their grace
};

struct room_stats {
    bool open = false;
    seq_t head = 0;
    seq_t last_seq = 0;
    std::int64_t waiting = 0;    // in line after opening (not admitted)
    std::int64_t pre_queue = 0;  // in the pre-queue
    std::int64_t active = 0;     // admitted, slot alive
    std::int64_t admitted_total = 0;
};

// What a room is made of when it is saved (the embedded journal) and restored after a restart.
struct saved_member {
    user_id user = 0;
    seq_t seq = 0;  // 0: pre-queue
    std::optional<time_point> admitted_until;
};
struct saved_room {
    bool open = false;
    seq_t head = 0;
    seq_t last_seq = 0;
    std::vector<saved_member> members;
};

class room {
public:
    room() = default;
    // The room as saved; every member counts as seen at `now` (their grace starts again).
    room(const saved_room& saved, time_point now);

    ticket join(user_id u, time_point now);
    // Where `u` stands (nullopt: not in the room); being asked counts as being seen.
    std::optional<ticket> status(user_id u, time_point now);
    // Out of the room, slot freed: the seq `u` had (nullopt when not in the room).
    std::optional<seq_t> leave(user_id u);
    // A stream of `u` opened or closed: while one is open, `u` is present (no grace runs).
    void attach(user_id u, time_point now);
    void detach(user_id u, time_point now);

    bool is_open() const { return open_; }
    // Opens the room: the pre-queue, shuffled by `seed`, takes seqs last_seq+1… in that order.
    // Returns who got which seq (empty if already open).
    std::vector<std::pair<user_id, seq_t>> open(std::uint64_t seed);

    tick_outcome tick(time_point now, const room_settings& s);

    // Whether `u` holds an alive slot under ticket `seq` at `now` (an entry token's check).
    bool admitted(user_id u, seq_t seq, time_point now) const;
    // Records that `u` made hold `hold` with their entry; false when they hold no alive slot
    // under `seq`.
    bool use(user_id u, seq_t seq, const std::string& hold, time_point now);
    // The holds made with alive slots: (user, hold), for the owner to check which have ended.
    std::vector<std::pair<user_id, std::string>> holds_in_use() const;
    // These holds ended; a user none of whose holds is left gives their slot back (they are
    // out of the room). Returns those users.
    std::vector<departure> holds_ended(const std::vector<std::pair<user_id, std::string>>& ended);

    room_stats stats() const;
    saved_room save() const;
    // Checks the room's invariants (one line per broken one): seqs unique and each in its
    // place, waiting seqs above the head and admitted ones at or below it, at most `max_active`
    // admitted, the counters and indexes agreeing with the members.
    std::vector<std::string> audit(std::int32_t max_active) const;

private:
    struct member {
        seq_t seq = 0;
        place where = place::waiting;
        time_point last_seen{};
        std::int32_t streams = 0;
        time_point admitted_until{};
        std::vector<std::string> holds;
    };

    ticket ticket_of(const member& m, bool created) const;
    void mark_away(user_id u, const member& m);
    void unmark_away(user_id u, const member& m);
    void remove(user_id u);
    void admit(user_id u, member& m, time_point until);

    bool open_ = false;
    seq_t head_ = 0;
    seq_t last_seq_ = 0;
    std::vector<user_id> by_seq_;  // by_seq_[seq - 1]: its user, 0 once they are gone
    std::vector<user_id> pre_;     // the pre-queue in join order (0: left)
    std::unordered_map<user_id, member> members_;
    std::set<std::pair<time_point, user_id>> away_;      // absent members by when last seen
    std::set<std::pair<time_point, user_id>> expiries_;  // admitted members' slot ends
    std::int64_t active_ = 0;
    std::int64_t pre_count_ = 0;
    std::int64_t admitted_total_ = 0;
    double allowance_ = 0;
    std::optional<time_point> last_tick_;
};

}  // namespace tkt::waiting_room
