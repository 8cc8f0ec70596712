#pragma once
// What this process remembers of the holds it made: each hold's event and owner, facts that never
// change once the hold exists. With them, releasing a hold is one UPDATE (the compare-and-set on
// its order's status) instead of a read then an UPDATE: the writer's one look-up per release
// (docs/benchmarks.md). Only ever a shortcut: a hold this process did not make (another node,
// a restart, a forgotten entry) is read from the database as before, and the UPDATE still
// decides whether the hold was there to release. Safe from every I/O thread at once.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tkt::booking {

struct hold_owner {
    std::int64_t event_id = 0;
    std::int64_t user_id = 0;
};

class hold_owners {
public:
    // At most `capacity` entries; a full table starts over (empty), which only sends releases
    // of the holds it knew back to the database read.
    explicit hold_owners(std::size_t capacity = 1 << 20) : capacity_(capacity) {}

    void remember(std::string_view hold_id, hold_owner owner);
    std::optional<hold_owner> find(std::string_view hold_id) const;
    // The hold ended (released, expired, paid for): nothing more to release through it.
    void forget(std::string_view hold_id);
    std::size_t size() const;

private:
    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    mutable std::mutex mutex_;
    std::unordered_map<std::string, hold_owner, string_hash, std::equal_to<>> owners_;
    std::size_t capacity_;
};

}  // namespace tkt::booking
