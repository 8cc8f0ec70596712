#include "auth/account_loads.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tkt::auth {

namespace asio = boost::asio;

struct account_loads::batch {
    std::vector<std::int64_t> ids;
    std::mutex mutex;
    bool done = false;
    db::expected<found> result = found{};
    // Each waiter with the executor it resumes on.
    std::vector<std::pair<asio::any_io_executor, asio::any_completion_handler<void()>>> waiters;

    static void resume(asio::any_io_executor ex, asio::any_completion_handler<void()> h) {
        asio::post(ex, [h = std::move(h)]() mutable { std::move(h)(); });
    }

    // Resumes once the batch has been read (at once when it has).
    auto wait() {
        return asio::async_initiate<decltype(asio::use_awaitable), void()>(
            [this](auto handler) {
                asio::any_io_executor ex = asio::get_associated_executor(handler);
                std::unique_lock lock(mutex);
                if (!done) {
                    waiters.emplace_back(std::move(ex), std::move(handler));
                    return;
                }
                lock.unlock();
                resume(std::move(ex), std::move(handler));
            },
            asio::use_awaitable);
    }

    void complete(db::expected<found> r) {
        std::vector<std::pair<asio::any_io_executor, asio::any_completion_handler<void()>>> wake;
        {
            std::lock_guard lock(mutex);
            result = std::move(r);
            done = true;
            wake.swap(waiters);
        }
        for (auto& [ex, h] : wake) resume(std::move(ex), std::move(h));
    }
};

account_loads::account_loads(db::database& db, account_cache& cache, const clock& clk, reader read)
    : db_(db), cache_(cache), clock_(clk), read_(std::move(read)) {}

std::uint64_t account_loads::batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
}

std::uint64_t account_loads::ids_read() const {
    std::lock_guard lock(mutex_);
    return ids_read_;
}

asio::awaitable<db::expected<std::optional<account_state>>> account_loads::load(std::int64_t id) {
    std::shared_ptr<batch> mine;
    bool start = false;
    {
        std::lock_guard lock(mutex_);
        if (!open_) open_ = std::make_shared<batch>();
        mine = open_;
        mine->ids.push_back(id);
        if (!reading_) {
            reading_ = true;
            open_.reset();
            start = true;
        }
    }
    if (start) {
        // g++ 12: no co_await in the statement that passes `mine` by value to a coroutine.
        auto ex = co_await asio::this_coro::executor;
        auto reading = read_batches(mine);
        asio::co_spawn(ex, std::move(reading), asio::detached);
    }
    co_await mine->wait();
    // Read-only from here on: the batch is done and nobody writes it again.
    if (!mine->result) co_return std::unexpected(mine->result.error());
    auto it = mine->result->find(id);
    if (it == mine->result->end()) co_return std::optional<account_state>{};
    co_return std::optional<account_state>{it->second};
}

asio::awaitable<void> account_loads::read_batches(std::shared_ptr<batch> next) {
    while (next) {
        auto ids = next->ids;
        const auto generation = cache_.generation();
        db::expected<found> r = found{};
        try {
            // By reference: db::database::run copies its function inside a co_await, which g++
            // 12 destroys twice; a capture that owns memory would be freed twice.
            auto op = db_.run([this, &ids](db::connection& c) { return read_(c, ids); });
            r = co_await std::move(op);
        } catch (const std::exception& e) {
            r = std::unexpected(db::error{db::errc::io, e.what()});
        }
        if (r) {
            const auto now = clock_.now();
            for (const auto& [id, state] : *r) cache_.put(id, state, now, generation);
        }
        {
            std::lock_guard lock(mutex_);
            ++batches_;
            ids_read_ += ids.size();
        }
        next->complete(std::move(r));
        std::lock_guard lock(mutex_);
        next = std::exchange(open_, nullptr);
        if (!next) reading_ = false;
    }
}

}  // namespace tkt::auth
