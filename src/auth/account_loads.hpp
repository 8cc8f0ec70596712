#pragma once
// Account reads of authenticate() that miss the cache, batched (docs/benchmarks.md, session 7:
// a node meeting many users for the first time — an on-sale's joins — spent as much CPU waking
// a DB pool thread per read as on everything else). At most one batch is read at a time; every
// miss that comes meanwhile joins the next batch, which one DB job reads as a whole when the
// one in flight is done. Under load a batch carries many ids for one wake-up; alone, a miss
// costs what a single read did.
//
// Thread-safety: load() from any thread, concurrently. The batch's reader runs on the executor
// of whoever started it; waiters resume on their own executors.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/account_cache.hpp"
#include "db/database.hpp"

namespace tkt::auth {

class account_loads {
public:
    // What a batch found: the state of each id that exists (absent: no such account).
    using found = std::unordered_map<std::int64_t, account_state>;
    // Reads the given ids (on a DB thread, inside db::database::run).
    using reader =
        std::function<db::expected<found>(db::connection&, const std::vector<std::int64_t>&)>;

    // What a batch finds goes into `cache`, with the cache's generation taken before the read
    // (so a forget() meanwhile wins, account_cache.hpp).
    account_loads(db::database& db, account_cache& cache, const clock& clk, reader read);

    // The account's state (nullopt: no such account), or the database's error.
    boost::asio::awaitable<db::expected<std::optional<account_state>>> load(std::int64_t id);

    // Batches read so far and ids they carried (tests, metrics).
    std::uint64_t batches() const;
    std::uint64_t ids_read() const;

    struct batch;

private:
    boost::asio::awaitable<void> read_batches(std::shared_ptr<batch> first);

    db::database& db_;
    account_cache& cache_;
    const clock& clock_;
    reader read_;
    mutable std::mutex mutex_;
    std::shared_ptr<batch> open_;  // collecting ids while another batch is read
    bool reading_ = false;
    std::uint64_t batches_ = 0;
    std::uint64_t ids_read_ = 0;
};

}  // namespace tkt::auth
